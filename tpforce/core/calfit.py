"""Fits a linear calibration to reference loads and runs the acceptance checks.

The procedure and thresholds are in calibration/README.md: non-linearity and hysteresis
below 0.5 % of the largest load, zero return within 0.2 % of full scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_NON_LINEARITY_PCT = 0.5
MAX_HYSTERESIS_PCT = 0.5
MAX_ZERO_RETURN_PCT = 0.2


@dataclass(frozen=True, slots=True)
class CalPoint:
    """One reading of the procedure: a known force and the mean counts it gave."""

    force_n: float
    mean_counts: float
    direction: str = "up"  # "up" while loading, "down" while unloading


@dataclass(frozen=True, slots=True)
class CalFit:
    """The fitted line and how well the cell followed it, in % of the largest load."""

    zero_counts: float
    n_per_count: float
    non_linearity_pct_fs: float
    hysteresis_pct_fs: float
    zero_return_pct_fs: float

    @property
    def problems(self) -> list[str]:
        """The acceptance checks that failed, as short sentences (empty: accepted)."""
        out = []
        if self.non_linearity_pct_fs > MAX_NON_LINEARITY_PCT:
            out.append(f"non-linearity {self.non_linearity_pct_fs:.2f} % FS exceeds "
                       f"{MAX_NON_LINEARITY_PCT} %")
        if self.hysteresis_pct_fs > MAX_HYSTERESIS_PCT:
            out.append(f"hysteresis {self.hysteresis_pct_fs:.2f} % FS exceeds "
                       f"{MAX_HYSTERESIS_PCT} %")
        if self.zero_return_pct_fs > MAX_ZERO_RETURN_PCT:
            out.append(f"zero return {self.zero_return_pct_fs:.2f} % FS exceeds "
                       f"{MAX_ZERO_RETURN_PCT} %")
        return out


def fit_linear(points: list[CalPoint]) -> CalFit:
    """Least-squares line through all points; raises ValueError if they cannot define one."""
    if len(points) < 2:
        raise ValueError("a calibration needs at least two points (zero and one load)")
    force = np.array([p.force_n for p in points], dtype=float)
    counts = np.array([p.mean_counts for p in points], dtype=float)
    if not (np.all(np.isfinite(force)) and np.all(np.isfinite(counts))):
        raise ValueError("a calibration point is not a finite number")
    if np.ptp(counts) == 0 or np.ptp(force) == 0:
        raise ValueError("the points do not span a range of loads")
    slope, intercept = np.polyfit(counts, force, 1)  # force = slope * counts + intercept
    zero_counts = -intercept / slope
    full_scale = float(np.max(np.abs(force)))
    residual = force - (slope * counts + intercept)
    non_lin = 100.0 * float(np.max(np.abs(residual))) / full_scale
    hyst = _hysteresis(points, slope) * 100.0 / full_scale
    zeros = [p for p in points if p.force_n == 0.0]
    zero_ret = 0.0
    if len(zeros) >= 2:
        zero_ret = abs(zeros[-1].mean_counts - zeros[0].mean_counts) * abs(slope)
        zero_ret *= 100.0 / full_scale
    return CalFit(float(zero_counts), float(slope), non_lin, hyst, zero_ret)


def _hysteresis(points: list[CalPoint], slope: float) -> float:
    """Largest up/down difference at the same force, in newtons."""
    up = {p.force_n: p.mean_counts for p in points if p.direction == "up"}
    down = {p.force_n: p.mean_counts for p in points if p.direction == "down"}
    diffs = [abs(up[f] - down[f]) * abs(slope) for f in up.keys() & down.keys()]
    return max(diffs, default=0.0)
