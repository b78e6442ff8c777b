"""The display's settings, kept between runs in QSettings (units, tip, band, target, sounds)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, cast

from PyQt5 import QtCore

from tpforce.core.band import BandPreset
from tpforce.core.units import Unit

ORGANISATION = "tpforce"
APPLICATION = "tpforce-live"
TARGETS_S = (15.0, 30.0, 60.0, 90.0)
GRACES_S = (0.5, 1.0, 2.0, 3.0)
HOLD_MODES = ("cumulative", "continuous")
TIP_AREAS_CM2 = (0.5, 1.0, 2.0)
WINDOWS_S = (15.0, 30.0, 60.0)
RANGES = {"target_s": (1.0, 3600.0), "tip_area_cm2": (0.1, 10.0), "window_s": (15.0, 60.0),
          "grace_s": (0.0, 10.0), "custom_lo_pct": (1.0, 100.0),
          "custom_hi_pct": (1.0, 100.0)}
"""What a stored number may be; anything else (inf, NaN, a typo) falls back to the default."""
SESSION_ONLY = frozenset({"muted", "alarm_sound"})
"""Never carried into the next run: every session starts with the alarm on and sound up."""


@dataclass(frozen=True, slots=True)
class LiveSettings:
    """What the therapist chose last time; defaults: docs/domain.md."""

    unit: str = Unit.N.value
    tip_area_cm2: float = 1.0  # the standard algometer tip (DFNS)
    band_preset: str = BandPreset.BELOW_THRESHOLD.value
    target_s: float = 30.0  # single holds are often 10-30 s
    window_s: float = 30.0
    hold_mode: str = "cumulative"  # the therapist's hold; continuous for research protocols
    grace_s: float = 1.0
    custom_lo_pct: float = 75.0  # the custom band, in % of the PPT
    custom_hi_pct: float = 90.0
    muted: bool = False
    band_cue: bool = True
    hold_chime: bool = True
    alarm_sound: bool = True
    pitch: bool = False

    @property
    def unit_enum(self) -> Unit:
        """The display unit as an enum (N if the stored one is unknown)."""
        try:
            return Unit.parse(self.unit)
        except ValueError:
            return Unit.N

    def with_(self, **changes: object) -> LiveSettings:
        """A copy with some fields changed."""
        return replace(self, **cast(dict[str, Any], changes))


def open_store(path: Path | None = None) -> QtCore.QSettings:
    """The settings store: an INI file at `path`, or the user's tpforce settings."""
    if path is not None:
        return QtCore.QSettings(str(path), QtCore.QSettings.IniFormat)
    return QtCore.QSettings(QtCore.QSettings.IniFormat, QtCore.QSettings.UserScope,
                            ORGANISATION, APPLICATION)


def load(store: QtCore.QSettings) -> LiveSettings:
    """Read the settings, falling back to the default for anything missing or malformed."""
    default = LiveSettings()
    values: dict[str, object] = {}
    for f in fields(LiveSettings):
        fallback = getattr(default, f.name)
        raw = fallback if f.name in SESSION_ONLY else store.value(f"live/{f.name}", fallback)
        try:
            if isinstance(fallback, bool):
                values[f.name] = raw if isinstance(raw, bool) else \
                    str(raw).strip().lower() in ("true", "1", "yes", "on")
            elif isinstance(fallback, float):
                value = float(raw)
                lo, hi = RANGES.get(f.name, (0.0, math.inf))
                values[f.name] = value if lo <= value <= hi else fallback
            else:
                values[f.name] = str(raw)
        except (TypeError, ValueError):
            values[f.name] = fallback
    settings = LiveSettings(**values)  # type: ignore[arg-type]
    try:
        BandPreset.parse(settings.band_preset)
    except ValueError:
        settings = settings.with_(band_preset=default.band_preset)
    if settings.window_s not in WINDOWS_S:
        settings = settings.with_(window_s=default.window_s)
    if settings.hold_mode not in HOLD_MODES:
        settings = settings.with_(hold_mode=default.hold_mode)
    if settings.custom_lo_pct >= settings.custom_hi_pct:
        settings = settings.with_(custom_lo_pct=default.custom_lo_pct,
                                  custom_hi_pct=default.custom_hi_pct)
    return settings.with_(unit=settings.unit_enum.value)


def save(store: QtCore.QSettings, settings: LiveSettings) -> None:
    """Write every setting and flush to disk."""
    for name, value in asdict(settings).items():
        if name not in SESSION_ONLY:
            store.setValue(f"live/{name}", value)
    store.sync()
