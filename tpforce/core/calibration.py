"""Counts to newtons: a linear calibration with a zero that can be re-taken (tare)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tpforce.core.samples import SampleFlag

KGF_N = 9.80665
LBF_N = 4.4482216152605


@dataclass(frozen=True, slots=True)
class Calibration:
    """`force_n = (raw - zero_counts) * n_per_count`; saturated samples become NaN."""

    zero_counts: float = 0.0
    n_per_count: float = 1.0
    tip_area_cm2: float = 1.0
    serial: str = ""

    def apply(self, batch: np.ndarray) -> None:
        """Fill `batch['force_n']` in place from `batch['raw']`."""
        force = (batch["raw"] - self.zero_counts) * self.n_per_count
        bad = (batch["flags"] & SampleFlag.SATURATED) != 0
        if bad.any():
            force[bad] = np.nan
        batch["force_n"] = force

    def tared(self, raw_at_rest: np.ndarray) -> Calibration:
        """The same calibration with its zero at the mean of `raw_at_rest`."""
        return replace(self, zero_counts=float(np.mean(raw_at_rest)))
