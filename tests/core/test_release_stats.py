"""A cumulative hold's steadiness figures leave out the release that ended it."""

from __future__ import annotations

import numpy as np
import pytest

from tpforce.core.events import HoldScored
from tpforce.core.tracker import HoldConfig

from .helpers import BAND, of, run


def test_release_ramp_is_not_counted_in_the_hold_cv() -> None:
    rate = 80
    rng = np.random.default_rng(3)
    ramp_up = np.linspace(0.0, 16.5, 3 * rate, endpoint=False)
    hold = 16.5 + rng.normal(0.0, 0.3, 40 * rate)
    release = np.linspace(16.5, 0.0, 2 * rate)
    rest = np.zeros(rate)
    f = np.concatenate([ramp_up, hold, release, rest])
    t = np.arange(len(f)) / rate
    cfg = HoldConfig(filter_window_s=0.0, despike=False, mode="cumulative")
    _, events = run(t, f, BAND, cfg)
    holds = [e.metrics for e in of(events, HoldScored)]
    assert len(holds) == 1
    m = holds[0]
    steady_cv = float(np.std(hold, ddof=1) / np.mean(hold))
    assert m.cv == pytest.approx(steady_cv, rel=0.15)  # not inflated by the fall to zero
    assert 43.5 < m.end_s < 45.0  # the hold itself still ends at the release (contact lost)
