"""The tolerance band: where the force should stay, relative to the patient's threshold.

Presets (docs/domain.md): below threshold 75-90 % of PPT (the product default), Hou et al. 2002 P1
"at PPT" (90-100 %), Hou P2 "midway between PPT and pain tolerance", and custom (fractions of
PPT or absolute newtons).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Band:
    """A band [lo_n, hi_n] and the threshold `ppt_n`; above `limit_n` (default PPT) is 'over'."""

    lo_n: float
    hi_n: float
    ppt_n: float
    limit_n: float | None = None  # over-threshold alarm level; Hou P2 sets it to the tolerance

    @classmethod
    def relative(cls, ppt_n: float, lo_frac: float = 0.75, hi_frac: float = 0.90) -> Band:
        """The default band: 75-90 % of the threshold (just below it)."""
        return cls(ppt_n * lo_frac, ppt_n * hi_frac, ppt_n)

    @classmethod
    def absolute(cls, lo_n: float, hi_n: float, ppt_n: float | None = None) -> Band:
        """A band in newtons; without a PPT, the top of the band is the alarm level."""
        if not lo_n <= hi_n:
            raise ValueError(f"band low {lo_n} N is above band high {hi_n} N")
        return cls(lo_n, hi_n, hi_n if ppt_n is None else ppt_n)

    @property
    def centre_n(self) -> float:
        """Middle of the band: the force to aim for."""
        return 0.5 * (self.lo_n + self.hi_n)

    @property
    def over_n(self) -> float:
        """Force above which the over-threshold alarm sounds."""
        return self.ppt_n if self.limit_n is None else self.limit_n


class BandPreset(enum.Enum):
    """The band presets offered to the therapist."""

    BELOW_THRESHOLD = "below_threshold"
    HOU_P1 = "hou_p1"
    HOU_P2 = "hou_p2"
    CUSTOM = "custom"

    @classmethod
    def parse(cls, name: str | BandPreset) -> BandPreset:
        """A preset from its name ('hou_p1', 'Hou P1', 'below-threshold', ...)."""
        if isinstance(name, BandPreset):
            return name
        key = name.strip().lower().replace("-", "_").replace(" ", "_")
        for preset in cls:
            if preset.value == key:
                return preset
        raise ValueError(f"unknown band preset {name!r}; use one of "
                         f"{', '.join(p.value for p in cls)}")


def band_for(
    preset: BandPreset | str,
    ppt_n: float,
    tolerance_n: float | None = None,
    lo_frac: float = 0.75,
    hi_frac: float = 0.90,
    absolute_n: tuple[float, float] | None = None,
) -> Band | None:
    """The band a preset gives for this threshold; None if it cannot be made (no PPT/tolerance).

    CUSTOM uses `absolute_n` (lo, hi in N) if given, else `lo_frac`-`hi_frac` of PPT.
    HOU_P2 spans the middle fifth between PPT and tolerance (40-60 %) and alarms above the
    tolerance, since its band lies above the threshold by design.
    """
    preset = BandPreset.parse(preset)
    if preset is BandPreset.CUSTOM and absolute_n is not None:
        return Band.absolute(absolute_n[0], absolute_n[1], None if math.isnan(ppt_n) else ppt_n)
    if not math.isfinite(ppt_n) or ppt_n <= 0:
        return None
    if preset is BandPreset.BELOW_THRESHOLD:
        return Band.relative(ppt_n, 0.75, 0.90)
    if preset is BandPreset.HOU_P1:
        return Band.relative(ppt_n, 0.90, 1.00)
    if preset is BandPreset.HOU_P2:
        if tolerance_n is None or not tolerance_n > ppt_n:
            return None
        span = tolerance_n - ppt_n
        return Band(ppt_n + 0.4 * span, ppt_n + 0.6 * span, ppt_n, tolerance_n)
    return Band.relative(ppt_n, lo_frac, hi_frac)
