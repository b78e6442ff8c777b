"""Marks are filed by the phase the therapist set, never by the force pattern."""

from __future__ import annotations

import numpy as np

from tpforce.core.events import (
    Event,
    HoldStarted,
    Phase,
    PhaseChanged,
    PressureStep,
    ThresholdMarked,
)
from tpforce.core.samples import SampleFlag, batch_from_force
from tpforce.core.tracker import HoldConfig, Tracker

SPS = 80


def _trial(t0: float, peak_n: float = 20.0, rate_n_per_s: float = 5.0) -> np.ndarray:
    """Ramp to the peak, mark 0.2 s after it, release in 0.5 s, rest 3 s."""
    ramp_s = peak_n / rate_n_per_s
    t = np.arange(0, ramp_s + 4.0, 1 / SPS)
    f = np.where(t <= ramp_s, rate_n_per_s * t, peak_n)
    f = np.where(t > ramp_s + 0.3, np.maximum(peak_n - (t - ramp_s - 0.3) * 40, 0), f)
    flags = np.where((t >= ramp_s + 0.2) & (t < ramp_s + 0.3), SampleFlag.BUTTON, 0)
    return batch_from_force(t + t0, f, flags.astype(np.uint16))


def _hold(t0: float, force_n: float, seconds: float, mark_at_s: float | None) -> np.ndarray:
    """Press to `force_n`, hold, optionally push 4 N further over 1 s to a new barrier and
    mark it there (then hold there), release."""
    t = np.arange(0, seconds + 6.0, 1 / SPS)
    f = np.clip(np.minimum(5.0 * t, force_n), 0, None)
    if mark_at_s is not None:
        f = f + np.clip(4.0 * (t - mark_at_s + 1.0), 0.0, 4.0) * (t <= seconds + 3.0)
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


def test_three_trials_are_baseline_then_the_phase_moves_to_treatment() -> None:
    tracker = Tracker(HoldConfig())
    b1 = _trial(0.0)
    b2 = _trial(b1["t_s"][-1] + 1 / SPS)
    b3 = _trial(b2["t_s"][-1] + 1 / SPS)
    events = _run(tracker, [b1, b2, b3])
    marks = [e for e in events if isinstance(e, ThresholdMarked)]
    assert [(m.trial, m.phase, m.by) for m in marks] == [
        (1, "baseline", "button"), (2, "baseline", "button"), (3, "baseline", "button")]
    assert not any(isinstance(e, (PressureStep, HoldStarted)) for e in events)
    (auto,) = [e for e in events if isinstance(e, PhaseChanged)]
    assert auto.auto and auto.phase is Phase.TREATMENT and auto.t_s == marks[-1].t_s
    point = tracker.session.current
    assert len(point.trials_before_n) == 3 and point.holds == []


def test_slow_trial_ramp_is_still_a_trial_and_marks_in_treatment_are_steps() -> None:
    # A 2 N/s ramp spends 3 s in the band: inferred from force, it became a hold (and the
    # next trials "after" trials). With phases it is a baseline trial.
    tracker = Tracker(HoldConfig(trials=1))
    slow = _trial(0.0, rate_n_per_s=2.0)
    t = slow["t_s"]
    hold = _hold(t[-1] + 1 / SPS, 16.0, 20.0, mark_at_s=12.0)
    events = _run(tracker, [slow, hold])
    assert tracker.phase is Phase.TREATMENT
    after = _trial(hold["t_s"][-1] + 1 / SPS)
    events += tracker.set_phase(Phase.AFTER, float(hold["t_s"][-1]))
    events += _run(tracker, [after])
    marks = [e.phase for e in events if isinstance(e, ThresholdMarked)]
    assert marks == ["baseline", "step", "after"]
    assert sum(isinstance(e, PressureStep) for e in events) == 1
    point = tracker.session.current
    assert len(point.holds) == 1 and point.holds[0].in_band_s > 5.0  # the one treatment hold
    assert len(tracker.holds) == 1  # trials start no hold
