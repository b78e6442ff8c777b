"""`tpforce history` end to end: import, table, --json, HTML, recurrence, export, erase, and
the one-line errors (exit 2, nothing lost)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import sys
from pathlib import Path

import pytest

from tests.history import conftest
from tests.history.helpers import PATIENT, three_visits
from tpforce.cli import main
from tpforce.history import paths
from tpforce.history.store import HistoryStore


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _write_visits(folder: Path, recording_root: Path | None = None) -> None:
    for k, v in enumerate(three_visits(str(recording_root) if recording_root else None)):
        (folder / f"v{k}").mkdir(parents=True)
        (folder / f"v{k}" / "visit.json").write_text(v.to_json())


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["history", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def imported(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    _write_visits(tmp_path / "visits")
    code, out, _ = _run(capsys, "import", str(tmp_path / "visits"), "--db", db_url)
    assert code == 0 and "3 added" in out
    return db_url


def test_import_is_idempotent_and_table_shows_rising_ppt(
        imported: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "import", str(tmp_path / "visits"), "--db", imported)
    assert code == 0 and "0 added, 0 updated, 3 unchanged" in out
    code, out, _ = _run(capsys, "--db", imported, PATIENT,
                        "--recurrence", "2026-03-05:upper trapezius R:6:long drive: 3 h")
    assert code == 0 and "logged" in out
    code, out, _ = _run(capsys, PATIENT, "--db", imported)
    assert code == 0
    lines = out.splitlines()
    assert lines[1].split()[:3] == ["visit", "date", "operator"] and lines[1].endswith("notes")
    assert lines[2].endswith("visit 1")
    rows = [ln for ln in lines if re.match(r"\d ", ln)]
    assert [re.search(r"(\d+\.\d) -> (\d+\.\d)", r).groups() for r in rows] == [  # type: ignore[union-attr]
        ("19.0", "22.5"), ("22.0", "25.5"), ("25.0", "28.5")]
    assert "2026-03-05 (day 3 after a visit): pain 6/10 in upper trapezius R, after long " \
           "drive: 3 h" in out


def test_json_and_html_report(imported: str, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, PATIENT, "--db", imported, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["visits"] == 3 and doc["patient"] == PATIENT
    assert {p["point"] for p in doc["body_chart"]["points"]} == {"upper trapezius R",
                                                                 "infraspinatus L"}
    target = tmp_path / "history.html"
    code, out, _ = _run(capsys, PATIENT, "--db", imported, "-o", str(target))
    assert code == 0 and _mode(target) == 0o600
    page = target.read_text()
    assert page.count("<svg") == 3 and page.count("class='site'") == 2
    assert page.count("class='ppt'") == 6  # before and after for each of three points
    assert not re.search(r"(src|href)=|https?://(?!www\.w3\.org/2000/svg)|<script", page)
    assert "flexor digitorum R" in page.split("Not on the chart")[1]
    assert "visit 1; infraspinatus L: tender</td>" in page


def test_bad_recurrence_and_unknown_patient_are_one_line(
        imported: str, capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in ((["--recurrence", "2026-03-05:trap:11:x"], "0-10"),
                          (["--recurrence", "yesterday:trap:5"], "YYYY-MM-DD"),
                          (["--recurrence", "2026-03-05"], "DATE:REGION:NRS")):
        code, _, err = _run(capsys, PATIENT, "--db", imported, *argv)
        assert code == 2 and message in err and err.count("\n") == 1
    code, _, err = _run(capsys, "P-9", "--db", imported)
    assert code == 2 and "unknown patient 'P-9'" in err and err.count("\n") == 1
    code, _, err = _run(capsys, "Jane Doe", "--db", imported)
    assert code == 2 and "never a name" in err
    with HistoryStore.open(imported) as store:
        assert store.count("recurrence") == 0 and store.count("visits") == 3


def test_export_writes_private_json_and_csv(imported: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "out"
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    code, out, err = _run(capsys, PATIENT, "--db", imported, "--export", str(folder))
    assert code == 1 and "nothing exported" in out and not folder.exists()
    assert f"Export 3 visit(s) of {PATIENT}" in err
    code, out, _ = _run(capsys, PATIENT, "--db", imported, "--export", str(folder), "--yes")
    assert code == 0 and _mode(folder) == 0o700
    files = sorted(p.name for p in folder.iterdir())
    assert files == [f"{PATIENT}-holds.csv", f"{PATIENT}-points.csv",
                     f"{PATIENT}-recurrence.csv", f"{PATIENT}.json"]
    assert all(_mode(folder / f) == 0o600 for f in files)
    doc = json.loads((folder / f"{PATIENT}.json").read_text())
    assert [v["points"][0]["ppt_after_n"] for v in doc["visits"]] == [
        [22.0, 23.0], [25.0, 26.0], [28.0, 29.0]]
    points = list(csv.DictReader((folder / f"{PATIENT}-points.csv").open()))
    assert len(points) == 7 and points[0]["trials_before_n"] == "18;19;20"
    holds = list(csv.DictReader((folder / f"{PATIENT}-holds.csv").open()))
    assert len(holds) == 6 and holds[1]["completed"] == "False"


def test_erase_asks_then_removes_rows_and_recordings(db_url: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    recs = tmp_path / "recordings"
    for k in (1, 2):
        (recs / f"visit{k}").mkdir(parents=True)
        (recs / f"visit{k}" / "samples.bin").write_bytes(b"\0" * 16)
    _write_visits(tmp_path / "visits", recs)
    assert _run(capsys, "import", str(tmp_path / "visits"), "--db", db_url)[0] == 0

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = _run(capsys, PATIENT, "--db", db_url, "--erase")
    assert code == 2 and "--yes" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("no\n"))
    code, out, _ = _run(capsys, PATIENT, "--db", db_url, "--erase", "--recordings")
    assert code == 1 and "nothing erased" in out
    with HistoryStore.open(db_url) as store:
        assert store.count("visits") == 3
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, out, err = _run(capsys, PATIENT, "--db", db_url, "--erase", "--recordings")
    assert code == 0, err
    assert "Erase P-0042: 3 visit(s)" in err and "recording already gone" in out
    assert not (recs / "visit1").exists() and not (recs / "visit2").exists()
    with HistoryStore.open(db_url) as store:
        assert sum(store.count(t) for t in ("patients", "visits", "points", "trials")) == 0
    assert _run(capsys, PATIENT, "--db", db_url)[0] == 2


def test_erase_without_flag_keeps_recordings(imported: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, PATIENT, "--db", imported, "--erase", "--yes")
    assert code == 0 and "deleted" not in out
    assert _run(capsys, "--recordings", PATIENT, "--db", imported)[0] == 2


def test_import_skips_bad_files_and_keeps_the_good(db_url: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    _write_visits(tmp_path / "visits")
    (tmp_path / "visits" / "bad").mkdir()
    (tmp_path / "visits" / "bad" / "visit.json").write_text('{"format": "tpforce-visit", ')
    code, out, err = _run(capsys, "import", str(tmp_path / "visits"), "--db", db_url)
    assert code == 2 and "3 added" in out and "1 file(s) skipped" in out
    assert "bad/visit.json: not JSON" in err
    code, _, err = _run(capsys, "import", str(tmp_path / "nowhere"), "--db", db_url)
    assert code == 2 and "not a folder" in err


def test_newer_schema_and_corrupt_file_exit_2_and_keep_data(
        imported: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with HistoryStore.open(imported) as store:
        store._exec("UPDATE schema_version SET version = 2")
    code, _, err = _run(capsys, PATIENT, "--db", imported)
    assert code == 2 and "upgrade tpforce" in err and err.count("\n") == 1
    code, _, err = _run(capsys, "import", str(tmp_path / "visits"), "--db", imported)
    assert code == 2 and "newer" in err
    assert _raw_visit_count(imported) == 3


def _raw_visit_count(url: str) -> int:
    """Visits counted without the schema check (which refuses a newer schema)."""
    if url.startswith("postgresql://"):
        import psycopg
        with psycopg.connect(url) as pg:
            return int(pg.execute("SELECT COUNT(*) FROM visits").fetchone()[0])
    import sqlite3
    with sqlite3.connect(url) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM visits").fetchone()[0])


def test_corrupt_database_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    db = tmp_path / "h.sqlite3"
    db.write_bytes(b"\x00garbage" * 1000)
    code, _, err = _run(capsys, PATIENT, "--db", str(db))
    assert code == 2 and "not a readable history database" in err and err.count("\n") == 1
    _write_visits(tmp_path / "visits")
    code, _, err = _run(capsys, "import", str(tmp_path / "visits"), "--db", str(db))
    assert code == 2 and db.read_bytes() == b"\x00garbage" * 1000


def test_unreachable_postgres_is_one_line(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    conftest.require_psycopg()
    url = f"postgresql://tpforce:secret@/clinic?host={tmp_path}&connect_timeout=2"
    code, _, err = _run(capsys, PATIENT, "--db", url)
    assert code == 2 and err.count("\n") == 1
    assert "cannot reach PostgreSQL" in err and "secret" not in err and "--db" in err


def test_postgres_url_without_driver_says_what_to_install(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails
    code, _, err = _run(capsys, PATIENT, "--db", "postgresql://tpforce@/clinic")
    assert code == 2 and "pip install 'tpforce[pg]'" in err and err.count("\n") == 1


def test_default_store_lives_in_private_user_data_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TPFORCE_DATA_DIR", raising=False)
    monkeypatch.delenv("TPFORCE_HISTORY_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert paths.default_db_path() == tmp_path / "xdg" / "tpforce" / "history.sqlite3"
    code, _, err = _run(capsys, PATIENT)
    assert code == 2 and "no history yet" in err and not (tmp_path / "xdg").exists()
    _write_visits(tmp_path / "visits")
    assert _run(capsys, "import", str(tmp_path / "visits"))[0] == 0
    db = paths.default_db_path()
    assert _mode(db.parent) == 0o700
    files = sorted(db.parent.iterdir())
    assert db in files and {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}


def test_data_folder_follows_each_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path.home()
    monkeypatch.delenv("TPFORCE_DATA_DIR", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert paths.user_data_dir() == home / ".local" / "share" / "tpforce"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    assert paths.user_data_dir() == home / ".local" / "share" / "tpforce"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert paths.user_data_dir() == home / "Library" / "Application Support" / "tpforce"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", os.path.join("C:", "Users", "u", "AppData", "Local"))
    assert paths.user_data_dir() == Path("C:", "Users", "u", "AppData", "Local", "tpforce")
    monkeypatch.setenv("TPFORCE_DATA_DIR", "/srv/tp")
    assert paths.user_data_dir() == Path("/srv/tp")


def test_only_folders_tpforce_creates_are_made_private(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    _write_visits(tmp_path / "visits")
    db = shared / "new" / "deeper" / "h.sqlite3"
    assert _run(capsys, "import", str(tmp_path / "visits"), "--db", str(db))[0] == 0
    assert _mode(shared) == 0o755
    assert _mode(shared / "new") == _mode(db.parent) == 0o700 and _mode(db) == 0o600


def test_erase_never_deletes_a_home_or_root_named_as_a_recording(
        db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / "work").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home / "work")
    recording = tmp_path / "rec"
    recording.mkdir()
    bad = [str(home), "/", str(home / "work"), str(recording)]
    visits = three_visits()
    for v in visits:
        v.recording = bad.pop(0)
    folder = tmp_path / "visits"
    for k, v in enumerate(visits):
        (folder / f"v{k}").mkdir(parents=True)
        (folder / f"v{k}" / "visit.json").write_text(v.to_json())
    extra = three_visits()[0]
    extra.visited_at = extra.visited_at.replace(year=2025)
    extra.recording = str(recording)
    (folder / "v9").mkdir()
    (folder / "v9" / "visit.json").write_text(extra.to_json())
    assert _run(capsys, "import", str(folder), "--db", db_url)[0] == 0
    code, out, err = _run(capsys, PATIENT, "--db", db_url, "--erase", "--recordings", "--yes")
    assert code == 2 and err.count("not deleting") == 3
    assert home.is_dir() and (home / "work").is_dir() and not recording.exists()
    assert "erased P-0042: 4 visit(s)" in out
