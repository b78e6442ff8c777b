"""The reader thread outlives its own bugs: it keeps watching the stream and the port."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import serial

from tests.collector import Collector
from tpforce.core.events import Reconnected, SignalLost, SourceError
from tpforce.core.protocol import encode_sample
from tpforce.io.drivers.gauges import Mark10Protocol
from tpforce.io.probe import ProbeProtocol, ProbeSource
from tpforce.io.reconnect import Identify, Reconnector
from tpforce.io.sim.probe import SimProbe


class DecoderBreaks(ProbeProtocol):
    """A probe protocol whose byte handling starts raising on every read."""

    broken = False

    def data_received(self, data: bytes, now: float) -> None:
        if self.broken:
            raise RuntimeError("decoder bug")
        super().data_received(data, now)


class ReconnectBreaksOnce(Reconnector):
    """A reconnector whose first attempt to find the device again raises."""

    failures = 0

    def find(self, identify: Identify, stopped: Callable[[], bool] = lambda: False
             ) -> tuple[serial.SerialBase, str, bytes] | None:
        if self.failures == 0:
            self.failures += 1
            raise RuntimeError("port lister bug")
        return super().find(identify, stopped)


def test_signal_lost_is_said_even_when_every_read_fails() -> None:
    sink = Collector()
    protocol = DecoderBreaks()
    with SimProbe(speed=2.0) as probe, ProbeSource(probe.port, sink, protocol=protocol):
        assert sink.wait_samples(1, timeout=10.0)  # samples flow
        protocol.broken = True  # bytes keep coming, but none become samples any more
        assert isinstance(sink.wait_for(SourceError), SourceError)
        assert isinstance(sink.wait_for(SignalLost), SignalLost)


def test_a_failing_reconnect_attempt_does_not_end_the_search() -> None:
    sink = Collector()
    with SimProbe(speed=2.0) as probe:
        reconnector = ReconnectBreaksOnce(probe.port, 115200, probe.ports, True)
        with ProbeSource(probe.port, sink, reconnector=reconnector):
            assert sink.wait_samples(1, timeout=10.0)
            probe.unplug(for_s=0.3)
            assert isinstance(sink.wait_for(SourceError), SourceError)
            assert isinstance(sink.wait_for(Reconnected), Reconnected)
            assert reconnector.failures == 1


class ListLink:
    """A link that keeps what a protocol hands it: the protocol needs no port or thread."""

    port = "nowhere"
    last_t_s = 0.0

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.written: list[bytes] = []
        self.events: list[object] = []
        self.batches: list[np.ndarray] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def emit(self, event: object) -> None:
        self.events.append(event)

    def deliver(self, batch: np.ndarray, now: float) -> None:
        self.batches.append(batch)


def test_the_probe_protocol_turns_bytes_into_samples_without_a_port() -> None:
    protocol, link = ProbeProtocol(greet=False), ListLink()
    protocol.bind(link)
    frames = b"".join(encode_sample(i, 1000 * i, 100 + i) for i in range(5))
    protocol.data_received(frames[:7], 0.0)  # half a frame: nothing yet
    protocol.data_received(frames[7:], 0.001)
    got = np.concatenate(link.batches)
    assert list(got["seq"]) == [0, 1, 2, 3, 4]
    assert list(got["raw"]) == [100, 101, 102, 103, 104]
    assert protocol.health().good_frames == 5


def test_a_gauge_protocol_polls_and_reads_lines_through_its_link() -> None:
    protocol, link = Mark10Protocol(rate_hz=10.0), ListLink()
    protocol.bind(link)
    protocol.tick(1.0)
    assert link.written == [b"?\r"]  # a reading is due: it polls
    protocol.tick(1.01)
    assert link.written == [b"?\r"]  # one outstanding poll at a time
    protocol.data_received(b"4.5 N\r\n-1 lbF\r\n", 1.02)
    got = np.concatenate(link.batches)
    assert got["force_n"][0] == 4.5
    assert abs(got["force_n"][1] + 4.448) < 0.01
