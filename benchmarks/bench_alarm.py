"""Alarm latency and alarm rate of the over-threshold rule.

Latency: from the first raw sample of a real push above the alarm level to the alarm event,
at 80 SPS and 1 kHz, fed in live-sized batches (10 ms of samples): the event's delay on the
sample clock (spike rejector and 40 ms filter) plus the wall time to process the batch that
decided it. p50 and p99 over pushes at random onset phases, with and without the spike
rejector in the same process. Rate: crossings per minute for a 4 % CV hand aiming at 95 %
of PPT on Hou P1 (90-100 %), under the earlier rule (every crossing, no hysteresis, no
spike rejector) recomputed here, and under the current one.
"""

from __future__ import annotations

import time

import numpy as np

from tpforce.core.band import Band
from tpforce.core.events import OverThreshold
from tpforce.core.samples import batch_from_force
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.io.sim.hand import Hand, ScriptedIntent, Step

LEVEL_N = 20.0


def push_latencies(rate_sps: int, pushes: int, despike: bool, seed: int = 0) -> np.ndarray:
    """Latency (s) of each push: 16 N in band, then a push at 200 N/s to 26 N."""
    rng = np.random.default_rng(seed)
    out = []
    per = max(1, round(rate_sps * 0.010))
    for _ in range(pushes):
        onset = 2.0 + float(rng.uniform(0, 1.0 / rate_sps))
        t = np.arange(0, 3.0, 1.0 / rate_sps)
        f = 16.0 + np.clip((t - onset) * 200.0, 0, 10.0) + rng.normal(0, 0.05, len(t))
        cross = int(np.argmax(f > LEVEL_N))
        tracker = Tracker(HoldConfig(despike=despike), Band.relative(LEVEL_N))
        batch = batch_from_force(t, f)
        for i in range(0, len(t), per):
            t0 = time.perf_counter()
            events = tracker.process(batch[i:i + per])
            wall = time.perf_counter() - t0
            alarms = [e for e in events if isinstance(e, OverThreshold)]
            if alarms:
                decided = float(t[min(i + per, len(t)) - 1])  # the batch's last sample
                out.append(decided - float(t[cross]) + wall)
                break
    return np.array(out)


def hand_alarms_per_min(seconds: float, old_rule: bool, seed: int = 5) -> tuple[float, float]:
    """(crossings, sounding alarm events) per minute for a 4 % CV hand on Hou P1."""
    intent = ScriptedIntent([Step(1.0, 0.0), Step(4.0, 19.0), Step(seconds, 19.0)], loop=False)
    t = np.arange(0.0, intent.period_s, 1 / 80)
    want, _ = intent.at(t)
    f = Hand(seed=seed, cv=0.04).apply(t, want)
    cfg = (HoldConfig(alarm_margin_frac=0.0, despike=False) if old_rule else HoldConfig())
    tracker = Tracker(cfg, Band.relative(LEVEL_N, 0.9, 1.0))
    events = tracker.process(batch_from_force(t, f)) + tracker.finish()
    alarms = [e for e in events if isinstance(e, OverThreshold)]
    crossings = sum(not e.escalation for e in alarms)
    minutes = seconds / 60.0
    return crossings / minutes, (crossings if old_rule else len(alarms)) / minutes


def run(quick: bool = False) -> list[str]:
    """The latency table and the alarm-rate comparison."""
    pushes = 40 if quick else 300
    lines = ["| alarm latency, push over the level to the event | p50 | p99 |", "|---|---|---|"]
    for rate in (80, 1000):
        for despike in (True, False):
            lat = push_latencies(rate, pushes, despike) * 1000
            label = "with spike rejector" if despike else "without (same process)"
            lines.append(f"| {rate} SPS, {label} | {np.median(lat):.1f} ms | "
                         f"{np.percentile(lat, 99):.1f} ms |")
    seconds = 90.0
    old_c, old_a = hand_alarms_per_min(seconds, True)
    new_c, new_a = hand_alarms_per_min(seconds, False)
    lines += [
        "",
        "| 4 % CV hand at 95 % PPT on Hou P1, 90 s | crossings/min | alarm events/min |",
        "|---|---|---|",
        f"| earlier rule (no hysteresis, no spike rejector) | {old_c:.1f} | {old_a:.1f} |",
        f"| current rule (5 % hysteresis, escalation events) | {new_c:.1f} | {new_a:.1f} |",
        f"| ratio earlier / current crossings | {old_c / max(new_c, 1e-9):.1f}x | |",
    ]
    return lines
