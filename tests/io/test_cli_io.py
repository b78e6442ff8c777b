"""`tpforce stream`, `ports` and `sim`, and the one-line errors for ports that will not do."""

from __future__ import annotations

import errno
import json
import os

import pytest

from tpforce.cli import main
from tpforce.core.source import SourceOpenError
from tpforce.io.probe import ProbeSource
from tpforce.io.sim.gauges import GaugeEmulator
from tpforce.io.sim.probe import SimProbe
from tpforce.io.transport import open_error_message


def test_stream_csv_on_the_simulated_probe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stream", "--port", "sim", "--duration", "0.6"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "t_host_s,t_s,seq,raw,force_n,flags"
    rows = [line.split(",") for line in lines[1:] if not line.startswith("#")]
    assert len(rows) >= 10
    seqs = [int(r[2]) for r in rows]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert all(abs(float(r[4])) < 100 for r in rows)  # calibrated from the probe's record


def test_stream_jsonl_from_a_mark10(capsys: pytest.CaptureFixture[str]) -> None:
    with GaugeEmulator("mark10", [("4.285", "N"), ("-1.5", "lbF")]) as gauge:
        assert main(["stream", "--port", gauge.port, "--driver", "mark10", "--duration", "0.5",
                     "--format", "jsonl", "--rate", "50"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    samples = [r for r in records if "event" not in r]
    # through the processor, as live shows it: raw holds micronewtons
    assert samples[0]["force_n"] == 4.285
    assert samples[1]["force_n"] == pytest.approx(-1.5 * 4.4482216152605, abs=1e-6)
    assert samples[0]["raw"] == 4_285_000


def test_stream_records_while_it_prints(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    from tpforce.io.recorder import read_recording

    path = tmp_path / "tap.tpfrec"
    assert main(["stream", "--port", "sim", "--duration", "0.5", "--record", str(path)]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines()[1:]
               if not line.startswith("#")]
    samples, _ = read_recording(path)
    assert len(samples) == len(printed)


def _one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_errors_are_one_line_with_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    err = _one_line_error(capsys, ["stream", "--port", "/dev/no-such-tpforce"])
    assert "no such port" in err and "tpforce ports" in err
    with GaugeEmulator("mark10", [("1", "N")]) as gauge:
        err = _one_line_error(capsys, ["stream", "--port", gauge.port, "--duration", "1"])
    assert "does not answer as a tpforce probe" in err and "--driver" in err
    with SimProbe() as probe, ProbeSource(probe.port):
        err = _one_line_error(capsys, ["stream", "--port", probe.port])
    assert "busy" in err and "close the other program" in err
    err = _one_line_error(capsys, ["stream", "--port", "sim", "--driver", "mark10"])
    assert "--driver probe" in err


def test_permission_denied_names_dialout_and_the_udev_rule() -> None:
    message = open_error_message("/dev/ttyACM0", PermissionError(errno.EACCES, "denied"))
    assert "dialout" in message and "udev" in message and "\n" not in message
    if os.geteuid() != 0:
        with pytest.raises(SourceOpenError, match="permission denied"):
            ProbeSource("/dev/ttyS0").open()


def test_udev_rule_file_ships() -> None:
    import tpforce.io

    rule = os.path.join(os.path.dirname(tpforce.io.__file__), "99-tpforce.rules")
    with open(rule, encoding="utf-8") as f:
        text = f.read()
    assert 'GROUP="dialout"' in text and "ATTRS{idVendor}" in text


def test_ports_lists_without_probing(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ports", "--no-probe"])
    out = capsys.readouterr()
    assert code in (0, 1)
    assert ("VID:PID" in out.out) if code == 0 else ("no serial ports" in out.err)


def test_sim_command_runs_with_faults_and_a_stable_link(tmp_path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "sim"
    assert main(["sim", "--port-link", str(link), "--corrupt", "0.01", "--rate", "200",
                 "--duration", "0.3"]) == 0
    assert f"(link {link})" in capsys.readouterr().out
    assert not link.exists()  # removed on exit
    err = _one_line_error(capsys, ["sim", "--corrupt", "2"])
    assert "probability" in err
