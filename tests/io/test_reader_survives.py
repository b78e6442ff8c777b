"""The reader thread outlives its own bugs: it keeps watching the stream and the port."""

from __future__ import annotations

from iohelp import Collector

from tpforce.core.events import Reconnected, SignalLost, SourceError
from tpforce.io.probe import ProbeSource
from tpforce.io.sim.probe import SimProbe


class DecoderBreaks(ProbeSource):
    """A source whose byte handling starts raising on every read."""

    broken = False

    def _on_bytes(self, data: bytes, now: float) -> None:
        if self.broken:
            raise RuntimeError("decoder bug")
        super()._on_bytes(data, now)


class ReconnectBreaksOnce(ProbeSource):
    """A source whose first attempt to find the device again raises."""

    failures = 0

    def _try_reconnect(self) -> bool:
        if self.failures == 0:
            self.failures += 1
            raise RuntimeError("port lister bug")
        return super()._try_reconnect()


def test_signal_lost_is_said_even_when_every_read_fails() -> None:
    sink = Collector()
    with SimProbe(speed=2.0) as probe, DecoderBreaks(probe.port, sink) as source:
        assert sink.wait_samples(1, timeout=10.0)  # samples flow
        source.broken = True  # bytes keep coming, but none become samples any more
        assert isinstance(sink.wait_for(SourceError), SourceError)
        assert isinstance(sink.wait_for(SignalLost), SignalLost)


def test_a_failing_reconnect_attempt_does_not_end_the_search() -> None:
    sink = Collector()
    with SimProbe(speed=2.0) as probe, \
            ReconnectBreaksOnce(probe.port, sink, lister=probe.ports) as source:
        assert sink.wait_samples(1, timeout=10.0)
        probe.unplug(for_s=0.3)
        assert isinstance(sink.wait_for(SourceError), SourceError)
        assert isinstance(sink.wait_for(Reconnected), Reconnected)
        assert source.failures == 1
