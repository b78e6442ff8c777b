"""End to end with no hardware: simulated probe -> real pty -> pyserial -> reader -> core."""

from __future__ import annotations

import queue

import numpy as np
import pytest

from tpforce.core.calibration import Calibration
from tpforce.core.events import (
    DeviceInfo,
    Event,
    HoldCompleted,
    HoldStarted,
    ThresholdMarked,
)
from tpforce.core.processor import Processor
from tpforce.core.ringbuffer import SampleRing
from tpforce.core.source import SourceOpenError
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.io.probe import ProbeSource
from tpforce.io.sim.probe import SimProbe


class Collector:
    """A consumer that queues everything for the test thread to wait on."""

    def __init__(self) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self.batches: queue.Queue[np.ndarray] = queue.Queue()

    def on_batch(self, batch: np.ndarray) -> None:
        self.batches.put(batch.copy())

    def on_event(self, event: Event) -> None:
        self.events.put(event)

    def close(self) -> None:
        pass

    def wait_for(self, kind: type[Event], timeout: float = 20.0) -> Event:
        while True:
            event = self.events.get(timeout=timeout)
            if isinstance(event, kind):
                return event


@pytest.mark.parametrize("transport", ["pty", "socket"])
def test_threshold_and_hold_arrive_through_the_port(transport: str) -> None:
    """A scripted session gives a PPT mark near the script's threshold and a completed hold."""
    collector = Collector()
    ring = SampleRing(100_000)
    with SimProbe(speed=10.0, transport=transport) as probe:
        cal = Calibration(probe.cell.zero_counts, 1 / probe.cell.counts_per_n)
        processor = Processor(cal, Tracker(HoldConfig(target_s=10.0)), [ring, collector])
        with ProbeSource(probe.port, processor) as source:
            info = source.hello()
            assert info.serial == "SIM00001" and info.protocol == 1
            mark = collector.wait_for(ThresholdMarked)
            assert isinstance(mark, ThresholdMarked)
            assert 17.0 < mark.ppt_n < 24.0  # the script ramps to 20 N, hand noise ~4 %
            collector.wait_for(HoldStarted)
            done = collector.wait_for(HoldCompleted, timeout=30.0)
            assert isinstance(done, HoldCompleted) and done.in_band_s == 10.0
            assert source.assembler.stats.lost == 0
            assert source.decoder.stats.crc_errors == 0
    data = ring.latest()
    assert np.all(np.diff(data["seq"]) == 1)  # in order, none missing
    assert np.allclose(np.diff(data["t_s"]), 1 / 80)


def test_device_info_event_reaches_consumers() -> None:
    collector = Collector()
    with SimProbe(speed=4.0) as probe, ProbeSource(probe.port, collector) as source:
        source.hello()
        info = collector.wait_for(DeviceInfo, timeout=5.0)
        assert isinstance(info, DeviceInfo) and info.rate_sps == 80


def test_missing_port_is_one_clear_line() -> None:
    with pytest.raises(SourceOpenError) as err:
        ProbeSource("/dev/does-not-exist-tpforce").open()
    message = str(err.value)
    assert "no such port" in message and "tpforce ports" in message
    assert "\n" not in message
