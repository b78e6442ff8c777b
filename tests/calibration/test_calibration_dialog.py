"""The calibration dialog, opened from the live window with K, on the simulated bench: it shows
the probe's (old) record, runs the guided procedure on the live stream with known masses,
recovers the cell's true parameters, gives the verdict and keeps the record, EEPROM included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PyQt5 import QtCore

from tpforce.cli.calibrate import bench_link, plan
from tpforce.cli.wiring import start_pipeline
from tpforce.core import calbench as cb
from tpforce.core.protocol import CalRecord
from tpforce.io.calibration import calibration_chooser
from tpforce.io.drivers import make_source
from tpforce.io.sim.cell import CellParams, SimCell
from tpforce.io.sim.probe import SimProbe

ROOT = Path(__file__).resolve().parents[2]
TRUE = CellParams(zero_counts=-3200, counts_per_n=41_500.0, non_linearity_pct=0.04,
                  hysteresis_pct=0.03, creep_pct_30min=0.1)
MASSES = [1.0, 2.0, 5.0, 8.0, 10.0]


def waited(qtbot: object, ready: object, timeout_ms: int = 30_000) -> None:
    qtbot.waitUntil(ready, timeout=timeout_ms)  # type: ignore[attr-defined]


@pytest.mark.gui
def test_the_dialog_runs_the_bench_and_keeps_the_record(qtbot, tmp_path: Path,
                                                        output_dir: Path) -> None:
    from tpforce.ui.settings import open_store
    from tpforce.ui.sound import SoundPlayer
    from tpforce.ui.status import LiveLink
    from tpforce.ui.window import LiveWindow

    cell = SimCell(TRUE, bench=True)
    probe = SimProbe(cell=cell, serial="SIM00002", speed=20.0)
    probe.cal = CalRecord(1, -3000, 1 / 41_000.0, 100, int(time.time() - 400.2 * 86400),
                          "SIM00002", 0)
    probe.start()
    source = make_source(probe.port, "probe", None, reconnect=False)
    choose = calibration_chooser(None)
    with start_pipeline(source, choose=choose, owned=[probe], ring_s=30.0) as pipe:
        link = LiveLink(calibration=pipe.calibration_notice,
                        bench=bench_link(source, tmp_path, write=True, cell=cell))
        window = LiveWindow(pipe.processor, pipe.ring, pipe.events, link=link,
                            store=open_store(tmp_path / "live.ini"),
                            player=SoundPlayer(folder=tmp_path / "snd", enable_audio=False))
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=2000)  # window shortcuts need focus
        qtbot.keyClick(window, QtCore.Qt.Key_K)
        dlg = window.calibration_dialog
        assert dlg is not None and dlg.isVisible()
        shown = dlg.current.text()
        assert "Probe <b>SIM00002</b> · record from the probe's EEPROM" in shown
        assert "400 days old, limit 183: <b>EXPIRED</b> 217 days ago" in shown
        assert "2.439024e-05 N/count (41,000.0 counts/N)" in shown

        dlg.operator.setText("test bench")
        dlg.creep_kg.setValue(5.0)
        dlg.start_button.click()
        waited(qtbot, lambda: dlg.proc is not None and dlg.proc.phase is cb.Phase.READY)
        assert dlg.proc is not None and dlg.proc.warmup is not None  # the 60 s warm-up ran
        dlg.read_button.click()  # 0 kg after the tare: refused, asked again
        assert "0 kg again" in dlg.step.text() or "differ" in dlg.step.text()
        for mass in plan(MASSES, 1):
            n = len(dlg.proc.readings)
            dlg.mass.setValue(mass)
            dlg.read_button.click()
            waited(qtbot, lambda n=n: len(dlg.proc.readings) == n + 1
                   and dlg.proc.phase is cb.Phase.READY)
        assert dlg.creep_button.isEnabled()
        dlg.creep_s.setValue(60.0)
        dlg.creep_button.click()
        waited(qtbot, lambda: dlg.proc.creep_result is not None
               and dlg.proc.phase is cb.Phase.READY)
        dlg.fit_button.click()
        assert "ACCEPTED" in dlg.verdict.text()
        record = dlg.record
        assert record is not None and record["accepted"] is True
        assert record["serial"] == "SIM00002" and record["by"] == "test bench"
        assert abs(1 / record["n_per_count"] / 41_500 - 1) < 0.0005  # scale within 0.05 %
        assert abs(record["zero_counts"] + 3200) < 40  # offset within the noise
        assert abs(record["checks"]["non_linearity_pct_fs"] - 0.04) < 0.02
        assert abs(record["checks"]["hysteresis_pct_fs"] - 0.03) < 0.02
        assert [p["mass_kg"] for p in record["points"]] == [0, *plan(MASSES, 1)]
        assert 0 < record["creep"]["drift_pct"] < 0.25
        log = dlg.log.toPlainText()
        assert "acceptance pass: fit error" in log and "bar-cell typical meets" in log

        dlg.save_button.click()
        assert dlg.saved, dlg.log.toPlainText()
        assert "written to the probe's EEPROM and read back: identical" in dlg.log.toPlainText()
        kept = json.loads((tmp_path / "SIM00002.json").read_text())
        assert kept == record
        assert probe.cal == CalRecord.unpack(cb.eeprom_record(record).pack())  # in the EEPROM
        assert "record from this bench run" in dlg.current.text()
        assert "In force from the next connect" in dlg.current.text()
        assert not dlg.save_button.isEnabled()
        shot = output_dir / "calibration-dialog.png"
        assert dlg.grab().save(str(shot), "PNG") and shot.stat().st_size > 10_000
        dlg.close()
        window.close()


DIALOG = [sys.executable, "-m", "tpforce", "calibrate", "--port", "sim", "--bench",
          "--masses", "0,1,2,5,8,10", "--creep", "5", "--write", "--serial", "SIM00002",
          "--cell-scale", "41500", "--cell-offset", "-3200", "--cell-nonlin", "0.04",
          "--cell-hysteresis", "0.03", "--dialog"]


def run_dialog(tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": str(tmp / "xdg")}
    return subprocess.run([*DIALOG, "--records", str(tmp / "rec"), *extra], env=env,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.mark.gui
def test_the_unattended_dialog_command_keeps_the_record_and_its_picture(tmp_path: Path) -> None:
    shot = tmp_path / "dialog.png"
    done = run_dialog(tmp_path, "--screenshot", str(shot))
    assert done.returncode == 0, done.stderr
    assert "ACCEPTED:" in done.stdout and "Traceback" not in done.stderr
    record = json.loads((tmp_path / "rec" / "SIM00002.json").read_text())
    assert abs(1 / record["n_per_count"] / 41_500 - 1) < 0.0005
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.gui
@pytest.mark.parametrize("extra, message", [
    (["--masses", "0,5,2,8,10"], "out of order"),
    (["--masses", "0,1,2,5,12"], "beyond the cell's capacity of 10 kg"),
])
def test_the_unattended_dialog_refuses_bad_masses_in_one_line(tmp_path: Path, extra: list[str],
                                                              message: str) -> None:
    done = run_dialog(tmp_path, *extra)
    assert done.returncode == 2
    ours = [line for line in done.stderr.splitlines() if line.startswith("tpforce")]
    assert len(ours) == 1 and message in ours[0]  # the rest is the Qt platform's own notes
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "rec" / "SIM00002.json").exists()


def test_a_screenshot_needs_the_unattended_dialog(capsys: pytest.CaptureFixture[str]) -> None:
    from tpforce.cli import main

    assert main(["calibrate", "--port", "sim", "--screenshot", "x.png"]) == 2
    assert "add --dialog --bench" in capsys.readouterr().err
