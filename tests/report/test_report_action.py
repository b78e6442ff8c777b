"""The live window's "Save report": offered once the after-trials are done, Ctrl+S writes
the session's HTML and PDF into the patient's folder and the window says where."""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path

import pytest
from PyQt5 import QtCore

from tpforce.report.scripted import ScriptPoint
from tpforce.ui.report_action import patient_folder
from tpforce.ui.settings import LiveSettings, open_store
from tpforce.ui.sound import SoundPlayer
from tpforce.ui.window import LiveWindow

from .browser import chromium
from .conftest import need
from .probe_session import LEAD_S, start

POINT = ScriptPoint("upper trapezius", "R", 20.0, 26.0, hold_s=30.0)


@pytest.mark.gui
@pytest.mark.session_first
@pytest.mark.timeout(300)
def test_save_report_at_the_end_of_a_session(qtbot, tmp_path: Path, output_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("TPFORCE_DATA_DIR", str(data))
    run = start((POINT,), "P-0300", history_db=str(tmp_path / "h.sqlite3"))
    try:
        pipeline = run.pipeline
        window = LiveWindow(pipeline.processor, pipeline.ring, pipeline.events,
                            LiveSettings(target_s=15.0), store=open_store(tmp_path / "s.ini"),
                            player=SoundPlayer(folder=tmp_path / "snd", enable_audio=False),
                            title="tpforce test")
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        action = window.report
        first = run.therapist.first_t
        assert first is not None and first < LEAD_S  # the script was not cut short
        assert not action.button.isVisible()
        if not action.offered:  # one wait on the signal, not 10 ms polls for a minute
            with qtbot.waitSignal(action.offer_shown, timeout=180_000, raising=False) as got:
                pass
            point = pipeline.processor.session.current
            assert got.signal_triggered, (
                f"no offer: phase {pipeline.processor.state.phase}, trials before "
                f"{point.trials_before_n}, after {point.trials_after_n}, script at "
                f"{run.therapist.t_s:.1f} s of {run.therapist.end_s:.1f} s, "
                f"{pipeline.source.health()}, refusals "
                f"{[e for e in window.seen_events if 'Refused' in type(e).__name__][:5]}")
        assert action.button.isVisible()
        assert action.button.text() == "Save report (Ctrl+S)"
        assert len(pipeline.processor.session.current.trials_after_n) == 3
        qtbot.keyClick(window, QtCore.Qt.Key_S, QtCore.Qt.ControlModifier)
        assert action.saved  # the shortcut saved at once, on this thread
        html, pdf = action.saved
        folder = patient_folder("P-0300")
        assert folder == data / "patients" / "P-0300" and html.parent == pdf.parent == folder
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        for f in (html, pdf):
            assert stat.S_IMODE(f.stat().st_mode) == 0o600
        assert action.message.isVisible()
        assert action.message.text() == f"report saved in {folder}: {html.name} and {pdf.name}"
        assert re.fullmatch(r"report-\d{8}-\d{6}\.html", html.name) and pdf.suffix == ".pdf"
        assert action.button.text() == "Report saved ✓ · again: Ctrl+S"
        assert window.screenshot(str(output_dir / "saved.png"))
        point = pipeline.processor.session.current
        outcome = point.outcome()
        page = html.read_text(encoding="utf-8")
        assert "P-0300" in page and "therapist A" in page and "upper trapezius, right" in page
        for value in [*point.trials_before_n, *point.trials_after_n, outcome.ppt_before_n,
                      outcome.ppt_after_n]:
            assert f"{value:.1f}" in page
        assert f"{outcome.change_n:+.1f}" in page
        # open it in a real browser: the DOM holds the same numbers
        dom = chromium(["--dump-dom", html.as_uri()], tmp_path)
        assert dom.returncode == 0, dom.stderr[-2000:]
        text = re.sub(r"<[^>]+>", " ", dom.stdout)
        assert f"{outcome.ppt_after_n:.1f}" in text and "P-0300" in text
        assert pdf.read_bytes().startswith(b"%PDF")
        pdftotext = need("pdftotext", "poppler-utils")
        words = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True,
                               timeout=120, check=True).stdout
        assert "P-0300" in words and f"{outcome.ppt_after_n:.1f}" in words
        # saving again writes the same two files, not new ones
        action.save()
        assert action.saved == [html, pdf] and sorted(folder.iterdir()) == sorted([html, pdf])
        window.close()
    finally:
        run.pipeline.close()


@pytest.mark.gui
def test_a_report_that_cannot_be_written_is_said_in_one_line(qtbot, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("TPFORCE_DATA_DIR", str(blocker))
    run = start((POINT,), "P-0301", history_db=str(tmp_path / "h.sqlite3"))
    try:
        pipeline = run.pipeline
        window = LiveWindow(pipeline.processor, pipeline.ring, pipeline.events,
                            store=open_store(tmp_path / "s.ini"),
                            player=SoundPlayer(folder=tmp_path / "snd", enable_audio=False))
        qtbot.addWidget(window)
        window.report.save()
        line = window.report.message.text()
        assert line.startswith("report NOT saved: ") and "\n" not in line
        assert window.report.saved == []
        window.close()
    finally:
        run.pipeline.close()
