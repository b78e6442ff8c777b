"""`tpforce calibrate` end to end on the simulated probe (a pty, pyserial, the real reader),
and the record's round trip through the simulated probe's EEPROM."""

from __future__ import annotations

import contextlib
import json
import queue
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tpforce.cli import main
from tpforce.core.calbench import G_STANDARD
from tpforce.core.events import DeviceInfo, Event
from tpforce.core.protocol import CalRecord, FrameType, Status
from tpforce.io.probe import CalWriteError, ProbeSource
from tpforce.io.sim.probe import SimProbe

BENCH = ["calibrate", "--port", "sim", "--bench", "--masses", "0,1,2,5,8,10"]


def calibrate(tmp: Path, *extra: str) -> int:
    return main([*BENCH, "--records", str(tmp), *extra])


def test_unattended_bench_recovers_the_cell_and_writes_the_probe(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = calibrate(tmp_path, "--write", "--creep", "5", "--creep-s", "60",
                   "--cell-scale", "40000", "--cell-offset", "-5000", "--cell-nonlin", "0.04",
                   "--cell-hysteresis", "0.03", "--cell-creep", "0.2")
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "written to the probe's EEPROM and read back: identical" in out
    record_path = tmp_path / "SIM00001.json"
    record = json.loads(record_path.read_text())
    assert record["serial"] == "SIM00001" and record["by"] == "simulated bench"
    assert abs(1 / record["n_per_count"] / 40_000 - 1) < 0.0005
    assert abs(record["zero_counts"] + 5000) < 40
    assert abs(record["checks"]["non_linearity_pct_fs"] - 0.04) < 0.02
    assert abs(record["checks"]["hysteresis_pct_fs"] - 0.03) < 0.02
    assert [p["mass_kg"] for p in record["points"]] == [0, 1, 2, 5, 8, 10, 8, 5, 2, 1, 0]
    assert 0 < record["creep"]["drift_pct"] < 0.2
    history = [p for p in tmp_path.iterdir() if p.name.startswith("SIM00001-")]
    assert len(history) == 1 and json.loads(history[0].read_text()) == record
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    for p in (record_path, *history):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


@pytest.mark.parametrize("extra, message, readings", [
    (["--masses", "0,5,2,8,10"], "out of order", 0),
    (["--masses", "0,1,2,5,12"], "beyond the cell's capacity of 10 kg", 4),
    (["--masses", "0,1,2,5"], "3 different masses read; a calibration needs at least 5", 7),
])
def test_bad_input_is_one_line_exit_2_and_no_record(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str],
        message: str, readings: int) -> None:
    assert calibrate(tmp_path, "--warmup-s", "0", *extra) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "SIM00001.json").exists()
    kept = list(tmp_path.glob("SIM00001-*-incomplete.json"))
    if not readings:  # refused before any reading
        assert not kept
    else:  # the readings so far are kept, marked as not a calibration
        (path,) = kept
        record = json.loads(path.read_text())
        assert record["accepted"] is False and message in record["incomplete"]
        assert len(record["points"]) == readings


def test_bench_on_a_real_port_is_refused(tmp_path: Path, capsys) -> None:
    assert main(["calibrate", "--port", "/dev/ttyUSB9", "--bench", "--masses", "0,1",
                 "--records", str(tmp_path)]) == 2
    assert "--bench places masses on the simulated probe only" in capsys.readouterr().err


def test_failed_calibration_keeps_the_readings_but_not_as_the_probes_record(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = calibrate(tmp_path, "--warmup-s", "0", "--write", "--cell-nonlin", "2")
    out = capsys.readouterr().out
    assert rc == 1
    assert "acceptance FAIL: fit error" in out and "REJECTED" in out
    assert not (tmp_path / "SIM00001.json").exists()
    (kept,) = tmp_path.iterdir()
    assert json.loads(kept.read_text())["accepted"] is False
    assert "written to the probe" not in out


def test_probe_that_refuses_write_cal_leaves_the_record_unreplaced(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    handle = SimProbe._handle

    def refusing(self: SimProbe, cmd) -> None:  # a probe whose EEPROM is write-protected
        if cmd.type == FrameType.WRITE_CAL:
            return self._ack(cmd, Status.STORAGE)
        return handle(self, cmd)

    monkeypatch.setattr(SimProbe, "_handle", refusing)
    rc = calibrate(tmp_path, "--warmup-s", "0", "--write")
    err = capsys.readouterr().err
    assert rc == 2
    assert "did not store the calibration (WRITE_CAL refused: STORAGE)" in err
    assert not (tmp_path / "SIM00001.json").exists()


def test_interactive_procedure_takes_the_operators_masses(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    typed = iter(["R. Operator", "1", "2", "12", "abc", "5", "8", "10", "8", "5", "2",
                  "7", "1", "0", "done"])
    prompts: list[str] = []

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        return next(typed)

    monkeypatch.setattr("builtins.input", answer)
    rc = main(["calibrate", "--port", "sim", "--warmup-s", "0", "--records", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "refused: 12 kg is beyond the cell's capacity" in out
    assert "'abc' is not a mass" in out
    assert "refused: masses out of order: 7 kg after 2 kg while unloading" in out
    assert sum("(down;" in p for p in prompts) >= 5
    record = json.loads((tmp_path / "SIM00001.json").read_text())
    assert record["by"] == "R. Operator" and len(record["points"]) == 11


def test_verify_passes_a_true_probe_and_fails_a_bowed_one(
        capsys: pytest.CaptureFixture[str]) -> None:
    verify = ["calibrate", "--port", "sim", "--bench", "--verify", "--mass", "5"]
    assert main(verify) == 0
    out = capsys.readouterr().out
    assert "PASS" in out
    assert "WARNING: probe SIM00001: the calibration is" in out  # its record dates from 1970
    assert main([*verify, "--cell-nonlin", "3"]) == 1  # reads 6 % high at half capacity
    assert "FAIL: recalibrate the probe" in capsys.readouterr().out
    assert main(["calibrate", "--port", "sim", "--verify"]) == 2
    assert "--verify needs the known mass" in capsys.readouterr().err


class _Events:
    def __init__(self) -> None:
        self.q: queue.Queue[Event] = queue.Queue()

    def on_batch(self, batch: np.ndarray) -> None:
        pass

    def on_event(self, event: Event) -> None:
        self.q.put(event)

    def close(self) -> None:
        pass

    def drain(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self.q.get_nowait()

    def wait(self, kind: type, timeout: float = 20.0) -> Event:
        while True:
            event = self.q.get(timeout=timeout)
            if isinstance(event, kind):
                return event


@pytest.fixture
def probe() -> Iterator[tuple[SimProbe, ProbeSource, _Events]]:
    events = _Events()
    with SimProbe(speed=4.0) as sim, ProbeSource(sim.port, sink=events) as source:
        source.hello(timeout=5.0)
        yield sim, source, events


RECORD = CalRecord(1, -5012, 1 / 40_013.5, 78, 1_796_131_200, "TPF00042", 0)


def test_record_survives_a_reset_of_the_simulated_probe(probe) -> None:
    sim, source, events = probe
    stored = source.write_calibration(RECORD)
    assert stored.pack() == RECORD.pack()
    events.drain()
    sim.reset()
    banner = events.wait(DeviceInfo)
    assert banner.serial == "TPF00042"  # the probe names itself from its record
    assert source.read_calibration().pack() == RECORD.pack()


def test_write_refused_or_read_back_different_is_an_error(probe) -> None:
    sim, source, _ = probe
    original = SimProbe._handle

    def refuse(cmd) -> None:
        if cmd.type == FrameType.WRITE_CAL:
            return sim._ack(cmd, Status.UNSUPPORTED)
        return original(sim, cmd)

    sim._handle = refuse  # type: ignore[method-assign]
    with pytest.raises(CalWriteError, match=r"did not store .* UNSUPPORTED"):
        source.write_calibration(RECORD)

    def forgetful(cmd) -> None:  # acknowledges, but the EEPROM keeps its old bytes
        if cmd.type == FrameType.WRITE_CAL:
            return sim._ack(cmd)
        return original(sim, cmd)

    sim._handle = forgetful  # type: ignore[method-assign]
    with pytest.raises(CalWriteError, match="reads back a different record"):
        source.write_calibration(RECORD)
    assert source.read_calibration().serial == "SIM00001"


def test_masses_that_are_not_numbers_are_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*BENCH[:-1], "0,1,x"])
    assert exit_.value.code == 2
    assert "give masses in kg separated by commas" in capsys.readouterr().err


def test_g_is_used_for_the_forces(tmp_path: Path) -> None:
    assert calibrate(tmp_path, "--warmup-s", "0", "--g", "9.81") == 0
    record = json.loads((tmp_path / "SIM00001.json").read_text())
    assert record["g_m_per_s2"] == pytest.approx(9.81)
    assert record["points"][5]["force_n"] == pytest.approx(98.1)
    # the cell's true weight is by standard gravity: a 0.03 % different g shows in the slope
    assert 1 / record["n_per_count"] / 42_000 == pytest.approx(G_STANDARD / 9.81, rel=2e-4)


def test_tpforce_sim_bench_places_typed_masses_on_the_true_cell() -> None:
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "tpforce", "sim", "--bench", "--speed", "4", "--cell-scale",
         "40000", "--cell-offset", "1000", "--cell-noise", "10"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        port = proc.stdout.readline().split(" on ")[1].split(";")[0]
        batches: queue.Queue[np.ndarray] = queue.Queue()

        class Sink(_Events):
            def on_batch(self, batch: np.ndarray) -> None:
                batches.put(batch.copy())

        with ProbeSource(port, sink=Sink()) as source:
            source.hello(timeout=5.0)
            proc.stdin.write("2.5\n")
            proc.stdin.flush()
            assert proc.stdout.readline().strip() == "placed 2.5 kg"
            t_placed = -1.0
            while t_placed < 0:  # the first sample that carries the mass
                b = batches.get(timeout=20)
                on = b["raw"] > 500_000
                if on.any():
                    t_placed = float(b["t_s"][on][0])
            got: list[np.ndarray] = []
            while sum(len(b) for b in got) < 160:
                b = batches.get(timeout=20)
                got.append(b[b["t_s"] > t_placed + 2.0])
        raw = np.concatenate(got)["raw"]
        assert np.mean(raw) == pytest.approx(1000 + 2.5 * G_STANDARD * 40_000, rel=1e-4)
        proc.stdin.close()  # the end of the input ends the bench
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_saturated_adc_stops_the_procedure_and_keeps_the_readings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 100,000 counts/N: 10 kg is past the HX711's 8.4 M counts, 8 kg is not
    assert calibrate(tmp_path, "--warmup-s", "0", "--cell-scale", "100000") == 2
    assert "the ADC saturated" in capsys.readouterr().err
    (kept,) = tmp_path.glob("SIM00001-*-incomplete.json")
    assert [p["mass_kg"] for p in json.loads(kept.read_text())["points"]] == [0, 1, 2, 5, 8]
