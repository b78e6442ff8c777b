"""Unplug, replug, reset and stall, through real ptys: the reader finds its probe again."""

from __future__ import annotations

import threading

import numpy as np
from iohelp import open_fds

from tests.collector import Collector
from tpforce.core.calibration import Calibration
from tpforce.core.events import (
    ConsumerFailed,
    DeviceReset,
    Disconnected,
    HoldEnd,
    HoldEnded,
    HoldStarted,
    Reconnected,
    SignalLost,
    SignalRestored,
)
from tpforce.core.processor import Processor
from tpforce.core.samples import SampleFlag
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.io.probe import ProbeSource
from tpforce.io.sim.probe import SimProbe


def test_twenty_unplugs_reconnect_every_time_without_leaks(tmp_path) -> None:
    """Each unplug gives Disconnected, SignalLost, Reconnected; nothing repeats or reorders."""
    threads_before = threading.active_count()
    fds_before = open_fds()
    sink = Collector()
    link = str(tmp_path / "probe")
    with SimProbe(rate_sps=500, link_path=link) as probe, \
            ProbeSource(link, sink, lister=probe.ports) as source:
        assert source.hello().serial == "SIM00001"
        assert sink.wait_samples(50)
        names = {probe.port}
        for cycle in range(20):
            probe.unplug(0.15, reset=cycle % 2 == 1)
            sink.wait_for(Disconnected, timeout=10.0)
            back = sink.wait_for(Reconnected, timeout=10.0)
            assert isinstance(back, Reconnected) and back.gap_s > 0
            names.add(probe.port)
            assert sink.wait_samples(sink.count + 20)
        health = source.health()
    assert health.reconnects == 20
    assert health.resets == 10  # the odd cycles rebooted the board
    assert health.crc_errors == 0
    got = sink.samples()
    assert np.all(np.diff(got["seq"]) > 0), "a sample was duplicated or reordered"
    assert np.all(np.diff(got["t_s"]) > 0)
    assert np.count_nonzero(got["flags"] & SampleFlag.RESET_BEFORE) == 10
    kinds = [type(e) for e in sink.seen]
    assert kinds.count(Disconnected) == 20 and kinds.count(Reconnected) == 20
    assert kinds.count(SignalLost) == kinds.count(SignalRestored) == 20
    assert kinds.count(DeviceReset) == 10
    assert threading.active_count() == threads_before
    assert open_fds() == fds_before


def test_the_probe_is_found_under_a_new_name() -> None:
    """The lister offers other ports first; only the one whose INFO serial matches is taken."""
    sink = Collector()
    with SimProbe(serial="OTHER001") as other, SimProbe(rate_sps=200) as probe, \
            ProbeSource(probe.port, sink, lister=lambda: other.ports() + probe.ports()) \
            as source:
        source.hello()
        assert sink.wait_samples(10)
        probe.unplug(0.1)
        back = sink.wait_for(Reconnected, timeout=10.0)
        assert isinstance(back, Reconnected) and back.port == probe.port
        assert source.port == probe.port and source.port != other.port
        assert sink.wait_samples(sink.count + 10)
        assert source.info is not None and source.info.serial == "SIM00001"


def test_unplug_during_a_hold_interrupts_it() -> None:
    """The tracker ends the hold with SIGNAL_LOST when the cable is pulled."""
    sink = Collector()
    with SimProbe(speed=10.0) as probe:
        cal = Calibration(probe.cell.zero_counts, 1 / probe.cell.counts_per_n)
        processor = Processor(cal, Tracker(HoldConfig(target_s=60.0)), [sink])
        with ProbeSource(probe.port, processor, lister=probe.ports) as source:
            source.hello()
            sink.wait_for(HoldStarted, timeout=30.0)
            probe.unplug(0.2)
            ended = sink.wait_for(HoldEnded, timeout=5.0)
            assert isinstance(ended, HoldEnded) and ended.reason == HoldEnd.SIGNAL_LOST
            sink.wait_for(Reconnected, timeout=10.0)


def test_reset_mid_stream_and_a_stall_are_reported() -> None:
    """A reboot gives DeviceReset and a new epoch; a stall gives SignalLost then Restored."""
    sink = Collector()
    with SimProbe(rate_sps=400) as probe, ProbeSource(probe.port, sink) as source:
        assert sink.wait_samples(100)
        probe.reset()
        sink.wait_for(DeviceReset, timeout=5.0)
        probe.stall(0.6)
        lost = sink.wait_for(SignalLost, timeout=5.0)
        restored = sink.wait_for(SignalRestored, timeout=5.0)
        assert isinstance(restored, SignalRestored) and restored.gap_s > 0.25
        assert restored.t_s > lost.t_s
        assert source.health().resets == 1 and source.health().reconnects == 0
    got = sink.samples()
    assert np.all(np.diff(got["seq"]) > 0) and np.all(np.diff(got["t_s"]) > 0)


class Raises:
    """A consumer that fails on every third batch."""

    def __init__(self) -> None:
        self.n = 0

    def on_batch(self, batch: np.ndarray) -> None:
        self.n += 1
        if self.n % 3 == 0:
            raise RuntimeError("consumer bug")

    def on_event(self, event: object) -> None:
        if isinstance(event, ConsumerFailed):
            raise ValueError("cannot even take the report")

    def close(self) -> None:
        pass


def test_a_raising_sink_never_stops_the_reader() -> None:
    """The sink itself raises: the reader reports it and keeps going."""

    class Both(Collector):
        def on_batch(self, batch: np.ndarray) -> None:
            super().on_batch(batch)
            raise RuntimeError("sink bug")

    sink = Both()
    with SimProbe(rate_sps=400) as probe, ProbeSource(probe.port, sink) as source:
        failed = sink.wait_for(ConsumerFailed, timeout=5.0)
        assert isinstance(failed, ConsumerFailed) and "sink bug" in failed.error
        assert sink.wait_samples(sink.count + 200)
        assert source.health().sink_errors >= 2
        assert source._thread is not None and source._thread.is_alive()


def test_a_raising_consumer_behind_the_processor_is_reported() -> None:
    """Through the core's FanOut: the others still get every sample."""
    sink = Collector()
    with SimProbe(rate_sps=400) as probe:
        processor = Processor(Calibration(), Tracker(), [Raises(), sink])
        with ProbeSource(probe.port, processor) as source:
            failed = sink.wait_for(ConsumerFailed, timeout=5.0)
            assert isinstance(failed, ConsumerFailed) and "consumer bug" in failed.error
            assert sink.wait_samples(sink.count + 200)
            assert source.health().sink_errors == 0
    assert np.all(np.diff(sink.samples()["seq"]) == 1)
