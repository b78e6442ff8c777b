"""Low-lag smoothing for display and decisions: a causal moving average over a time window.

Why this filter: it is linear, so it runs vectorised over whole batches; it is defined in
seconds, so one setting suits 10, 80 or 1000 SPS; and its lag is known. For a window of
`window_s` the samples in (t - window_s, t] are averaged; with N of them evenly spaced by dt
the group delay is (N - 1) dt / 2, never more than window_s / 2. The default 40 ms window gives
18.75 ms at 80 SPS (N = 4; -3 dB at 8.9 Hz, null at 20 Hz, tremor at 10 Hz kept at 65 %) and
19.5 ms at 1 kHz (N = 40; -3 dB near 11 Hz, null at 25 Hz). At 10 SPS the window holds one
sample: no smoothing, no lag.

The average restarts after a gap (GAP_BEFORE) and after a NaN, so it never mixes samples
across lost data, and a NaN sample stays NaN (unknown). Sums are a running total carried
from batch to batch, so any chunking of the same samples gives bit-identical output.
"""

from __future__ import annotations

import math
from bisect import bisect_right

import numpy as np

from tpforce.core.samples import SampleFlag

DEFAULT_WINDOW_S = 0.04
_RESTART_FLAGS = int(SampleFlag.GAP_BEFORE | SampleFlag.RESET_BEFORE)  # as a plain int
_isfinite = math.isfinite


def group_delay_s(window_s: float, rate_sps: float) -> float:
    """Group delay of the moving average for evenly spaced samples at `rate_sps`."""
    n = max(1, int(np.ceil(window_s * rate_sps - 1e-9)))
    return (n - 1) / (2.0 * rate_sps)


class MovingAverage:
    """Streaming causal moving average over `window_s` seconds (0 turns it off)."""

    def __init__(self, window_s: float = DEFAULT_WINDOW_S) -> None:
        self.window_s = float(window_s)
        self.reset()

    def reset(self) -> None:
        """Forget all history, as at the start of a stream."""
        self._total = 0.0  # running sum of finite samples so far
        self._count = 0  # samples seen so far (global index of the next one)
        self._seg_start = 0  # global index where the current segment began
        self._prev_nan = False
        # The tail as lists: a small batch steps over them in Python without array calls.
        self._tail_t: list[float] = []
        self._tail_before: list[float] = []  # running sum before each tail sample
        self._tail_sorted = True  # tail times strictly increase (the scalar path needs it)

    def process(self, t_s: np.ndarray, x: np.ndarray, flags: np.ndarray | None = None
                ) -> np.ndarray:
        """Filtered values of `x` at times `t_s` (flags: SampleFlag bits, for gaps)."""
        n = len(x)
        if n == 0 or self.window_s <= 0:
            return np.array(x, dtype=np.float64, copy=True)
        x = np.asarray(x, dtype=np.float64)
        bad = ~np.isfinite(x)
        boundary = bad.copy()
        boundary[1:] |= bad[:-1]
        boundary[0] |= self._prev_nan
        if flags is not None:
            boundary |= (flags & _RESTART_FLAGS) != 0
        m = len(self._tail_t)
        g0 = self._count - m  # global index of the first extended sample
        acc = np.empty(n + 1)
        acc[0] = self._total
        acc[1:] = np.where(bad, 0.0, x)
        np.cumsum(acc, out=acc)  # sequential: chunking never changes the sums
        ext_t = np.concatenate((np.array(self._tail_t, dtype=np.float64), t_s))
        ext_before = np.concatenate((np.array(self._tail_before, dtype=np.float64), acc[:-1]))
        e = np.arange(m, m + n)
        seg = np.where(boundary, e, self._seg_start - g0)
        np.maximum.accumulate(seg, out=seg)
        start = np.searchsorted(ext_t, t_s - self.window_s, side="right")
        np.clip(start, seg, e, out=start)
        y = (acc[1:] - ext_before[start]) / (e - start + 1)
        y[bad] = np.nan
        # carry state
        self._total = float(acc[-1])
        self._count += n
        self._seg_start = int(seg[-1]) + g0
        self._prev_nan = bool(bad[-1])
        keep = int(np.searchsorted(ext_t, ext_t[-1] - self.window_s, side="right"))
        keep = min(keep, m + n - 1)
        tail = ext_t[keep:]
        self._tail_t = tail.tolist()
        self._tail_before = ext_before[keep:].tolist()
        self._tail_sorted = bool(np.all(tail[1:] > tail[:-1]))
        return y

    def process_list(self, t_s: list[float], x: list[float], restart: list[bool]
                     ) -> list[float] | None:
        """`process` for a few samples as lists (`restart`: gap or reset before each), in
        Python: the same sums in the same order, so the same floats. None, with nothing
        changed, when the times do not strictly increase (then call `process`)."""
        n = len(x)
        if n == 0 or self.window_s <= 0:
            return list(x)
        tail_t = self._tail_t
        prev_t = tail_t[-1] if tail_t else -math.inf
        if not self._tail_sorted:
            return None
        for ti in t_s:
            if not ti > prev_t:  # also refuses NaN: bisect needs sorted times
                return None
            prev_t = ti
        w = self.window_s
        m = len(tail_t)
        g0 = self._count - m
        ext_t = tail_t + t_s
        ext_before = self._tail_before + [0.0] * n
        seg = self._seg_start - g0
        prev_nan = self._prev_nan
        total = self._total
        nan = np.nan
        y: list[float] = []
        for i in range(n):
            xi = x[i]
            e = m + i
            bad = not _isfinite(xi)
            if bad or prev_nan or restart[i]:
                seg = e
            ext_before[e] = total
            total = total + (0.0 if bad else xi)  # as the array path: NaN adds a 0.0
            start = bisect_right(ext_t, t_s[i] - w)
            if start < seg:
                start = seg
            if start > e:
                start = e
            y.append(nan if bad else (total - ext_before[start]) / (e - start + 1))
            prev_nan = bad
        self._total = total
        self._count += n
        self._seg_start = seg + g0
        self._prev_nan = prev_nan
        keep = min(bisect_right(ext_t, ext_t[-1] - w), m + n - 1)
        self._tail_t = ext_t[keep:]
        self._tail_before = ext_before[keep:]
        return y


class Despike:
    """Causal median of the last three samples: a single-sample glitch never decides.

    A one-sample spike (a bit error, a knock on the cable) is replaced by its neighbours; a
    push lasting two samples passes, one sample late (12.5 ms at 80 SPS, 1 ms at 1 kHz).
    The window restarts after a gap or NaN: its first two samples pass as they are. The two
    samples carried from batch to batch make any chunking give identical output.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the carried samples."""
        self._tail = [math.nan, math.nan]
        self._tail_restart = [False, False]

    def process(self, x: np.ndarray, flags: np.ndarray | None = None) -> np.ndarray:
        """The despiked values of `x` (flags: SampleFlag bits, for gaps)."""
        n = len(x)
        x = np.asarray(x, dtype=np.float64)
        if n == 0:
            return x.copy()
        restart = (np.zeros(n, dtype=bool) if flags is None
                   else (flags & _RESTART_FLAGS) != 0)
        ext = np.concatenate((np.array(self._tail, dtype=np.float64), x))
        rext = np.concatenate((np.array(self._tail_restart, dtype=bool), restart))
        a, b, c = ext[:-2], ext[1:-1], ext[2:]
        with np.errstate(invalid="ignore"):
            med = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
        valid = np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & ~rext[2:] & ~rext[1:-1]
        y = np.where(valid, med, x)
        self._tail = ext[-2:].tolist()
        self._tail_restart = rext[-2:].tolist()
        return y

    def process_list(self, x: list[float], restart: list[bool]) -> list[float] | None:
        """`process` for a few samples as lists, in Python: a median is one of its three
        values, so the same float. None, with nothing changed, when +0 and -0 meet in a
        median (then call `process`)."""
        a, b = self._tail
        ra, rb = self._tail_restart
        y: list[float] = []
        for c, rc in zip(x, restart, strict=True):
            if not rc and not rb and _isfinite(a) and _isfinite(b) and _isfinite(c):
                if (a == 0.0 or b == 0.0 or c == 0.0) and len(
                        {math.copysign(1.0, v) for v in (a, b, c) if v == 0.0}) > 1:
                    return None  # +0 and -0 tie: which one min/max picks is not defined
                y.append(max(min(a, b), min(max(a, b), c)))
            else:
                y.append(c)
            a, b, ra, rb = b, c, rb, rc
        self._tail, self._tail_restart = [a, b], [ra, rb]
        return y
