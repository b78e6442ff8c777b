"""Per-hold metrics: timing from the hold machine's zone runs, force statistics from samples.

Times (in band, above, below, over, unknown) are sums of zone intervals, each sample's zone
holding until the next sample. Force statistics are over the samples with start <= t < end,
one weight per sample, on the filtered force the decisions used.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from tpforce.core.events import HoldEnd


@dataclass(frozen=True, slots=True)
class HoldMetrics:
    """Everything known about one hold once it has ended."""

    index: int
    start_s: float
    end_s: float
    ended_by: HoldEnd
    manual: bool
    completed: bool
    completed_at_s: float | None
    target_s: float
    in_band_s: float
    in_band_pct: float
    contact_to_band_s: float | None  # from contact onset to the hold's start
    above_count: int  # excursions above the band (zones above and over)
    above_s: float
    below_count: int  # excursions below the band (in contact, or not for manual holds)
    below_s: float
    over_count: int  # crossings above the threshold during the hold
    over_s: float
    unknown_s: float  # gaps and NaN inside the hold: never counted as in band
    pressure_steps: int  # threshold re-marks during the hold
    samples: int
    mean_n: float
    sd_n: float
    cv: float  # sd / mean (a fraction; about 0.04 for a steady hand)
    rmse_n: float  # from the band centre in force at each sample
    max_n: float
    drift_n_per_s: float  # least-squares slope of force over the hold

    @property
    def duration_s(self) -> float:
        """End minus start."""
        return self.end_s - self.start_s

    @property
    def excursions(self) -> int:
        """Excursions out of the band, above and below."""
        return self.above_count + self.below_count

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready values (NaN becomes None)."""
        out: dict[str, object] = {}
        for key, value in asdict(self).items():
            if isinstance(value, HoldEnd):
                value = value.value
            elif isinstance(value, float) and not math.isfinite(value):
                value = None
            out[key] = value
        out["duration_s"] = self.duration_s
        out["excursions"] = self.excursions
        out["over_threshold_count"] = self.over_count
        return out


@dataclass(frozen=True, slots=True)
class ForceStats:
    """Sample statistics of the force over a hold."""

    samples: int
    mean_n: float
    sd_n: float
    cv: float
    rmse_n: float
    max_n: float
    drift_n_per_s: float


def force_stats(t_s: np.ndarray, force_n: np.ndarray, dev_n: np.ndarray) -> ForceStats:
    """Mean, SD, CV, RMSE from centre (`dev_n` = force - centre), max and drift slope."""
    ok = np.isfinite(force_n)
    if not ok.all():
        t_s, force_n, dev_n = t_s[ok], force_n[ok], dev_n[ok]
    n = len(force_n)
    if n == 0:
        nan = math.nan
        return ForceStats(0, nan, nan, nan, nan, nan, nan)
    mean = float(np.mean(force_n))
    sd = float(np.std(force_n, ddof=1)) if n > 1 else 0.0
    cv = sd / mean if mean > 0 else math.nan
    rmse = float(np.sqrt(np.mean(dev_n * dev_n)))
    drift = math.nan
    if n > 1:
        tc = t_s - np.mean(t_s)
        denom = float(np.sum(tc * tc))  # np.sum, not np.dot: no BLAS threads for a reduction
        if denom > 0:
            drift = float(np.sum(tc * (force_n - mean)) / denom)
    return ForceStats(n, mean, sd, cv, rmse, float(np.max(force_n)), drift)
