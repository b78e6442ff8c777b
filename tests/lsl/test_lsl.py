"""Lab Streaming Layer out (`--lsl`) and in (`--port lsl:NAME`), with real liblsl on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from typing import Any

import numpy as np

from tests.lsl.conftest import HERE


def _samples(csv: str) -> np.ndarray:
    rows = [line.split(",") for line in csv.splitlines()[1:] if not line.startswith("#")]
    return np.array(rows, dtype=np.float64).reshape(-1, 6)


def _events(csv: str) -> list[dict[str, Any]]:
    return [json.loads(line[2:]) for line in csv.splitlines() if line.startswith("# ")]


def test_everything_published_is_received_in_order(scenario: Any) -> None:
    got = scenario("publish", "tpforce-publish")
    assert got["rc"] == 0, got["stderr"]
    csv = _samples(got["csv"])
    assert len(csv) > 100  # two seconds at 80 SPS
    values = np.array(got["values"], dtype=np.float64)
    stamps = np.array(got["stamps"])
    assert len(values) == len(csv)  # every sample, none twice
    # float32 on the wire; the CSV prints six decimals
    np.testing.assert_allclose(values, csv[:, 4], rtol=1e-6, atol=2e-6)
    assert np.all(np.diff(stamps) >= 0) and stamps[-1] > stamps[0]
    # each stamp is the sample's mapped host time, moved by one constant onto LSL's clock
    offset = stamps - csv[:, 0]
    assert np.ptp(offset) < 2e-6
    # the marker stream: one JSON string per event, the run's events exactly
    assert [json.loads(m) for m in got["markers"]] == _events(got["csv"])
    assert _events(got["csv"])  # the probe's INFO at least


def test_force_stream_header_says_unit_serial_calibration_and_tip(scenario: Any) -> None:
    got = scenario("publish", "tpforce-header")
    info = ET.fromstring(got["header"])
    assert info.findtext("type") == "Force"
    assert info.findtext("channel_format") == "float32"
    assert float(info.findtext("nominal_srate") or 0) == 80.0
    assert info.findtext("desc/channels/channel/unit") == "N"
    assert info.findtext("desc/acquisition/serial_number") == "SIM00001"
    assert info.find("desc/acquisition/calibration_date") is not None
    assert info.findtext("desc/acquisition/tip_area_cm2") == "1"
    assert info.findtext("source_id") == "tpforce-SIM00001"


def test_outlet_sockets_are_on_loopback_only(scenario: Any) -> None:
    got = scenario("publish", "tpforce-sockets")
    held = got["sockets"]
    assert held, "the sender held no inet sockets while it streamed"
    assert not [s for s in held if s["proto"].endswith("6")]  # IPv6 is off
    hosts = {s["local"].rsplit(":", 1)[0] for s in held}
    assert hosts <= {"127.0.0.1", "0.0.0.0"}, held
    # the multicast responder honours ListenAddress; liblsl binds its TCP data and UDP time
    # servers to the wildcard, which in this namespace reaches loopback alone
    responders = [s for s in held if s["local"].endswith(":16571")]
    assert responders and all(s["local"].startswith("127.0.0.1:") for s in responders)
    assert got["interfaces"] == ["lo"]
    connected = [s for s in held if s["state"] == "01"]  # TCP established: to us, locally
    assert connected and all(s["remote"].startswith("127.0.0.1:") for s in connected)


def test_port_lsl_reads_the_stream_back_into_tpforce_stream(scenario: Any) -> None:
    got = scenario("roundtrip", "tpforce-roundtrip")
    sent, received = _samples(got["sent"]), _samples(got["received"])
    assert len(sent) > 100
    assert len(received) == len(sent), got["receiver_stderr"][-2000:]
    np.testing.assert_array_equal(received[:, 2], np.arange(len(sent)))  # seq, in order
    np.testing.assert_allclose(received[:, 4], sent[:, 4], rtol=1e-6, atol=3e-6)
    # raw is micronewtons, as from a force gauge
    np.testing.assert_allclose(received[:, 3], np.round(received[:, 4] * 1e6), atol=2)
    # device time on the inlet is the sender's LSL time stamp: the sender's host time
    assert np.ptp(received[:, 1] - sent[:, 0]) < 2e-6
    assert np.all(np.diff(received[:, 1]) >= 0)


def test_inlet_is_a_source_with_signal_lost_and_restored(scenario: Any) -> None:
    got = scenario("inlet", "tpforce-inlet")
    assert got["is_source"] and not got["device_before"]
    assert got["opened_self"]
    assert got["device"] == ["LSL stream", "lsl:tpforce-inlet", 100.0,
                             "LSL stream on lsl:tpforce-inlet"]
    assert got["rate"] == 100.0
    assert got["calibration_is_gauges"]  # micronewtons in raw, as from the force gauges
    assert got["dtype"].startswith("[('t_s', '<f8'), ('t_host_s', '<f8'), ('seq', '<i8')")
    assert got["force"] == [1.5, 2.25, -0.5, 4.0]
    assert got["raw"] == [1_500_000, 2_250_000, -500_000, 4_000_000]
    assert got["seq"] == [0, 1, 2, 3]
    np.testing.assert_allclose(got["t_s"], got["pushed_t"], atol=1e-9)
    assert got["kinds"] == ["SignalLost", "SignalRestored"]
    assert abs(got["gap_s"] - (got["pushed_t"][3] - got["pushed_t"][2])) < 1e-6
    assert got["health_samples"] == 4 and got["health_signal"]


def test_missing_stream_is_one_line_and_exit_2(scenario: Any) -> None:
    got = scenario("missing", "no-such-stream")
    assert got["rc"] == 2
    lines = [line for line in got["stderr"].splitlines() if line.startswith("tpforce")]
    assert len(lines) == 1 and "lsl:no-such-stream" in lines[0]
    assert "Traceback" not in got["stderr"]


def test_lsl_without_pylsl_names_the_extra() -> None:
    code = ("import sys; sys.modules['pylsl'] = None\n"
            "from tpforce.cli import main\n"
            "sys.exit(main(['stream', '--port', 'sim', '--lsl', 'x', '--duration', '0']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=HERE.parent.parent)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "pip install 'tpforce[lsl]'" in proc.stderr
    assert proc.stdout == ""  # refused before any port was opened


def test_session_events_reach_the_marker_stream_at_their_sample_times(scenario: Any) -> None:
    got = scenario("session", "tpforce-session")
    kinds = [e["type"] for e in got["want"]]
    for kind in ("HoldStarted", "HoldCompleted", "ThresholdMarked", "OverThreshold",
                 "HoldEnded", "ZoneChanged", "BandChanged"):
        assert kind in kinds
    assert got["got"] == got["want"]  # every event, in order, as JSON
    # after the first sample, an event's stamp is its sample time on the LSL clock
    first_batch = kinds.index("ZoneChanged")
    stamps = np.array(got["stamps"][first_batch:])
    want = np.array(got["t_s"][first_batch:]) + got["base"] + got["offset"]
    np.testing.assert_allclose(stamps, want, atol=1e-6)


def test_live_window_publishes_with_lsl(scenario: Any) -> None:
    got = scenario("live", "tpforce-live")
    assert got["alive"]  # the window was still open while it published
    assert len(got["values"]) >= 80
    assert np.all(np.diff(got["stamps"]) >= 0)
    assert np.all(np.isfinite(got["values"]))
    info = ET.fromstring(got["header"])
    assert info.findtext("desc/acquisition/serial_number") == "SIM00001"
    assert float(info.findtext("nominal_srate") or 0) == 80.0
