"""The session model as a clinician meets it: phases, holds, marks, alarms, spikes, gaps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tpforce.core.band import Band
from tpforce.core.events import (
    BandWarning,
    HoldEnd,
    HoldEnded,
    HoldStarted,
    Input,
    InputKind,
    InputRefused,
    OverThreshold,
    Phase,
    PressureStep,
    ThresholdMarked,
    TimeRefused,
)
from tpforce.core.replay import track
from tpforce.core.samples import SampleFlag, batch_from_force
from tpforce.core.session import Mark, MdcVerdict, Point
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.io.sim.hand import Hand, ScriptedIntent, hold_with_excursions_script

from . import scripted
from .helpers import of

SPS = 80


def _hand_trace(steps: list, seed: int = 3, cv: float = 0.035) -> tuple[np.ndarray, np.ndarray]:
    intent = ScriptedIntent(steps, loop=False)
    t = np.arange(0.0, intent.period_s, 1.0 / SPS)
    want, _ = intent.at(t)
    return t, Hand(seed=seed, cv=cv).apply(t, want)


def _run(t: np.ndarray, f: np.ndarray, config: HoldConfig, band: Band | None,
         flags: np.ndarray | None = None, inputs: list[Input] | None = None,
         phase: Phase | None = None) -> tuple[Tracker, list]:
    tracker = Tracker(config, band, phase=phase)
    return tracker, track(batch_from_force(t, f, flags), inputs or [], tracker)


# -- 1. holds: one compression is one hold -------------------------------------------------

def test_one_steady_compression_is_one_cumulative_hold_but_fragments_when_continuous() -> None:
    t, f = _hand_trace(hold_with_excursions_script(16.0, 60.0))
    band = Band.relative(20.0)
    tracker, _ = _run(t, f, HoldConfig(), band)
    (hold,) = tracker.holds
    assert hold.ended_by is HoldEnd.RELEASED and hold.completed
    assert hold.excursions >= 4 and hold.in_band_s >= 30.0
    # 2 s above the band, still under the threshold, in the middle of a 37 s compression.
    t2, f2 = _hand_trace([scripted.Step(1.0, 0.0), scripted.Step(3.3, 16.5),
                          scripted.Step(10.0, 16.5), scripted.Step(0.5, 19.0),
                          scripted.Step(2.0, 19.0), scripted.Step(0.5, 16.5),
                          scripted.Step(25.0, 16.5), scripted.Step(1.0, 0.0),
                          scripted.Step(2.0, 0.0)], cv=0.01)
    tracker, _ = _run(t2, f2, HoldConfig(), band)
    (hold,) = tracker.holds
    assert hold.completed and hold.ended_by is HoldEnd.RELEASED and hold.above_count >= 1
    cont, _ = _run(t2, f2, HoldConfig(mode="continuous"), band)
    assert [h.ended_by for h in cont.holds] == [HoldEnd.LEFT_BAND, HoldEnd.RELEASED]


def test_cumulative_hold_ends_on_lost_data_longer_than_grace_and_phase_change() -> None:
    t = np.arange(0, 20, 1 / SPS)
    f = np.full(len(t), 16.0)
    f[:80] = np.linspace(0, 16, 80)
    keep = (t < 8.0) | (t >= 10.0)  # a 2 s hole, unflagged
    tracker, events = _run(t[keep], f[keep], HoldConfig(), Band.relative(20.0),
                           inputs=[Input.make(InputKind.PHASE, 15.0, phase="after")])
    first, second = of(events, HoldEnded)
    assert first.reason is HoldEnd.SIGNAL_LOST and first.t_s == pytest.approx(8.0, abs=0.02)
    assert second.reason is HoldEnd.PHASE_CHANGED and second.t_s == pytest.approx(15.0, 0.02)
    assert tracker.holds[0].unknown_s == 0.0 and tracker.holds[0].in_band_s < 8.0


# -- 3. alarms -----------------------------------------------------------------------------

def test_no_alarm_after_a_mark_at_the_peak_and_none_sounds_in_trial_phases() -> None:
    batch, _ = scripted.session(20.0, 5.0, 22.0)
    tracker = Tracker(HoldConfig())
    events = track(batch, [], tracker)
    baseline_end = [e for e in events if isinstance(e, ThresholdMarked)][2].t_s
    sounding = [e for e in events if isinstance(e, OverThreshold) and not e.silent]
    assert all(e.t_s > baseline_end + 1.0 for e in sounding)  # none at the marks
    silent = [e for e in events if isinstance(e, OverThreshold) and e.silent]
    assert silent == [] or all(e.t_s <= baseline_end for e in silent)


def test_hysteresis_cuts_alarms_of_a_steady_hand_at_threshold() -> None:
    # Hou P1 (90-100 % of PPT): a 4 % CV hand aiming at 95 % of PPT for 90 s.
    t, f = _hand_trace([scripted.Step(1.0, 0.0), scripted.Step(4.0, 19.0),
                        scripted.Step(90.0, 19.0)], seed=5, cv=0.04)
    band = Band.relative(20.0, 0.9, 1.0)

    def crossings(margin: float) -> int:
        _, ev = _run(t, f, HoldConfig(alarm_margin_frac=margin), band)
        return sum(isinstance(e, OverThreshold) and not e.escalation for e in ev)

    assert crossings(0.05) * 3 < crossings(0.0)


def test_alarm_medium_on_crossing_high_after_one_second_or_ten_percent_over() -> None:
    t = np.arange(0, 6, 1 / SPS)
    f = np.where(t < 1, 16.0, np.where(t < 3, 20.5, np.where(t < 4, 16.0, 23.0)))
    _, events = _run(t, f, HoldConfig(filter_window_s=0, despike=False), Band.relative(20.0))
    alarms = of(events, OverThreshold)
    assert [(a.priority.name, a.escalation) for a in alarms] == [
        ("MEDIUM", False), ("HIGH", True), ("HIGH", False)]
    assert alarms[1].t_s == pytest.approx(2.0)


# -- 4. marks ------------------------------------------------------------------------------

def test_marks_at_rest_without_ramp_and_bounces_are_refused_with_a_reason() -> None:
    t = np.arange(0, 45, 1 / SPS)
    f = np.where(t < 10, 0.0, 18.0)  # at rest, then a steady press with no ramp into it
    inputs = [Input.make(InputKind.MARK, 5.0), Input.make(InputKind.MARK, 40.0)]
    tracker, events = _run(t, f, HoldConfig(), None, inputs=inputs, phase=Phase.BASELINE)
    rest, steady = of(events, InputRefused)
    assert "no pressure" in rest.reason and "ramp" not in rest.reason
    assert "no rising ramp" in steady.reason
    assert tracker.session.current.marks == [] and tracker.band is None
    bounce = [Input.make(InputKind.MARK, 4.3), Input.make(InputKind.MARK, 4.5)]
    t2 = np.arange(0, 8, 1 / SPS)
    tracker, events = _run(t2, np.minimum(5 * t2, 20.0), HoldConfig(), None, inputs=bounce)
    assert len(of(events, ThresholdMarked)) == 1
    assert "one mark" in of(events, InputRefused)[0].reason


@pytest.mark.parametrize("delay_s", [0.6, 0.9])
def test_a_key_up_to_a_second_after_the_peak_records_the_peak(delay_s: float) -> None:
    t = np.arange(0, 10, 1 / SPS)
    f = np.where(t <= 4.0, 5 * t, np.maximum(20 - 10 * (t - 4.0), 0))  # 5 N/s, then release
    _, events = _run(t, f, HoldConfig(), None,
                     inputs=[Input.make(InputKind.MARK, 4.0 + delay_s, by="key")])
    (mark,) = of(events, ThresholdMarked)
    assert mark.ppt_n == pytest.approx(20.0, abs=0.2) and mark.by == "key"


def test_trials_can_be_deleted_and_refiled() -> None:
    batch, _ = scripted.session(20.0, 5.0, 22.0)
    tracker = Tracker(HoldConfig(trials=4))  # stays in baseline after three
    cut = int(np.searchsorted(batch["t_s"], 30.0))
    events = tracker.process(batch[:cut])
    assert len(tracker.session.current.trials_before_n) == 3
    events += tracker.apply(Input.make(InputKind.DELETE_TRIAL, 30.0, number=2))
    events += tracker.apply(Input.make(InputKind.REFILE_TRIAL, 30.0, number=3, **{"as": "step"}))
    point = tracker.session.current
    assert len(point.trials_before_n) == 1 and len(point.pressure_steps_n) == 1
    assert tracker.apply(Input.make(InputKind.DELETE_TRIAL, 30.0, number=2))[-1].reason


# -- 6. spikes -----------------------------------------------------------------------------

def test_a_single_sample_glitch_decides_nothing_a_two_sample_push_does() -> None:
    t = np.arange(0, 20, 1 / SPS)
    f = np.where(t < 1, 0.0, 16.0)
    f[800] = -60.0  # a glitch in the hold
    f[1000] = 60.0
    tracker, events = _run(t, f, HoldConfig(), Band.relative(20.0))
    assert len(tracker.holds) == 1 and tracker.holds[0].ended_by is HoldEnd.STOPPED
    assert of(events, OverThreshold) == []
    f[1200:1202] = 60.0  # a real push: two samples, 25 ms
    _, events = _run(t, f, HoldConfig(), Band.relative(20.0))
    (alarm,) = [e for e in of(events, OverThreshold) if not e.escalation]
    assert alarm.t_s == pytest.approx(t[1201])  # one sample late


# -- 7. gaps and time ----------------------------------------------------------------------

def test_an_unflagged_hole_is_unknown_and_time_going_back_is_refused() -> None:
    t = np.concatenate((np.arange(0, 10, 0.1), np.arange(48.8, 60, 0.1)))
    f = np.where(t < 1, 0.0, 16.0)
    tracker, _ = _run(t, f, HoldConfig(mode="continuous"), Band.relative(20.0))
    first = tracker.holds[0]
    assert first.ended_by is HoldEnd.SIGNAL_LOST and first.in_band_s < 10
    assert not first.completed and first.end_s == pytest.approx(9.9)
    tr = Tracker(HoldConfig(), Band.relative(20.0))
    tr.process(batch_from_force(np.arange(0, 5, 0.1), np.full(50, 16.0)))
    ev = tr.process(batch_from_force(np.array([4.0, 4.85, 5.0, 5.1]), np.full(4, 16.0)))
    (refused,) = of(ev, TimeRefused)
    assert refused.count == 2 and tr.state.time_refused == 2 and tr.state.t_s == 5.1


# -- 9. bands ------------------------------------------------------------------------------

def test_hou_p2_needs_tolerance_and_custom_bands_are_checked() -> None:
    t = np.arange(0, 8, 1 / SPS)
    f = np.where(t <= 4.0, 5 * t, np.maximum(20 - 10 * (t - 4.0), 0))
    tracker, _ = _run(t, f, HoldConfig(band_preset="hou_p2"), None,
                      inputs=[Input.make(InputKind.MARK, 4.3)])
    assert tracker.band is None and tracker.state.band_status == "needs_tolerance"
    tracker.apply(Input.make(InputKind.ARM_TOLERANCE, 8.0))
    t3 = np.arange(8.0, 18.0, 1 / SPS)
    f3 = np.where(t3 <= 14.0, 5 * (t3 - 8.0), 0.0)  # to 30 N, the patient's button at 14.2 s
    flags = np.where((t3 >= 14.2) & (t3 < 14.3), SampleFlag.BUTTON, 0).astype(np.uint16)
    tracker.process(batch_from_force(t3, f3, flags))
    assert tracker.state.band_status == "ok"
    assert tracker.band.limit_n == pytest.approx(30.0, abs=0.3)
    assert tracker.band.lo_n == pytest.approx(20.0 + 0.4 * 10.0, abs=0.2)
    ev = tracker.apply(Input.make(InputKind.BAND_CUSTOM, 8.0, lo=75, hi=110, unit="%"))
    assert "75%:90%" in ev[-1].reason and tracker.band.limit_n == pytest.approx(30.0, abs=0.3)
    tracker.apply(Input.make(InputKind.BAND_CUSTOM, 8.0, lo=80, hi=90, unit="%"))
    assert tracker.band.lo_n == pytest.approx(0.8 * tracker.band.ppt_n)
    assert tracker.state.band_status == "ok"
    low = Tracker(HoldConfig(), phase=Phase.BASELINE)
    t2 = np.arange(0, 3, 1 / SPS)
    ev = track(batch_from_force(t2, np.minimum(2 * t2, 4.0)),
               [Input.make(InputKind.MARK, 2.1)], low)
    assert "3x contact" in of(ev, BandWarning)[0].message
    tiny = Tracker(HoldConfig(), phase=Phase.BASELINE)  # PPT 2.4 N: centre under contact
    ev = track(batch_from_force(t2, np.minimum(2 * t2, 2.4)), [Input.make(InputKind.MARK, 1.5)],
               tiny)
    assert "below contact" in of(ev, BandWarning)[0].message


# -- 10. outcome ---------------------------------------------------------------------------

def test_outcome_has_direction_needs_two_trials_and_names_its_mdc() -> None:
    p = Point(1, "upper trapezius")
    p.marks += [Mark(0, 30.0, "baseline"), Mark(1, 30.0, "baseline"), Mark(2, 22.0, "after")]
    assert p.outcome().verdict is MdcVerdict.TOO_FEW_TRIALS
    p.marks.append(Mark(3, 22.0, "after"))
    out = p.outcome()
    assert out.verdict is MdcVerdict.FALL_BEYOND and out.mdc_source == "site: upper trapezius"
    q = Point(2, "gluteus medius")
    q.marks += [Mark(i, v, k) for i, (v, k) in enumerate(
        [(30, "baseline"), (30, "baseline"), (38, "after"), (38, "after")])]
    assert q.outcome().verdict is MdcVerdict.WITHIN and q.outcome().mdc_source == "generic"


# -- the scripted session ------------------------------------------------------------------

@pytest.mark.parametrize("rate", [1.0, 2.0, 5.0])
@pytest.mark.parametrize("ppt", [20.0, 40.0, 100.0])
def test_scripted_session_files_every_mark_where_the_inputs_put_it(ppt: float,
                                                                    rate: float) -> None:
    after = 1.1 * ppt
    batch, treated_s = scripted.session(ppt, rate, after)
    tracker = Tracker(HoldConfig())
    events = track(batch, [Input.make(InputKind.PHASE, treated_s, phase="after")], tracker)
    marks = of(events, ThresholdMarked)
    assert [m.phase for m in marks] == ["baseline"] * 3 + ["step"] + ["after"] * 3
    assert len(of(events, PressureStep)) == 1
    point = tracker.session.current
    assert point.ppt_before_n() == pytest.approx(ppt, abs=0.5)
    assert point.ppt_after_n() == pytest.approx(after, abs=0.5)
    assert len(of(events, HoldStarted)) == 1 and len(point.holds) == 1
    hold = point.holds[0]
    assert hold.ended_by is HoldEnd.RELEASED and hold.completed and hold.pressure_steps == 1
    assert not any(math.isnan(v) for v in (hold.mean_n, hold.cv))
