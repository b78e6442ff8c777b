"""The tolerance band: where the force should stay, relative to the patient's threshold."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Band:
    """A band [lo_n, hi_n] below the pressure pain threshold `ppt_n`."""

    lo_n: float
    hi_n: float
    ppt_n: float

    @classmethod
    def relative(cls, ppt_n: float, lo_frac: float = 0.75, hi_frac: float = 0.90) -> Band:
        """The default band: 75-90 % of the threshold (just below it)."""
        return cls(ppt_n * lo_frac, ppt_n * hi_frac, ppt_n)

    @property
    def centre_n(self) -> float:
        """Middle of the band: the force to aim for."""
        return 0.5 * (self.lo_n + self.hi_n)
