"""At connect, a probe whose record is too old, for another probe, or missing is warned
about: one line on stderr from `stream`, and a persistent warning in the live window."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from benchhelp import Tap

from tpforce.cli import main
from tpforce.cli.wiring import start_pipeline
from tpforce.core.events import ZeroChecked
from tpforce.core.protocol import CalRecord
from tpforce.core.tracker import HoldConfig
from tpforce.io.calibration import calibration_chooser
from tpforce.io.drivers import make_source
from tpforce.io.sim.cell import CellParams, SimCell
from tpforce.io.sim.hand import ScriptedIntent, Step
from tpforce.io.sim.probe import SimProbe

DAY = 86400


def probe_with_record(age_days: float | None, serial: str = "SIM00001",
                      cell: SimCell | None = None, steps: list[Step] | None = None) -> SimProbe:
    """A simulated probe whose EEPROM record was made `age_days` ago (None: no record)."""
    probe = SimProbe(cell=cell, speed=10.0 if steps else 1.0,
                     intent=ScriptedIntent(steps, loop=False) if steps else None)
    probe.cal = None if age_days is None else CalRecord(
        1, 8_400, 1.0 / 42_000.0, 100, int(time.time() - age_days * DAY), serial, 0)
    return probe.start()


def stream_stderr(probe: SimProbe, capsys: pytest.CaptureFixture[str],
                  extra: tuple[str, ...] = ()) -> list[str]:
    try:
        assert main(["stream", "--port", probe.port, "--duration", "0.3", *extra]) == 0
    finally:
        probe.stop()
    return capsys.readouterr().err.strip().splitlines()


def test_an_old_record_is_one_line_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    [line] = stream_stderr(probe_with_record(400.2), capsys)
    assert line == ("tpforce: warning: calibration 400 days old (limit 183, the probe's "
                    "record): recalibrate (tpforce calibrate)")


def test_the_clinic_sets_its_own_recalibration_interval(
        capsys: pytest.CaptureFixture[str]) -> None:
    [line] = stream_stderr(probe_with_record(100.2), capsys, ("--max-cal-age-days", "90"))
    assert "calibration 100 days old (limit 90, the probe's record)" in line
    assert stream_stderr(probe_with_record(100.2), capsys, ("--max-cal-age-days", "365")) == []


def test_a_record_of_another_probe_is_said(capsys: pytest.CaptureFixture[str]) -> None:
    [line] = stream_stderr(probe_with_record(10, serial="OTHER007"), capsys)
    assert "record is for probe OTHER007, but this probe is SIM00001" in line


def test_a_fresh_record_says_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert stream_stderr(probe_with_record(10), capsys) == []


def test_no_record_is_said_once(capsys: pytest.CaptureFixture[str]) -> None:
    [line] = stream_stderr(probe_with_record(None), capsys)
    assert "no calibration record" in line


def test_a_record_file_past_its_age_is_warned_about(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import json

    root = Path(__file__).resolve().parents[2]
    record = json.loads((root / "calibration/records/SIM00001.json").read_text())
    record["calibrated_utc"] = "2020-01-01T00:00:00Z"
    path = tmp_path / "SIM00001.json"
    path.write_text(json.dumps(record))
    probe = probe_with_record(10)
    source = make_source(probe.port, "probe", None, reconnect=False)
    choose = calibration_chooser(path)
    with start_pipeline(source, choose=choose, owned=[probe]) as pipe:
        assert "days old (limit 183, SIM00001.json record)" in pipe.calibration_notice
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.gui
def test_the_window_keeps_both_warnings_on_screen(qtbot, tmp_path: Path,
                                                  output_dir: Path) -> None:
    from tpforce.ui.settings import open_store
    from tpforce.ui.sound import SoundPlayer
    from tpforce.ui.status import LiveLink
    from tpforce.ui.window import LiveWindow

    params = CellParams()
    moved = SimCell(CellParams(zero_counts=params.zero_counts + round(1.4 * params.counts_per_n)))
    steps = [Step(2.0, 0.0), Step(3.0, 15.0), Step(6.0, 15.0), Step(0.3, 0.0), Step(60.0, 0.0)]
    probe = probe_with_record(400.2, cell=moved, steps=steps)
    tap = Tap()
    source = make_source(probe.port, "probe", None, reconnect=False)
    with start_pipeline(source, choose=calibration_chooser(None), extras=[tap],
                        hold=HoldConfig(target_s=4.0), owned=[probe]) as pipe:
        window = LiveWindow(pipe.processor, pipe.ring, pipe.events,
                            store=open_store(tmp_path / "live.ini"),
                            link=LiveLink(calibration=pipe.calibration_notice),
                            player=SoundPlayer(folder=tmp_path / "snd", enable_audio=False))
        qtbot.addWidget(window)
        window.show()
        label = window.calibration_warning
        qtbot.waitUntil(label.isVisible, timeout=5000)
        assert "calibration 400 days old (limit 183" in label.text()
        pipe.processor.set_band_custom(12.0, 18.0, "N")
        pipe.processor.set_phase("treatment")
        z = tap.wait_for(ZeroChecked)
        assert isinstance(z, ZeroChecked) and z.exceeded
        qtbot.waitUntil(lambda: "ZERO DRIFTED" in label.text(), timeout=5000)
        assert "calibration 400 days old" in label.text()  # both stay
        assert "zero moved +1.4" in label.text() and "re-tare" in label.text()
        qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()),
                        timeout=5000)  # laid out whole: both lines on screen
        assert window.grab().save(str(output_dir / "warnings.png"), "PNG")
        pipe.processor.tare()
        qtbot.waitUntil(lambda: "ZERO DRIFTED" not in label.text(), timeout=5000)
        assert label.isVisible()
        window.close()
