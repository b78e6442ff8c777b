"""Front and back body outlines and the fixed places of the common trigger-point sites.

Each figure is drawn in a 200 x 440 box, centre line at x = 100. A site is placed by its
distance from the centre line towards the patient's right (`dx`) and its height (`y`): in the
front view the patient's right is on the viewer's left, in the back view on the viewer's right.
"""

from __future__ import annotations

WIDTH, HEIGHT, CENTRE = 200, 440, 100

# One outline serves both views (a body seen from the front and from the back has the same
# silhouette); the app draws the views' distinguishing marks (face, spine) on top.
OUTLINE = (
    "M100 8 C86 8 78 18 78 32 C78 46 86 56 100 56 C114 56 122 46 122 32 C122 18 114 8 100 8 Z "
    "M92 56 L92 66 C70 68 52 72 44 84 L34 150 L26 250 L36 252 L48 160 L56 120 L58 200 "
    "L62 224 L64 330 L66 420 L92 420 L94 330 L98 240 L102 240 L106 330 L108 420 L134 420 "
    "L136 330 L138 224 L142 200 L144 120 L152 160 L164 252 L174 250 L166 150 L156 84 "
    "C148 72 130 68 108 66 L108 56 Z"
)
FRONT_MARKS = "M92 30 L93 30 M107 30 L108 30 M95 44 C98 46 102 46 105 44"
BACK_MARKS = "M100 70 L100 215"

# site -> (view, dx towards the patient's right, y)
SITES: dict[str, tuple[str, float, float]] = {
    "upper trapezius": ("back", 30, 72),
    "levator scapulae": ("back", 20, 62),
    "suboccipitals": ("back", 8, 48),
    "supraspinatus": ("back", 38, 82),
    "infraspinatus": ("back", 36, 106),
    "rhomboids": ("back", 16, 100),
    "quadratus lumborum": ("back", 20, 190),
    "lumbar paraspinals": ("back", 8, 178),
    "gluteus medius": ("back", 32, 214),
    "gluteus minimus": ("back", 38, 228),
    "piriformis": ("back", 20, 234),
    "gastrocnemius": ("back", 22, 345),
    "soleus": ("back", 22, 378),
    "temporalis": ("front", 17, 22),
    "masseter": ("front", 12, 38),
    "sternocleidomastoid": ("front", 8, 62),
    "scalenes": ("front", 18, 68),
    "pectoralis major": ("front", 28, 98),
    "tensor fasciae latae": ("front", 38, 226),
    "vastus lateralis": ("front", 36, 290),
    "tibialis anterior": ("front", 24, 362),
}


def site_key(site: str) -> str:
    """'Upper_Trapezius' -> 'upper trapezius'."""
    return " ".join(site.lower().replace("_", " ").replace("-", " ").split())


def place(site: str, side: str) -> tuple[str, float, float] | None:
    """(view, x, y) of a site and side on its figure, None for a site not on the chart.

    A point without a side, or on the midline, is drawn on the centre line."""
    found = SITES.get(site_key(site))
    if found is None:
        return None
    view, dx, y = found
    if side not in ("L", "R"):
        return view, CENTRE, y
    towards_viewer_left = (side == "R") == (view == "front")
    return view, CENTRE - dx if towards_viewer_left else CENTRE + dx, y
