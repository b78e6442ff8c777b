"""Threshold capture: the peak force just before the patient's mark, and the ramp rate.

A pressure algometry trial (docs/domain.md): the therapist ramps the force at about 5 N/s
(50 kPa/s on 1 cm^2, DFNS) until the patient signals; the PPT is the peak force within
`mark_window_s` (default 0.5 s) before the mark, which absorbs the reaction time
(about 200-250 ms). The ramp rate is checked against the target with a tolerance, since
faster ramps give higher thresholds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tpforce.core.units import pressure_kpa


class History:
    """The last `keep_s` seconds of (time, force), appended in batches, amortised O(1)."""

    def __init__(self, keep_s: float = 30.0, capacity: int = 4096) -> None:
        self.keep_s = keep_s
        self._t = np.empty(capacity)
        self._f = np.empty(capacity)
        self._n = 0

    def append(self, t_s: np.ndarray, force_n: np.ndarray) -> None:
        """Add samples; drops those older than `keep_s` before the newest when room runs out."""
        k = len(t_s)
        if k == 0:
            return
        if self._n + k > len(self._t):
            newest = t_s[-1]
            cut = int(np.searchsorted(self._t[: self._n], newest - self.keep_s))
            live = self._n - cut
            size = max(len(self._t), 2 * (live + k))
            t_new, f_new = np.empty(size), np.empty(size)
            t_new[:live], f_new[:live] = self._t[cut : self._n], self._f[cut : self._n]
            self._t, self._f, self._n = t_new, f_new, live
        self._t[self._n : self._n + k] = t_s
        self._f[self._n : self._n + k] = force_n
        self._n += k

    def between(self, t0_s: float, t1_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Views of the samples with t0_s <= t <= t1_s."""
        t = self._t[: self._n]
        i0 = int(t.searchsorted(t0_s, "left"))
        i1 = int(t.searchsorted(t1_s, "right"))
        return t[i0:i1], self._f[i0:i1]

    @property
    def last_f(self) -> float:
        """The newest force (NaN when empty)."""
        return float(self._f[self._n - 1]) if self._n else math.nan

    @property
    def last_t_s(self) -> float:
        """Time of the newest sample (NaN when empty)."""
        return float(self._t[self._n - 1]) if self._n else math.nan


@dataclass(frozen=True, slots=True)
class Trial:
    """One threshold (or tolerance) mark: the peak, when it was, and the ramp that led to it."""

    t_s: float
    peak_n: float
    peak_t_s: float
    ramp_n_per_s: float  # mean rate from contact onset to the peak (NaN if unknown)
    ramp_ok: bool | None  # within tolerance of the target (None if unknown)

    def ramp_kpa_per_s(self, tip_area_cm2: float = 1.0) -> float:
        """The ramp rate as a pressure rate on the tip."""
        return float(pressure_kpa(self.ramp_n_per_s, tip_area_cm2))


@dataclass(frozen=True, slots=True)
class RampSpec:
    """The ramp the protocol asks for: target rate and relative tolerance."""

    target_n_per_s: float = 5.0
    tolerance_frac: float = 0.2

    def ok(self, rate_n_per_s: float) -> bool | None:
        """True when `rate_n_per_s` is within tolerance of the target (None if unknown)."""
        if not math.isfinite(rate_n_per_s):
            return None
        return abs(rate_n_per_s - self.target_n_per_s) <= self.tolerance_frac * self.target_n_per_s


def capture(history: History, mark_t_s: float, window_s: float, contact_n: float,
            ramp: RampSpec) -> Trial | None:
    """The trial a mark at `mark_t_s` records, or None when no force was seen in the window."""
    t, f = history.between(mark_t_s - window_s, mark_t_s)
    ok = np.isfinite(f)
    if not ok.any():
        return None
    i = int(np.argmax(np.where(ok, f, -np.inf)))
    peak, peak_t = float(f[i]), float(t[i])
    rate = ramp_rate(history, peak_t, peak, contact_n)
    return Trial(mark_t_s, peak, peak_t, rate, ramp.ok(rate))


def ramp_rate(history: History, peak_t_s: float, peak_n: float, contact_n: float) -> float:
    """Mean rate (N/s) from the last time the force was below contact to the peak."""
    t, f = history.between(peak_t_s - history.keep_s, peak_t_s)
    below = np.flatnonzero(~(f >= contact_n))  # NaN counts as no contact
    if len(below) == 0 or below[-1] + 1 >= len(t) or peak_n <= contact_n:
        return math.nan
    j = int(below[-1]) + 1  # first sample in contact on the way up
    dt = peak_t_s - float(t[j])
    return (peak_n - float(f[j])) / dt if dt > 0 else math.nan


def live_rate(history: History, span_s: float = 0.25) -> float:
    """Current force rate (N/s): the change over the last `span_s`, for the ramp monitor."""
    t_last = history.last_t_s
    if math.isnan(t_last):
        return math.nan
    t, f = history.between(t_last - span_s, t_last)
    if len(t) < 2 or t[-1] <= t[0]:
        return math.nan
    return float((f[-1] - f[0]) / (t[-1] - t[0]))
