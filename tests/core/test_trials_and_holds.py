"""Threshold trials are trials, not holds: the band they cross on the way is a transit."""

from __future__ import annotations

import numpy as np

from tpforce.core.events import Event, PressureStep, ThresholdMarked
from tpforce.core.samples import SampleFlag, batch_from_force
from tpforce.core.tracker import HoldConfig, Tracker

SPS = 80


def _trial(t0: float, peak_n: float = 20.0) -> np.ndarray:
    """Ramp at 5 N/s to the peak, mark 0.2 s after it, release in 0.5 s, rest 3 s."""
    ramp_s = peak_n / 5.0
    t = np.arange(0, ramp_s + 4.0, 1 / SPS)
    f = np.where(t <= ramp_s, 5.0 * t, peak_n)
    f = np.where(t > ramp_s + 0.3, np.maximum(peak_n - (t - ramp_s - 0.3) * 40, 0), f)
    flags = np.where((t >= ramp_s + 0.2) & (t < ramp_s + 0.3), SampleFlag.BUTTON, 0)
    return batch_from_force(t + t0, f, flags.astype(np.uint16))


def _hold(t0: float, force_n: float, seconds: float, mark_at_s: float | None) -> np.ndarray:
    """Press to `force_n`, hold, optionally mark (a new barrier) part-way, release."""
    t = np.arange(0, seconds + 6.0, 1 / SPS)
    f = np.clip(np.minimum(5.0 * t, force_n), 0, None)
    f = np.where(t > seconds + 3.0, np.maximum(force_n - (t - seconds - 3.0) * 40, 0), f)
    flags = np.zeros(len(t), np.uint16)
    if mark_at_s is not None:
        flags[(t >= mark_at_s) & (t < mark_at_s + 0.1)] = SampleFlag.BUTTON
    return batch_from_force(t + t0, f, flags)


def _run(tracker: Tracker, batches: list[np.ndarray]) -> list[Event]:
    events: list[Event] = []
    for b in batches:
        events += tracker.process(b)
    return events


def test_three_trials_are_trials_before_and_file_no_hold() -> None:
    tracker = Tracker(HoldConfig())
    b1 = _trial(0.0)
    b2 = _trial(b1["t_s"][-1] + 1 / SPS)
    b3 = _trial(b2["t_s"][-1] + 1 / SPS)
    events = _run(tracker, [b1, b2, b3])
    marks = [e for e in events if isinstance(e, ThresholdMarked)]
    assert [(m.trial, m.phase) for m in marks] == [(1, "before"), (2, "before"), (3, "before")]
    assert not any(isinstance(e, PressureStep) for e in events)
    point = tracker.session.current
    assert len(point.trials_before_n) == 3 and point.holds == []


def test_a_mark_in_a_real_hold_is_a_step_and_later_marks_are_after() -> None:
    tracker = Tracker(HoldConfig())
    trial = _trial(0.0)
    hold = _hold(trial["t_s"][-1] + 1 / SPS, 16.0, 20.0, mark_at_s=12.0)
    after = _trial(hold["t_s"][-1] + 1 / SPS)
    events = _run(tracker, [trial, hold, after])
    marks = [e.phase for e in events if isinstance(e, ThresholdMarked)]
    assert marks == ["before", "step", "after"]
    assert sum(isinstance(e, PressureStep) for e in events) == 1
    point = tracker.session.current
    assert len(point.holds) == 1 and point.holds[0].in_band_s > 5.0  # the one treatment hold
    assert len(tracker.holds) > len(point.holds)  # the transits are still scored
