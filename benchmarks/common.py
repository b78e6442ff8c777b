"""Timing helpers shared by the benchmarks: medians over repeats, never one run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from tpforce.core.samples import empty_batch
from tpforce.io.sim.hand import Hand, ScriptedIntent, demo_script


def median_time(fn: Callable[[], object], repeats: int = 7, warmup: int = 1) -> float:
    """Median wall time of `fn()` in seconds over `repeats` runs after `warmup` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of `values`, by linear interpolation."""
    data = sorted(values)
    if not data:
        return float("nan")
    k = (len(data) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def make_recording(seconds: float, rate_sps: int = 1000) -> np.ndarray:
    """A raw batch from the simulated hand: what a probe would have streamed."""
    n = int(seconds * rate_sps)
    t = np.arange(n) / rate_sps
    intent, button = ScriptedIntent(demo_script()).at(t)
    force = Hand(seed=3).apply(t, intent)
    batch = empty_batch(n)
    batch["t_s"] = t
    batch["seq"] = np.arange(n)
    batch["raw"] = np.rint(8400 + force * 42000).astype(np.int32)
    batch["flags"] = button.astype(np.uint16)
    return batch
