"""Force units as gauges print them, to newtons (1 kgf = 9.80665 N, 1 lbf = 4.4482216152605 N)."""

from __future__ import annotations

from tpforce.core.units import KGF_N, LBF_N

TO_NEWTONS: dict[str, float] = {
    "n": 1.0,
    "mn": 1e-3,  # gauges print mN as "MN" too: a meganewton is no hand force
    "kn": 1e3,
    "kg": KGF_N,
    "kgf": KGF_N,
    "g": KGF_N / 1000.0,
    "gf": KGF_N / 1000.0,
    "lb": LBF_N,
    "lbf": LBF_N,
    "lbs": LBF_N,
    "oz": LBF_N / 16.0,
    "ozf": LBF_N / 16.0,
}


def unit_factor(label: str) -> float:
    """Newtons per one `label` (case-insensitive); ValueError naming the known units."""
    key = label.strip().lower()
    try:
        return TO_NEWTONS[key]
    except KeyError:
        known = "N, mN, kN, kgf, gf, lbf, ozf"
        raise ValueError(f"unknown force unit {label!r}; use one of {known}") from None


def to_newtons(value: float, label: str) -> float:
    """`value` in unit `label`, in newtons."""
    return value * unit_factor(label)
