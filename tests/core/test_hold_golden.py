"""Golden traces with holds computed by hand: the hold rules of docs/analysis.md, exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tpforce.core.band import Band
from tpforce.core.events import (
    HoldCompleted,
    HoldEnd,
    HoldEnded,
    HoldStarted,
    OverThreshold,
    PressureStep,
    SignalLost,
    Zone,
)
from tpforce.core.samples import SampleFlag, batch_from_force
from tpforce.core.tracker import HoldConfig, Tracker

from .helpers import BAND, EXACT, gap_flags, of, run, steps


def test_hold_with_short_excursion_completes_then_leaves_band() -> None:
    # 10 SPS: 1 s below, 18 s in band, 0.5 s above (within grace), 19.5 s in band,
    # then 2 s over threshold (beyond grace), 8 s in band, release.
    t, f = steps(10, [(1, 0), (1, 10), (18, 16), (0.5, 19), (19.5, 16), (2, 21), (8, 16),
                      (1, 0)])
    tracker, events = run(t, f)
    assert [(e.t_s, e.index) for e in of(events, HoldStarted)] == [(2.0, 1), (42.0, 2)]
    (done,) = of(events, HoldCompleted)
    assert done.t_s == pytest.approx(32.5) and done.index == 1
    first, second = of(events, HoldEnded)
    assert first.t_s == 40.0 and first.reason is HoldEnd.LEFT_BAND and first.completed
    assert first.in_band_s == pytest.approx(37.5)
    assert second.t_s == 50.0 and second.reason is HoldEnd.RELEASED
    assert second.in_band_s == pytest.approx(8.0) and not second.completed
    h1, h2 = tracker.holds
    assert (h1.above_count, h1.below_count, h1.over_count) == (1, 0, 0)
    assert h1.above_s == pytest.approx(0.5)
    assert h1.contact_to_band_s == pytest.approx(1.0)
    assert h1.max_n == 19.0 and h1.samples == 380
    assert h1.in_band_pct == pytest.approx(100 * 37.5 / 38)
    assert h2.mean_n == 16.0 and h2.sd_n == 0.0 and h2.cv == 0.0
    assert h2.rmse_n == pytest.approx(0.5)  # centre 16.5
    assert h2.drift_n_per_s == 0.0
    assert [e.t_s for e in of(events, OverThreshold) if not e.escalation] == [40.0]


def test_hold_ends_when_it_left_the_band_not_when_grace_ran_out() -> None:
    t, f = steps(10, [(1, 16), (3, 12)])
    _, events = run(t, f)
    (end,) = of(events, HoldEnded)
    assert end.t_s == 1.0 and end.reason is HoldEnd.LEFT_BAND
    assert end.in_band_s == pytest.approx(1.0)


def test_stretch_of_exactly_grace_keeps_the_hold() -> None:
    # 0.1 s steps: out of band for exactly 1.0 s (10 intervals), then back in band.
    t, f = steps(10, [(2, 16), (1, 12), (2, 16)])
    tracker, events = run(t, f)
    assert len(of(events, HoldStarted)) == 1
    (h,) = tracker.holds
    assert h.ended_by is HoldEnd.STOPPED and h.below_count == 1
    assert h.below_s == pytest.approx(1.0) and h.in_band_s == pytest.approx(3.9)


@pytest.mark.parametrize("force_n", [15.0, 18.0])
def test_values_exactly_on_band_edges_are_in_band(force_n: float) -> None:
    t, f = steps(10, [(5, force_n)])
    tracker, events = run(t, f)
    assert of(events, HoldStarted)[0].t_s == 0.0
    assert tracker.holds[0].in_band_s == pytest.approx(4.9)


def test_exactly_on_threshold_is_not_over_and_contact_edge_is_contact() -> None:
    t, f = steps(10, [(1, 20.0), (1, 2.0), (1, 1.999)])
    tracker, events = run(t, f, band=Band(1.0, 1.5, 20.0))
    assert of(events, OverThreshold) == []
    assert tracker.state.zone == Zone.NO_CONTACT
    zones = [e.zone for e in events if hasattr(e, "zone")]
    assert zones == [Zone.ABOVE, Zone.NO_CONTACT]


def test_over_threshold_on_every_crossing_in_any_state() -> None:
    t, f = steps(10, [(1, 21), (1, 16), (0.3, 21), (0.3, 19), (0.3, 22), (1, 0), (0.5, 25)])
    _, events = run(t, f)
    # 19 N at 2.3 s is not below 95 % of the level (hysteresis): 2.6 s is the same crossing.
    crossings = [e.t_s for e in of(events, OverThreshold) if not e.escalation]
    assert crossings == pytest.approx([0.0, 2.0, 3.9])


def test_release_ends_at_once() -> None:
    t, f = steps(10, [(3, 16), (0.3, 1), (1, 16)])
    _, events = run(t, f)
    first = of(events, HoldEnded)[0]
    assert first.reason is HoldEnd.RELEASED and first.t_s == pytest.approx(3.0)
    assert [e.t_s for e in of(events, HoldStarted)] == pytest.approx([0.0, 3.3])


def test_short_gap_is_unknown_time_not_in_band() -> None:
    t, f = steps(10, [(4, 16)])
    t[20:] += 0.5  # 0.6 s between samples 19 and 20, flagged
    tracker, events = run(t, f, flags=gap_flags(len(t), [20]))
    (h,) = tracker.holds
    assert len(of(events, HoldStarted)) == 1
    assert h.unknown_s == pytest.approx(0.6)
    assert h.in_band_s == pytest.approx(1.9 + 1.9)


def test_long_gap_ends_the_hold_as_signal_lost_when_data_stopped() -> None:
    t, f = steps(10, [(4, 16)])
    t[20:] += 2.0
    tracker, _events = run(t, f, flags=gap_flags(len(t), [20]))
    first, second = tracker.holds
    assert first.ended_by is HoldEnd.SIGNAL_LOST and first.end_s == pytest.approx(1.9)
    assert first.in_band_s == pytest.approx(1.9) and first.unknown_s == 0.0
    assert second.start_s == pytest.approx(4.0)


def test_nan_samples_are_unknown() -> None:
    t, f = steps(10, [(2, 16), (0.5, math.nan), (2, 16), (1.5, math.nan), (1, 16)])
    tracker, _events = run(t, f)
    first, second = tracker.holds
    assert first.unknown_s == pytest.approx(0.5) and first.in_band_s == pytest.approx(4.0)
    assert first.ended_by is HoldEnd.SIGNAL_LOST and first.end_s == pytest.approx(4.5)
    assert second.start_s == pytest.approx(6.0)
    assert math.isfinite(first.mean_n) and first.mean_n == 16.0


def test_signal_lost_event_ends_the_hold() -> None:
    tracker = Tracker(EXACT, BAND)
    t, f = steps(10, [(2, 16)])
    tracker.process(batch_from_force(t, f))
    events = tracker.on_signal_lost(SignalLost(float(t[-1])))
    (end,) = of(events, HoldEnded)
    assert end.reason is HoldEnd.SIGNAL_LOST and end.t_s == pytest.approx(1.9)
    later = batch_from_force(t + 5, f)
    assert of(tracker.process(later), HoldStarted)[0].t_s == pytest.approx(5.0)


def test_button_marks_ppt_as_peak_in_window_and_sets_band() -> None:
    # ramp 5 N/s from 0 to 20 N at 100 SPS, then 0.3 s at 18 N; button at 4.2 s
    t = np.arange(0, 5, 0.01)
    f = np.minimum(t * 5.0, 20.0)
    f[t >= 4.0] = 18.0
    flags = np.zeros(len(t), dtype=np.uint16)
    flags[(t >= 4.2) & (t < 4.4)] = SampleFlag.BUTTON
    tracker, events = run(t, f, band=None, flags=flags)
    assert tracker.state.ppt_n == pytest.approx(20.0, abs=0.06)
    assert tracker.state.band.lo_n == pytest.approx(0.75 * tracker.state.ppt_n)
    mark = next(e for e in events if type(e).__name__ == "ThresholdMarked")
    assert mark.ramp_n_per_s == pytest.approx(5.0, rel=0.02) and mark.ramp_ok


def test_remark_mid_excursion_moves_band_and_logs_a_step() -> None:
    # hold at 16 in band 15-18 (ppt 20); excursion to 21 (over); the patient re-marks
    # at 21: new PPT 21, band 15.75-18.9, force 21 is then 'above'... back to 17 in band.
    t, f = steps(10, [(3, 16), (0.5, 21), (2, 17)])
    flags = np.zeros(len(t), dtype=np.uint16)
    flags[33:35] = SampleFlag.BUTTON  # at 3.3 s, mid-excursion
    tracker, events = run(t, f, flags=flags)
    (step,) = of(events, PressureStep)
    assert step.from_ppt_n == 20.0 and step.to_ppt_n == 21.0 and step.t_s == pytest.approx(3.3)
    (h,) = tracker.holds
    assert h.pressure_steps == 1 and h.above_count == 1 and h.over_count == 1
    assert h.in_band_s == pytest.approx(3.0 + 1.9)
    assert tracker.state.band.hi_n == pytest.approx(0.9 * 21)
    assert tracker.session.current.trials_before_n == []


def test_manual_hold_ignores_grace_until_stopped() -> None:
    tracker = Tracker(EXACT, BAND)
    t, f = steps(10, [(1, 10)])
    tracker.process(batch_from_force(t, f))
    (started,) = of(tracker.start_hold(float(t[-1])), HoldStarted)
    assert started.manual
    t2, f2 = steps(10, [(3, 10), (2, 16)])
    tracker.process(batch_from_force(t2 + 1.0, f2))
    ended = of(tracker.stop_hold(tracker.state.t_s), HoldEnded)
    assert ended[0].reason is HoldEnd.STOPPED and ended[0].in_band_s == pytest.approx(1.9)


def test_target_change_and_completion_instant() -> None:
    t, f = steps(10, [(70, 16)])
    _, events = run(t, f, config=HoldConfig(filter_window_s=0.0, target_s=60.0))
    assert of(events, HoldCompleted)[0].t_s == pytest.approx(60.0)
