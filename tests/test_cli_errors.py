"""The command line refuses bad values up front and ends cleanly on closed pipes and lost ports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tpforce.cli import build_parser, main
from tpforce.io.sim.probe import SimProbe

ROOT = Path(__file__).resolve().parents[1]
SIM_RECORD = ROOT / "calibration" / "records" / "SIM00001.json"


@pytest.mark.parametrize("argv", [
    ["demo", "--target", "nan"], ["demo", "--target", "-5"], ["demo", "--duration", "-1"],
    ["demo", "--rate", "0"], ["demo", "--speed", "inf"], ["stream", "--port", "sim",
                                                           "--rate", "0"],
    ["analyze", "x.csv", "--threshold", "0"], ["demo", "--no-such-option"],
])
def test_impossible_option_values_are_refused_with_exit_2(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as end:
        build_parser().parse_args(argv)  # parsing only: nothing is started
    assert end.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--help" in err


def test_a_closed_pipe_ends_quietly() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "tpforce", "demo", "--headless",
                             "--duration", "20", "--speed", "4"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(3):
            assert proc.stdout.readline()
        proc.stdout.close()  # `| head -3`
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "Traceback" not in err


def test_no_reconnect_stops_when_the_port_goes_and_says_so() -> None:
    with SimProbe() as probe:
        proc = subprocess.Popen([sys.executable, "-m", "tpforce", "stream", "--port",
                                 probe.port, "--no-reconnect", "--duration", "30"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            for line in proc.stdout:  # data flows
                if line[:1].isdigit():
                    break
            probe.unplug(for_s=10.0)
            _, err = proc.communicate(timeout=20)
        finally:
            proc.kill()
    assert proc.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--no-reconnect" in lines[0]


@pytest.mark.parametrize("bad", [{"n_per_count": float("nan")}, {"n_per_count": 0.0},
                                 {"zero_counts": float("inf")}])
def test_a_record_with_an_impossible_slope_or_zero_is_refused(tmp_path: Path, bad: dict,
                                                              capsys) -> None:
    record = json.loads(SIM_RECORD.read_text())
    record.update(bad)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(record))
    assert main(["calibration", "check", str(path)]) == 2
    assert "must be finite" in capsys.readouterr().err


def test_calibration_file_with_a_gauge_driver_is_refused(capsys) -> None:
    argv = ["stream", "--port", "loop://", "--driver", "mark10", "--calibration",
            str(SIM_RECORD)]
    assert main(argv) == 2
    assert "--calibration is for the tpforce probe" in capsys.readouterr().err
