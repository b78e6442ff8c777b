"""A live session's recording goes into the history when it closes; re-indexing it (or
importing it later) changes nothing; a history that cannot be written costs one warning
line and never the recording."""

from __future__ import annotations

from pathlib import Path

import pytest

from tpforce.cli import main
from tpforce.history.store import HistoryStore
from tpforce.io.player import verify


def _live(tmp_path: Path, *extra: str) -> int:
    return main(["live", "--port", "sim", "--duration", "1.5", "--settings",
                 str(tmp_path / "s.ini"), *extra])


def test_a_closed_recording_is_indexed_once(db_url: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("TPFORCE_DATA_DIR", str(data))
    monkeypatch.setenv("TPFORCE_HISTORY_DB", db_url)
    assert _live(tmp_path, "--patient", "P017", "--operator", "op3") == 0
    err = capsys.readouterr().err
    (rec,) = (data / "recordings").iterdir()
    assert "history: visit of P017 on " in err and " added (0 point(s))" in err
    with HistoryStore.open(db_url, create=False) as store:
        (visit,) = store.visits("P017")
        assert visit.operator == "op3" and visit.recording == str(rec.resolve())
    assert main(["history", "import", str(rec)]) == 0  # the old-recordings path: no change
    assert "1 visit(s) into" in capsys.readouterr().out
    assert main(["history", "import", str(rec), str(rec.parent)]) == 0
    assert "0 added, 0 updated, 2 unchanged" in capsys.readouterr().out
    with HistoryStore.open(db_url, create=False) as store:
        assert store.count("visits") == 1
    assert verify(rec) == (None, [])


def test_a_history_that_cannot_be_written_is_one_warning_and_the_recording_stays(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    blocker = tmp_path / "a-folder-not-a-database"
    blocker.mkdir()
    monkeypatch.setenv("TPFORCE_DATA_DIR", str(data))
    monkeypatch.setenv("TPFORCE_HISTORY_DB", str(blocker))
    assert _live(tmp_path, "--patient", "P018") == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if "history not updated" in line]
    assert len(warnings) == 1 and warnings[0].startswith("tpforce: warning: ")
    assert "is a folder, not a history database" in warnings[0]
    assert "Traceback" not in err
    (rec,) = (data / "recordings").iterdir()
    assert str(rec.resolve()) in warnings[0]
    assert verify(rec) == (None, [])  # the recording is whole


def test_a_session_without_a_patient_is_not_a_visit(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("TPFORCE_DATA_DIR", str(data))
    monkeypatch.delenv("TPFORCE_HISTORY_DB", raising=False)
    assert _live(tmp_path) == 0
    assert len(list((data / "recordings").iterdir())) == 1
    assert not (data / "history.sqlite3").exists()
