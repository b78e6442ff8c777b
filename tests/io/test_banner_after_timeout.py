"""A reboot banner is recognised even after a HELLO went unanswered (over pyserial loop://)."""

from __future__ import annotations

import pytest

from tests.collector import Collector
from tpforce.core.events import DeviceReset
from tpforce.core.protocol import Info, encode_sample
from tpforce.io.probe import CommandError, ProbeSource

BANNER = Info(1, "0.1.0", 1, 1, 80, 0, True, "TP000042", 0b1111)


def test_banner_after_an_unanswered_hello_is_a_reset() -> None:
    sink = Collector()
    with ProbeSource("loop://", sink, reconnect=False, greet=False) as source:
        source.write(b"".join(encode_sample(s, s * 12_500, 100) for s in range(10)))
        assert sink.wait_samples(10, timeout=5.0)
        with pytest.raises(CommandError):
            source.hello(timeout=0.2)  # loop:// only echoes the command back
        # The board rebooted; its clock restarts close to where the old one stopped, so only
        # the banner tells a reboot from a START.
        source.write(BANNER.encode() + b"".join(
            encode_sample(s, 120_000 + s * 12_500, 100) for s in range(5)))
        assert sink.wait_samples(15, timeout=5.0)
        assert any(isinstance(e, DeviceReset) for e in sink.seen)
