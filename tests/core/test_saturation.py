"""A cell saturated while pushing is over the threshold: the alarm must fire, the force stays
unknown; saturation the other way is only unknown."""

from __future__ import annotations

import numpy as np
import pytest

from tpforce.core.band import Band
from tpforce.core.calibration import Calibration
from tpforce.core.consumer import EventQueue
from tpforce.core.events import OverThreshold, Zone
from tpforce.core.processor import Processor
from tpforce.core.samples import SampleFlag, batch_from_force
from tpforce.core.tracker import HoldConfig, Tracker

FULL_SCALE, NEG_FULL_SCALE = (1 << 23) - 1, -(1 << 23)


def _run(n_per_count: float, saturated_raw: int) -> tuple[Processor, list]:
    queue = EventQueue()
    processor = Processor(Calibration(0.0, n_per_count),
                          Tracker(HoldConfig(), Band(15.0, 18.0, 20.0)), [queue])
    t = np.arange(0, 3, 1 / 80)
    in_band_raw = round(16.0 / n_per_count)
    batch = batch_from_force(t, np.zeros(len(t)))
    batch["raw"] = np.where(t < 2, in_band_raw, saturated_raw)
    batch["flags"] = np.where(t < 2, 0, SampleFlag.SATURATED)
    processor.on_batch(batch)
    return processor, queue.drain()


@pytest.mark.parametrize(("n_per_count", "raw"), [(0.01, FULL_SCALE), (-0.01, NEG_FULL_SCALE)])
def test_saturation_while_pushing_raises_the_alarm(n_per_count: float, raw: int) -> None:
    processor, events = _run(n_per_count, raw)
    alarms = [e for e in events if isinstance(e, OverThreshold)]
    assert len(alarms) == 1 and alarms[0].t_s == pytest.approx(2.0)
    assert processor.state.zone == Zone.OVER
    assert np.isnan(processor.state.force_n)  # unknown, never a made-up value


def test_saturation_the_other_way_is_unknown_not_an_alarm() -> None:
    processor, events = _run(0.01, NEG_FULL_SCALE)
    assert not any(isinstance(e, OverThreshold) for e in events)
    assert processor.state.zone == Zone.UNKNOWN


def test_saturation_before_any_threshold_is_over_range_without_an_alarm() -> None:
    queue = EventQueue()
    processor = Processor(Calibration(0.0, 0.01), Tracker(HoldConfig()), [queue])
    batch = batch_from_force(np.arange(0, 1, 1 / 80), np.zeros(80))
    batch["raw"] = FULL_SCALE
    batch["flags"] = SampleFlag.SATURATED
    processor.on_batch(batch)
    assert processor.state.over_range and processor.state.zone == Zone.UNKNOWN
    assert not any(isinstance(e, OverThreshold) for e in queue.drain())  # no PPT, no alarm
