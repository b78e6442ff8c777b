"""Samples per second through the core (calibration, zones, hold timer), against a naive loop."""

from __future__ import annotations

import numpy as np

from benchmarks.common import median_time
from tpforce.core.band import Band
from tpforce.core.calibration import Calibration
from tpforce.core.samples import empty_batch
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.io.sim.hand import Hand, ScriptedIntent, demo_script

RATE_SPS = 1000


def make_recording(seconds: float, rate_sps: int = RATE_SPS) -> np.ndarray:
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


def through_core(batch: np.ndarray, chunk: int) -> None:
    """Calibrate and track `batch` in chunks of `chunk` samples, as the reader would."""
    cal = Calibration(8400, 1 / 42000)
    tracker = Tracker(HoldConfig(), Band.relative(20.0))
    for i in range(0, len(batch), chunk):
        piece = batch[i : i + chunk].copy()
        cal.apply(piece)
        tracker.process(piece)


def naive_loop(batch: np.ndarray) -> int:
    """The baseline: the same job (calibrate, zone, hold with grace and target), per sample."""
    band = Band.relative(20.0)
    cfg = HoldConfig()
    holds = 0
    active = completed = False
    in_band = 0.0
    out_since = last_t = None
    zone = 0
    for raw, t in zip(batch["raw"].tolist(), batch["t_s"].tolist(), strict=True):
        f = (raw - 8400) / 42000
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
    """Median samples/s of the core (chunks of 1000) and of the naive loop, and their ratio."""
    seconds = 60 if quick else 600
    batch = make_recording(seconds)
    n = len(batch)
    repeats = 3 if quick else 7
    core_s = median_time(lambda: through_core(batch, 1000), repeats)
    naive_s = median_time(lambda: naive_loop(batch), repeats)
    return [
        f"core (calibrate + zones + hold timer, 1000-sample chunks): {n / core_s:,.0f} samples/s",
        f"naive per-sample Python loop (same job): {n / naive_s:,.0f} samples/s",
        f"ratio core/naive: {naive_s / core_s:.1f}x  ({n:,} samples, median of {repeats})",
    ]
