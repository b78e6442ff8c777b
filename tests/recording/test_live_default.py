"""`tpforce live` records by default: from the first sample, into the private per-user
data folder, named by pseudonym and time; a folder it cannot write is a warning, not a stop."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from PyQt5 import QtWidgets

from tpforce.cli import main
from tpforce.io.player import verify
from tpforce.io.recorder import RecordingReader
from tpforce.ui.status import LiveLink, StatusInfo


def _live(tmp_path: Path, *extra: str) -> int:
    return main(["live", "--port", "sim", "--duration", "1.5", "--settings",
                 str(tmp_path / "s.ini"), *extra])


def test_live_records_from_the_first_sample_into_the_private_data_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("TPFORCE_DATA_DIR", str(data))
    assert _live(tmp_path, "--patient", "P017", "--operator", "op3") == 0
    (rec,) = (data / "recordings").iterdir()
    assert rec.name.startswith("P017-") and rec.suffix == ".tpfrec"
    for folder in (data, data / "recordings", rec):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for f in rec.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    reader = RecordingReader(rec)
    ctx = reader.context
    assert ctx["patient"] == "P017" and ctx["operator"] == "op3"
    assert ctx["from_first_sample"] and reader.samples()["seq"][0] == 0
    assert reader.sample_count > 40
    assert verify(rec) == (None, [])


def test_no_record_records_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TPFORCE_DATA_DIR", str(tmp_path / "data"))
    assert _live(tmp_path, "--no-record") == 0
    assert not (tmp_path / "data" / "recordings").exists()


def test_an_unwritable_folder_is_a_warning_and_acquisition_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("TPFORCE_DATA_DIR", str(blocker))
    assert _live(tmp_path) == 0
    assert "warning: NOT RECORDING" in capsys.readouterr().err
    with pytest.raises(ValueError, match="pseudonym"):
        from tpforce.history.record import check_pseudonym
        check_pseudonym("Jane Doe")
    assert _live(tmp_path, "--patient", "Jane Doe") == 2


def test_the_status_bar_shows_the_recording_and_its_size_or_the_warning(qtbot) -> None:
    state = [(True, "● REC P017-20260101-101010.tpfrec 1.2 MB")]
    window = QtWidgets.QMainWindow()
    qtbot.addWidget(window)
    bar = window.statusBar()
    info = StatusInfo(bar, LiveLink(recording=lambda: state[0]))
    info.show(True)
    assert info.fields["record"].text() == state[0][1]
    assert info.recording is not None  # the R key now stops it
    state[0] = (False, "RECORDING FAILED: recording stopped writing: No space left on device")
    info.show(True)
    assert info.fields["record"].text().startswith("RECORDING FAILED")
    assert "background" in info.fields["record"].styleSheet()
