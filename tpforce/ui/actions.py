"""The window's commands: keys a USB foot pedal can type, and the settings menus.

Every command is a QAction with a single-key shortcut on the window, and no widget takes
keyboard focus, so Space, T, H, N, R and F11 work whatever was clicked last.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PyQt5 import QtCore, QtGui, QtWidgets

from tpforce.core.band import BandPreset
from tpforce.core.units import Unit
from tpforce.ui.settings import GRACES_S, HOLD_MODES, TARGETS_S, TIP_AREAS_CM2, LiveSettings

PRESET_NAMES = {
    BandPreset.BELOW_THRESHOLD: "just below threshold (75-90 % PPT)",
    BandPreset.HOU_P1: "Hou P1: at threshold (90-100 % PPT)",
    BandPreset.HOU_P2: "Hou P2: midway to tolerance",
    BandPreset.CUSTOM: "custom",
}


@dataclass(frozen=True, slots=True)
class Key:
    """One keyboard command: its name, key and what it does."""

    name: str
    key: str
    text: str


KEYS = (
    Key("mark", "Space", "Mark threshold (PPT)"),
    Key("tare", "T", "Tare (probe at rest)"),
    Key("tare_anyway", "Shift+T", "Tare anyway (a probe preloaded by design)"),
    Key("tolerance", "O", "Mark pain tolerance (Hou P2 band)"),
    Key("delete", "Backspace", "Delete the last trial"),
    Key("phase", "P", "Next phase (baseline trials, treatment, after trials)"),
    Key("hold", "H", "Start / stop hold"),
    Key("next", "N", "Next point"),
    Key("record", "R", "Record on / off"),
    Key("fullscreen", "F11", "Full screen"),
    Key("mute", "M", "Mute sound"),
    Key("unit", "U", "Next unit"),
)


def key_actions(window: QtWidgets.QMainWindow, handlers: dict[str, Callable[[], None]]
                ) -> dict[str, QtWidgets.QAction]:
    """One action per key on the window (and in a 'Session' menu), wired to its handler."""
    menu = window.menuBar().addMenu("&Session")
    actions: dict[str, QtWidgets.QAction] = {}
    for key in KEYS:
        action = QtWidgets.QAction(key.text, window)
        action.setShortcut(QtGui.QKeySequence(key.key))
        action.setShortcutContext(QtCore.Qt.WindowShortcut)
        action.setAutoRepeat(False)  # a held key or foot pedal acts once, not ten times
        action.setCheckable(key.name in ("mute", "record", "fullscreen"))
        action.triggered.connect(handlers[key.name])
        window.addAction(action)
        menu.addAction(action)
        actions[key.name] = action
    return actions


def _float(value: object) -> float:
    """A menu action's data as a float (menus hold only numbers they were given)."""
    return float(str(value))


def _submenu(menu: QtWidgets.QMenu, title: str) -> QtWidgets.QMenu:
    sub = menu.addMenu(title)
    assert sub is not None
    return sub


def parse_band(text: str) -> tuple[float, float]:
    """'70-85' or '70 85' (% of PPT) as (lo, hi); ValueError with the fix otherwise."""
    parts = text.replace("-", " ").replace(",", " ").split()
    try:
        lo, hi = (float(x) for x in parts)
    except ValueError:
        raise ValueError(f"type the band as two numbers, like 70-85, not {text!r}") from None
    if not 0 < lo < hi <= 100:
        raise ValueError(f"a band is two numbers from 0 to 100 with the lower first, not {text}")
    return lo, hi


def _group(menu: QtWidgets.QMenu, owner: QtCore.QObject,
           choices: Sequence[tuple[str, object]],
           current: object, on_pick: Callable[[object], None]) -> QtWidgets.QActionGroup:
    group = QtWidgets.QActionGroup(owner)
    group.setExclusive(True)
    for text, value in choices:
        action = menu.addAction(text)
        action.setCheckable(True)
        action.setChecked(value == current)
        action.setData(value)
        group.addAction(action)
    group.triggered.connect(lambda a: on_pick(a.data()))
    return group


def settings_menu(window: QtWidgets.QMainWindow, settings: LiveSettings,
                  apply: Callable[..., None]) -> dict[str, QtWidgets.QActionGroup]:
    """The 'Settings' menu: units, tip area, band preset, target, window, sounds."""
    bar = window.menuBar()
    assert bar is not None
    menu = bar.addMenu("Se&ttings")
    assert menu is not None
    groups: dict[str, QtWidgets.QActionGroup] = {}
    units = [(u.value, u.value) for u in Unit]
    groups["unit"] = _group(_submenu(menu, "Units"), window, units, settings.unit,
                            lambda v: apply(unit=v))
    tips = [(f"tip {a:g} cm²", a) for a in TIP_AREAS_CM2]
    groups["tip"] = _group(_submenu(menu, "Tip area"), window, tips, settings.tip_area_cm2,
                           lambda v: apply(tip_area_cm2=_float(v)))
    presets = [(PRESET_NAMES[p], p.value) for p in BandPreset]
    groups["preset"] = _group(_submenu(menu, "Band preset"), window, presets,
                              settings.band_preset, lambda v: apply(band_preset=v))
    custom = menu.addAction("Custom band (% of PPT)…")
    assert custom is not None
    custom.triggered.connect(lambda: _ask_band(window, settings, apply))
    targets = [(f"{t:.0f} s", t) for t in TARGETS_S]
    groups["target"] = _group(_submenu(menu, "Hold target"), window, targets,
                              settings.target_s, lambda v: apply(target_s=_float(v)))
    modes = [(f"{m}", m) for m in HOLD_MODES]
    groups["mode"] = _group(_submenu(menu, "Hold mode"), window, modes, settings.hold_mode,
                            lambda v: apply(hold_mode=str(v)))
    graces = [(f"grace {g:g} s", g) for g in GRACES_S]
    groups["grace"] = _group(_submenu(menu, "Grace"), window, graces, settings.grace_s,
                             lambda v: apply(grace_s=_float(v)))
    spans = [(f"last {s} s", float(s)) for s in (15, 30, 60)]
    groups["window"] = _group(_submenu(menu, "Trace"), window, spans, settings.window_s,
                              lambda v: apply(window_s=_float(v)))
    sounds = _submenu(menu, "Sounds")
    for name, text in (("band_cue", "Cue on entering the band"),
                       ("hold_chime", "Chime at hold complete"),
                       ("alarm_sound", "Alarm over threshold / signal lost"),
                       ("pitch", "Continuous pitch in the band")):
        action = sounds.addAction(text)
        assert action is not None
        action.setCheckable(True)
        action.setChecked(bool(getattr(settings, name)))
        action.toggled.connect(lambda on, n=name: apply(**{n: on}))
    return groups


def _ask_band(window: QtWidgets.QWidget, settings: LiveSettings,
              apply: Callable[..., None]) -> None:
    """Ask for a custom band in % of the PPT and use it (a bad entry is said, not applied)."""
    current = f"{settings.custom_lo_pct:g}-{settings.custom_hi_pct:g}"
    text, ok = QtWidgets.QInputDialog.getText(window, "Custom band",
                                              "band in % of the PPT (low-high):", text=current)
    if not ok:
        return
    try:
        lo, hi = parse_band(text)
    except ValueError as exc:
        QtWidgets.QMessageBox.warning(window, "Custom band", str(exc))
        return
    apply(band_preset=BandPreset.CUSTOM.value, custom_lo_pct=lo, custom_hi_pct=hi)
