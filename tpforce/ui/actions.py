"""The window's commands: keys a USB foot pedal can type, and the settings menus.

Every command is a QAction with a single-key shortcut on the window, and no widget takes
keyboard focus, so Space, T, H, N, R and F11 work whatever was clicked last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PyQt5 import QtCore, QtGui, QtWidgets

from tpforce.core.band import BandPreset
from tpforce.core.units import Unit
from tpforce.ui.settings import TARGETS_S, TIP_AREAS_CM2, LiveSettings

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


def _group(menu: QtWidgets.QMenu, owner: QtCore.QObject, choices: list[tuple[str, object]],
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
    menu = window.menuBar().addMenu("Se&ttings")
    groups: dict[str, QtWidgets.QActionGroup] = {}
    units = [(u.value, u.value) for u in Unit]
    groups["unit"] = _group(menu.addMenu("Units"), window, units, settings.unit,
                            lambda v: apply(unit=v))
    tips = [(f"tip {a:g} cm²", a) for a in TIP_AREAS_CM2]
    groups["tip"] = _group(menu.addMenu("Tip area"), window, tips, settings.tip_area_cm2,
                           lambda v: apply(tip_area_cm2=float(v)))
    presets = [(PRESET_NAMES[p], p.value) for p in BandPreset]
    groups["preset"] = _group(menu.addMenu("Band preset"), window, presets,
                              settings.band_preset, lambda v: apply(band_preset=v))
    targets = [(f"{t:.0f} s", t) for t in TARGETS_S]
    groups["target"] = _group(menu.addMenu("Hold target"), window, targets, settings.target_s,
                              lambda v: apply(target_s=float(v)))
    spans = [(f"last {s} s", float(s)) for s in (15, 30, 60)]
    groups["window"] = _group(menu.addMenu("Trace"), window, spans, settings.window_s,
                              lambda v: apply(window_s=float(v)))
    sounds = menu.addMenu("Sounds")
    for name, text in (("band_cue", "Cue on entering the band"),
                       ("hold_chime", "Chime at hold complete"),
                       ("alarm_sound", "Alarm over threshold / signal lost"),
                       ("pitch", "Continuous pitch in the band")):
        action = sounds.addAction(text)
        action.setCheckable(True)
        action.setChecked(bool(getattr(settings, name)))
        action.toggled.connect(lambda on, n=name: apply(**{n: on}))
    return groups
