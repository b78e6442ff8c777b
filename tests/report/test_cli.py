"""`tpforce report` and `tpforce history import` on recording folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tpforce.cli import main
from tpforce.history.fromsession import visit_from_session
from tpforce.history.record import RecordError
from tpforce.history.store import HistoryStore
from tpforce.report.session import SessionData, point_views

from .conftest import Recorded


def test_report_writes_html_and_pdf_from_recordings(recorded: Recorded, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    html = tmp_path / "report.html"
    assert main(["report", str(recorded.path), str(recorded.path), "-o", str(html)]) == 0
    assert "2 session(s), 4 point(s)" in capsys.readouterr().out
    page = html.read_text()
    assert page.count("<h2>Session ") == 2 and "P-0107" in page
    pdf = tmp_path / "report.pdf"
    assert main(["report", str(recorded.path), "-o", str(pdf)]) == 0
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("case", ["missing", "suffix", "folder", "not-recording", "name"])
def test_report_bad_input_is_one_line_and_exit_2(case: str, recorded: Recorded, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    src, out = recorded.path, tmp_path / "r.html"
    if case == "missing":
        src = tmp_path / "gone.tpfrec"
    elif case == "suffix":
        out = tmp_path / "r.docx"
    elif case == "folder":
        out = tmp_path / "no" / "r.html"
    elif case == "not-recording":
        src = tmp_path / "plain"
        src.mkdir()
        (src / "meta.json").write_text("{}")
    elif case == "name":  # a recording whose "pseudonym" is a full name is refused
        src = tmp_path / "named.tpfrec"
        shutil.copytree(recorded.path, src)
        doc = json.loads((src / "context.json").read_text())
        doc["context"] = {**doc["context"], "patient": "Jane Doe", "pseudonym": "Jane Doe"}
        (src / "context.json").write_text(json.dumps(doc))
    assert main(["report", str(src), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tpforce report: ") and err.count("\n") == 1
    assert "Traceback" not in err and not out.exists()


def test_visit_from_session_carries_points_outcomes_and_holds(recorded: Recorded) -> None:
    visit = visit_from_session(recorded.data)
    assert visit.patient == "P-0107" and visit.operator == "therapist A"
    assert visit.visited_at.isoformat() == "2026-03-02T09:30:00"
    views = point_views(recorded.data)
    assert [(p.site, p.side) for p in visit.points] == [(v.point.site, v.point.side.value)
                                                        for v in views]
    for rec, view in zip(visit.points, views, strict=True):
        assert rec.ppt_before_n == view.point.trials_before_n
        assert rec.ppt_after_n == view.point.trials_after_n
        assert rec.change_n == pytest.approx(view.point.outcome().change_n)
        assert [h["in_band_s"] for h in rec.holds] == [h.in_band_s for h in view.point.holds]
        assert all(h["completed"] is True for h in rec.holds)
    assert [p.verdict for p in visit.points] == [v.point.outcome().verdict.value for v in views]
    assert [p.verdict for p in visit.points] == ["rise_beyond_mdc", "within_mdc"]
    with pytest.raises(RecordError, match="pseudonym"):
        visit_from_session(SessionData(recorded.data.samples, recorded.data.events, {}))


def test_history_import_indexes_recording_folders_once(recorded: Recorded, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    shutil.copytree(recorded.path, folder / recorded.path.name)
    db = str(tmp_path / "h.sqlite3")
    assert main(["history", "import", str(folder), "--db", db]) == 0
    assert "1 added" in capsys.readouterr().out
    assert main(["history", "import", str(folder), "--db", db]) == 0
    assert "1 unchanged" in capsys.readouterr().out
    with HistoryStore.open(db, create=False) as store:
        (visit,) = store.visits("P-0107")
    assert visit.recording == str((folder / recorded.path.name).resolve())
    assert [p.label for p in visit.points] == ["upper trapezius R", "levator scapulae L"]
    assert visit.points[0].change_n == pytest.approx(
        point_views(recorded.data)[0].point.outcome().change_n)
    # A recording that names no patient is skipped, said so, and the rest still indexed.
    anon = folder / "anon.tpfrec"
    shutil.copytree(recorded.path, anon)
    doc = json.loads((anon / "context.json").read_text())
    doc["context"] = {k: v for k, v in doc["context"].items() if k not in ("pseudonym", "patient")}
    (anon / "context.json").write_text(json.dumps(doc))
    assert main(["history", "import", str(folder), "--db", db]) == 2
    out = capsys.readouterr()
    assert "skipped" in out.err and "anon.tpfrec" in out.err and "1 unchanged" in out.out
