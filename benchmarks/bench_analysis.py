"""Analysis throughput: calibration, despike, filter, band and hold over a 1 kHz recording,
in both hold modes (cumulative, the default, and continuous).

The core is measured on a one-hour recording (3.6 M samples) in one batch, as
`tpforce analyze` and replays run it, and in 1000-sample chunks, as the live reader feeds
it; the baseline is a per-sample Python loop doing the same job (calibrate, 40 ms moving
average, zones, hold with grace and target), timed on a slice of the same recording.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from benchmarks.common import make_recording, median_time
from tpforce.core.band import Band
from tpforce.core.calibration import Calibration
from tpforce.core.tracker import HoldConfig, Tracker

ZERO, COUNTS_PER_N = 8400, 42000


def core_pass(batch: np.ndarray, chunk: int | None = None, mode: str = "cumulative") -> int:
    """Calibrate, despike, filter, classify and time holds; returns the number of holds."""
    cal = Calibration(ZERO, 1 / COUNTS_PER_N)
    tracker = Tracker(HoldConfig(mode=mode), Band.relative(20.0))
    step = chunk or len(batch)
    for i in range(0, len(batch), step):
        piece = batch[i : i + step].copy()
        cal.apply(piece)
        tracker.process(piece)
    tracker.finish()
    return len(tracker.holds)


def naive_pass(raw: list[int], times: list[float]) -> int:
    """The same job one sample at a time in plain Python; returns the number of holds."""
    band, cfg = Band.relative(20.0), HoldConfig()
    window: deque[tuple[float, float]] = deque()
    total = 0.0
    holds = 0
    active = completed = False
    in_band = 0.0
    out_since = last_t = None
    zone = 0
    for r, t in zip(raw, times, strict=True):
        x = (r - ZERO) / COUNTS_PER_N
        window.append((t, x))
        total += x
        while window[0][0] <= t - cfg.filter_window_s:
            total -= window.popleft()[1]
        f = total / len(window)
        if last_t is not None and active:
            if zone == 3:
                in_band += t - last_t
                if not completed and in_band >= cfg.target_s:
                    completed = True
            elif out_since is not None and t - out_since > cfg.grace_s:
                active = False
        last_t = t
        if f < cfg.contact_n:
            new = 1
        elif f < band.lo_n:
            new = 2
        elif f <= band.hi_n:
            new = 3
        elif f <= band.ppt_n:
            new = 4
        else:
            new = 5
        if new != zone:
            zone = new
            if zone == 3:
                out_since = None
                if not active:
                    active, completed, in_band = True, False, 0.0
                    holds += 1
            elif zone == 1:
                active = False
            elif active and out_since is None:
                out_since = t
    return holds


def run(quick: bool = False) -> list[str]:
    """Median samples/s of the core (one batch, 1000-sample chunks) and of the naive loop."""
    seconds = 120 if quick else 3600
    batch = make_recording(seconds)
    n = len(batch)
    repeats = 3 if quick else 5
    whole_s = median_time(lambda: core_pass(batch), repeats)
    chunked_s = median_time(lambda: core_pass(batch, 1000), repeats)
    cont_s = median_time(lambda: core_pass(batch, None, "continuous"), repeats)
    m = min(n, 60_000 if quick else 300_000)
    raw, times = batch["raw"][:m].tolist(), batch["t_s"][:m].tolist()
    naive_s = median_time(lambda: naive_pass(raw, times), 3) * n / m
    return [
        f"| core, one batch ({n:,} samples = {seconds / 3600:.2g} h at 1 kHz) | "
        f"{n / whole_s:,.0f} samples/s ({whole_s:.2f} s) |",
        f"| core, 1000-sample chunks (live) | {n / chunked_s:,.0f} samples/s "
        f"({chunked_s:.2f} s) |",
        f"| core, one batch, continuous hold mode | {n / cont_s:,.0f} samples/s "
        f"({cont_s:.2f} s) |",
        f"| naive per-sample Python loop (same job, {m:,}-sample slice) | "
        f"{n / naive_s:,.0f} samples/s |",
        f"| ratio core one batch / naive | {naive_s / whole_s:.0f}x |",
        f"| ratio core chunked / naive | {naive_s / chunked_s:.1f}x |",
        f"| medians of {repeats} (core) and 3 (naive) | |",
    ]
