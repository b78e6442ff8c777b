"""Changing the target mid-hold: a hold already past the new target completes at once."""

from __future__ import annotations

import numpy as np

from tpforce.core.band import Band
from tpforce.core.events import HoldCompleted
from tpforce.core.samples import batch_from_force
from tpforce.core.tracker import HoldConfig, Tracker


def test_lowering_the_target_below_the_time_held_completes_now() -> None:
    tracker = Tracker(HoldConfig(filter_window_s=0.0, target_s=60.0), Band(15.0, 18.0, 20.0))
    t = np.arange(0, 40.5, 0.1)
    force = np.where(t < 40.0, 16.0, 19.0)  # 40 s in band, then just above it
    events = tracker.process(batch_from_force(t, force))
    assert not any(isinstance(e, HoldCompleted) for e in events)
    now = tracker.state.t_s
    done = [e for e in tracker.set_target_s(30.0, now) if isinstance(e, HoldCompleted)]
    assert len(done) == 1 and done[0].t_s == now  # not in the past, not at re-entry
    assert tracker.state.completed


def test_raising_the_target_does_not_complete() -> None:
    tracker = Tracker(HoldConfig(filter_window_s=0.0, target_s=30.0), Band(15.0, 18.0, 20.0))
    t = np.arange(0, 10.0, 0.1)
    tracker.process(batch_from_force(t, np.full(len(t), 16.0)))
    assert not any(isinstance(e, HoldCompleted)
                   for e in tracker.set_target_s(60.0, tracker.state.t_s))
