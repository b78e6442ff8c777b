"""A reboot banner is recognised even after a HELLO went unanswered (over pyserial loop://)."""

from __future__ import annotations

import queue

import numpy as np
import pytest

from tpforce.core.events import DeviceReset, Event
from tpforce.core.protocol import Info, encode_sample
from tpforce.io.serial_source import CommandError, SerialSource

BANNER = Info(1, "0.1.0", 1, 1, 80, 0, True, "TP000042", 0b1111)


class Sink:
    def __init__(self) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self.samples: queue.Queue[int] = queue.Queue()

    def on_batch(self, batch: np.ndarray) -> None:
        for seq in batch["seq"].tolist():
            self.samples.put(seq)

    def on_event(self, event: Event) -> None:
        self.events.put(event)

    def close(self) -> None:
        pass


def _wait_samples(sink: Sink, n: int) -> None:
    for _ in range(n):
        sink.samples.get(timeout=5.0)


def test_banner_after_an_unanswered_hello_is_a_reset() -> None:
    sink = Sink()
    with SerialSource("loop://", sink, reconnect=False) as source:
        source.write(b"".join(encode_sample(s, s * 12_500, 100) for s in range(10)))
        _wait_samples(sink, 10)
        with pytest.raises(CommandError):
            source.hello(timeout=0.2)  # loop:// only echoes the command back
        # The board rebooted; its clock restarts close to where the old one stopped, so only
        # the banner tells a reboot from a START.
        source.write(BANNER.encode() + b"".join(
            encode_sample(s, 120_000 + s * 12_500, 100) for s in range(5)))
        _wait_samples(sink, 5)
        seen = []
        while not sink.events.empty():
            seen.append(sink.events.get_nowait())
        assert any(isinstance(e, DeviceReset) for e in seen)
