"""Discovery on ptys, pyserial URLs, a reset as the port opens, and sessions with drivers."""

from __future__ import annotations

import numpy as np
import pytest

from tests.collector import Collector
from tpforce.cli.wiring import open_pipeline
from tpforce.core.events import DeviceReset
from tpforce.core.protocol import encode_sample
from tpforce.core.source import SourceOpenError
from tpforce.io.drivers import DRIVER_CALIBRATION
from tpforce.io.ports import PortInfo, find_probe, probe_ports
from tpforce.io.probe import ProbeSource
from tpforce.io.sim.gauges import GaugeEmulator
from tpforce.io.sim.probe import SimProbe


def test_probe_ports_marks_only_the_probe_and_auto_picks_it() -> None:
    with SimProbe(serial="PROBE042") as probe, GaugeEmulator("mark10", [("1", "N")]) as gauge:
        ports = [PortInfo(gauge.port), PortInfo(probe.port)]
        marked = probe_ports(ports, timeout_s=1.0)
        assert marked[0].probe is None
        assert marked[1].probe is not None and marked[1].probe.serial == "PROBE042"
        assert find_probe(ports, timeout_s=1.0) == probe.port
        with pytest.raises(SourceOpenError, match="no tpforce probe answered"):
            find_probe([PortInfo(gauge.port)], timeout_s=0.5)
    with pytest.raises(SourceOpenError, match="no USB serial port found"):
        find_probe([])


def test_loop_url_carries_frames_through_the_same_reader() -> None:
    sink = Collector()
    with ProbeSource("loop://", sink, reconnect=False, greet=False) as source:
        source.write(b"".join(encode_sample(k, k * 1000, 100 + k) for k in range(50)))
        assert sink.wait_samples(50)
    assert sink.samples()["raw"].tolist() == list(range(100, 150))


def test_a_board_that_resets_as_the_port_opens() -> None:
    """DTR reset: the banner and seq 0 arrive right after samples from before the reset."""
    sink = Collector()
    with SimProbe(rate_sps=400) as probe, ProbeSource(probe.port, sink) as source:
        assert sink.wait_samples(20)
        probe.reset()
        sink.wait_for(DeviceReset, timeout=5.0)
        assert sink.wait_samples(sink.count + 20)
        assert source.info is not None and source.health().resets == 1
    got = sink.samples()
    assert np.all(np.diff(got["seq"]) == 1) and np.all(np.diff(got["t_s"]) > 0)


def test_open_pipeline_with_a_gauge_driver_uses_the_micronewton_calibration() -> None:
    sink = Collector()
    with GaugeEmulator("wagner", [("2.50", "kgf")]) as gauge:
        session = open_pipeline(gauge.port, extras=[sink], driver="wagner",
                                driver_options={"rate_hz": 50.0})
        try:
            assert session.processor.calibration == DRIVER_CALIBRATION
            assert sink.wait_samples(3)
        finally:
            session.close()
    assert np.allclose(sink.samples()["force_n"], 2.5 * 9.80665, rtol=0, atol=1e-6)


def test_open_pipeline_on_sim_owns_the_probe_and_uses_its_record() -> None:
    sink = Collector()
    session = open_pipeline("sim", extras=[sink])
    try:
        assert sink.wait_samples(10)
        assert session.owned
        cell = session.owned[0].cell
        assert session.processor.calibration.zero_counts == cell.zero_counts
    finally:
        session.close()
    assert not session.owned


class _Listed:
    """One port as `serial.tools.list_ports` describes it."""

    def __init__(self, device: str, vid: int | None = None) -> None:
        self.device, self.vid, self.pid = device, vid, 0x0043 if vid else None
        self.serial_number, self.description = None, "test port"


def test_ports_lists_only_ports_that_exist_and_says_when_no_probe_answers(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from serial.tools import list_ports

    from tpforce.cli import main

    with GaugeEmulator("mark10", [("1", "N")]) as gauge:
        listed = [_Listed("/dev/tpforce-no-such-port", 0x2341), _Listed(gauge.port, 0x2341)]
        monkeypatch.setattr(list_ports, "comports", lambda: listed)
        assert main(["ports", "--timeout", "0.5"]) == 1
    out = capsys.readouterr().out
    assert "tpforce-no-such-port" not in out and gauge.port in out
    assert out.strip().splitlines()[-1].startswith("no tpforce probe found: none of the 1 USB")


def test_ports_marks_the_probe(monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    from serial.tools import list_ports

    from tpforce.cli import main

    with SimProbe(serial="PROBE042") as probe:
        monkeypatch.setattr(list_ports, "comports", lambda: [_Listed(probe.port, 0x2341)])
        assert main(["ports", "--timeout", "2"]) == 0
    assert "<- tpforce probe PROBE042" in capsys.readouterr().out
