"""Feedback schedules: which trials and moments show feedback (pure functions)."""

from __future__ import annotations

import numpy as np

from tpforce.train.drill import Feedback, drill_from_dict
from tpforce.train.schedule import (
    PRACTICE,
    RETENTION,
    asked_visible,
    bandwidth_visible,
    make_plan,
    trial_feedback,
    visible_now,
)


def test_concurrent_and_blind() -> None:
    assert trial_feedback(Feedback("concurrent"), 4).tolist() == [True] * 4
    assert trial_feedback(Feedback("blind"), 4).tolist() == [False] * 4


def test_faded_follows_the_planned_shares() -> None:
    shown = trial_feedback(Feedback("faded", start_share=1.0, end_share=0.0), 10)
    assert shown[0]  # the first trial always has feedback
    assert shown[:3].sum() > shown[-3:].sum()  # and less and less later
    assert int(shown.sum()) == 5  # sum of linspace(1, 0, 10)
    half = trial_feedback(Feedback("faded", start_share=0.5, end_share=0.5), 6)
    assert half.tolist() == [False, True, False, True, False, True]
    assert trial_feedback(Feedback("faded", start_share=1.0, end_share=1.0), 3).all()


def test_bandwidth_shows_only_outside_the_tolerance() -> None:
    f = np.array([20.0, 21.9, 22.1, 17.0, np.nan])
    assert bandwidth_visible(f, 20.0, 2.0).tolist() == [False, False, True, True, True]


def test_self_controlled_shows_after_each_ask_for_ask_s() -> None:
    t = np.array([0.0, 1.0, 2.9, 3.1, 5.0, 6.0, 8.5])
    assert asked_visible(t, np.array([1.0, 5.5]), 3.0).tolist() == [
        False, True, True, True, False, True, False]
    assert not asked_visible(t, np.array([]), 3.0).any()


def test_retention_is_blind_and_follows_practice() -> None:
    d = drill_from_dict({"target_n": 20, "trials": 3, "hold_s": 10, "rest_s": 2,
                         "feedback": {"schedule": "concurrent"},
                         "retention": {"trials": 2}}, "d", "d")
    plan = make_plan(d, 20.0)
    assert [s.block for s in plan.slots] == [PRACTICE] * 3 + [RETENTION] * 2
    assert [s.feedback for s in plan.slots] == [True, True, True, False, False]
    assert all(a.end_s <= b.rest_start_s for a, b in zip(plan.slots, plan.slots[1:], strict=False))
    later = make_plan(d, 20.0, (RETENTION,))
    assert [s.block for s in later.slots] == [RETENTION] * 2


def test_the_moment_decision_per_schedule() -> None:
    base = {"target_n": 20, "trials": 1, "hold_s": 10, "rest_s": 2, "band_pct": 10}
    bw = drill_from_dict({**base, "feedback": {"schedule": "bandwidth"}}, "b", "b")
    slot = make_plan(bw, 20.0).slots[0]
    assert not visible_now(slot, slot.go_s - 0.5, 10.0, bw, 20.0, [])  # rest: nothing
    assert visible_now(slot, slot.go_s + 5, 17.0, bw, 20.0, [])
    assert not visible_now(slot, slot.go_s + 5, 20.5, bw, 20.0, [])
    sc = drill_from_dict({**base, "feedback": {"schedule": "self", "ask_s": 2}}, "s", "s")
    slot = make_plan(sc, 20.0).slots[0]
    ask = slot.go_s + 3
    assert not visible_now(slot, ask - 0.1, 20.0, sc, 20.0, [ask])
    assert visible_now(slot, ask + 1.0, 20.0, sc, 20.0, [ask])
    assert not visible_now(slot, ask + 2.5, 20.0, sc, 20.0, [ask])
