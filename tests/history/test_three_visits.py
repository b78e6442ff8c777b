"""Three visits of one patient from real recordings: scripted sessions on the simulated
probe, recorded through the real pipeline and indexed when each recording closes; the pain
came back between the first two. The history's table, trend, recurrence timeline, verdicts
and body chart hold what the sessions filed live, on both engines; the history report and
the session report render in headless Chromium."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from PyQt5.QtGui import QImage

from tests.report.browser import chromium
from tests.report.probe_session import LEAD_S, start
from tpforce.cli import main
from tpforce.history.record import VERDICT_TEXT
from tpforce.history.store import HistoryStore
from tpforce.history.views import PatientHistory, body_chart, history_table, timeline, trend
from tpforce.report.scripted import ScriptPoint

PATIENT = "P-3V"
DATES = ("2026-03-02T09:30:00", "2026-03-09T09:30:00", "2026-03-16T10:00:00")
SCRIPTS = (
    (ScriptPoint("upper trapezius", "R", 18.0, 25.0, 30.0), ScriptPoint("levator scapulae", "L",
                                                                        30.0, 31.0, 30.0)),
    (ScriptPoint("upper trapezius", "R", 21.0, 28.0, 30.0), ScriptPoint("levator scapulae", "L",
                                                                        30.0, 31.0, 30.0)),
    (ScriptPoint("upper trapezius", "R", 24.0, 31.0, 30.0), ScriptPoint("levator scapulae", "L",
                                                                        31.0, 32.0, 30.0)),
)
RECURRENCE = "2026-03-05:upper trapezius R:6:long drive"
POINTS = ("upper trapezius R", "levator scapulae L")


@dataclass
class Visits:
    """The three recordings, the store they were indexed into at close, and what each
    session filed live: per point label, (trials before, trials after, verdict word)."""

    recordings: list[Path]
    db: str
    live: list[dict[str, tuple[list[float], list[float], str]]]
    indexed: list[str]


@pytest.fixture(scope="module")
def visits(tmp_path_factory: pytest.TempPathFactory) -> Visits:
    root = tmp_path_factory.mktemp("visits")
    db = str(root / "history.sqlite3")
    recordings, live, indexed = [], [], []
    for k, (points, date) in enumerate(zip(SCRIPTS, DATES, strict=True)):
        path = root / f"{PATIENT}-visit{k + 1}.tpfrec"
        run = start(points, PATIENT, record=path, operator=f"op{k + 1}", seed=k + 1,
                    history_db=db)
        try:
            assert run.pipeline.recorder is not None
            run.pipeline.recorder.update_context(date=date)  # the visit's date
            assert run.therapist.done.wait(150), "the scripted session did not finish"
            first = run.therapist.first_t
            assert first is not None and first < LEAD_S  # the script started at rest
            session = run.pipeline.processor.session
        finally:
            run.pipeline.close()  # closes the recording: its visit is indexed here
        indexed.append(run.pipeline.indexed[-1].status)
        live.append({p.label: (list(p.trials_before_n), list(p.trials_after_n),
                               p.outcome().verdict.value) for p in session.points if p.marks})
        recordings.append(path)
        if k == 0:  # the pain came back on day 3, after a long drive
            assert main(["history", PATIENT, "--db", db, "--recurrence", RECURRENCE]) == 0
    return Visits(recordings, db, live, indexed)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _check_history(h: PatientHistory, v: Visits) -> None:
    table = history_table(h)
    assert table["columns"] == list(POINTS)
    assert [r["visited_at"] for r in table["rows"]] == list(DATES)
    assert [r["operator"] for r in table["rows"]] == ["op1", "op2", "op3"]
    for row, live in zip(table["rows"], v.live, strict=True):
        assert set(row["points"]) == set(POINTS) == set(live)
        for label, cell in row["points"].items():
            before, after, verdict = live[label]
            assert len(before) == len(after) == 3
            assert cell["before_n"] == pytest.approx(_mean(before))
            assert cell["after_n"] == pytest.approx(_mean(after))
            assert cell["change_n"] == pytest.approx(_mean(after) - _mean(before))
            assert cell["verdict"] == verdict  # the session's own word
    # what the scripts did, as the probe measured it: PPT rising across visits
    series = {s["point"]: s["values"] for s in trend(h)}
    trap = series["upper trapezius R"]
    assert [x["before_n"] for x in trap] == sorted(x["before_n"] for x in trap)
    assert [round(x["before_n"]) for x in trap] == [18, 21, 24]
    assert [round(x["after_n"]) for x in trap] == [25, 28, 31]
    # two steps forward, one back: visit 2 began below where visit 1 ended
    assert trap[1]["before_n"] < trap[0]["after_n"]
    assert {row["upper trapezius R"][2] for row in v.live} == {"rise_beyond_mdc"}
    assert {row["levator scapulae L"][2] for row in v.live} == {"within_mdc"}
    tl = timeline(h)
    assert [e["kind"] for e in tl] == ["visit", "recurrence", "visit", "visit"]
    assert tl[1]["days_after_visit"] == 3 and tl[1]["nrs"] == 6
    assert tl[1]["activity"] == "long drive" and tl[1]["region"] == "upper trapezius R"
    chart = {p["point"]: p for p in body_chart(h)["points"]}
    assert chart["upper trapezius R"]["class"] == "rise_beyond_mdc"
    assert chart["upper trapezius R"]["date"] == "2026-03-16"
    assert chart["levator scapulae L"]["class"] == "within_mdc"
    assert chart["upper trapezius R"]["view"] == chart["levator scapulae L"]["view"] == "back"


@pytest.mark.timeout(600)
def test_three_visits_indexed_when_their_recordings_closed(visits: Visits) -> None:
    assert visits.indexed == ["added", "added", "added"]
    with HistoryStore.open(visits.db, create=False) as store:
        h = PatientHistory.load(store, PATIENT)
        stored = store.visits(PATIENT)
    assert [Path(s.recording or "") for s in stored] == [p.resolve() for p in visits.recordings]
    _check_history(h, visits)


@pytest.mark.timeout(600)
def test_the_same_history_from_importing_the_recordings(visits: Visits, db_url: str,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    argv = ["history", "import", *map(str, visits.recordings), "--db", db_url]
    assert main(argv) == 0
    assert "3 added, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert main(argv) == 0  # again: idempotent
    assert "0 added, 0 updated, 3 unchanged" in capsys.readouterr().out
    assert main(["history", PATIENT, "--db", db_url, "--recurrence", RECURRENCE]) == 0
    with HistoryStore.open(db_url, create=False) as store:
        assert store.count("visits") == 3
        h = PatientHistory.load(store, PATIENT)
    _check_history(h, visits)
    capsys.readouterr()
    assert main(["history", PATIENT, "--db", db_url, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["visits"] == 3 and [e["kind"] for e in doc["timeline"]][1] == "recurrence"


@pytest.mark.timeout(600)
def test_the_reports_of_the_three_visits_render_in_chromium(visits: Visits, tmp_path: Path,
                                                            output_dir: Path) -> None:
    page = tmp_path / "history.html"
    assert main(["history", PATIENT, "--db", visits.db, "-o", str(page)]) == 0
    shot = output_dir / "history.png"
    done = chromium(["--window-size=1000,1600", "--hide-scrollbars", f"--screenshot={shot}",
                     page.as_uri()], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert QImage(str(shot)).width() == 1000
    dom = chromium(["--dump-dom", page.as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = re.sub(r"<[^>]+>", " ", dom.stdout)
    for live in visits.live:
        for before, after, _ in live.values():
            assert f"{_mean(before):.1f}" in text and f"{_mean(after):.1f}" in text
    assert "long drive" in text and "upper trapezius R" in text
    assert dom.stdout.count("<circle class=\"site\"") == 2  # both points on the body chart
    assert VERDICT_TEXT["rise_beyond_mdc"] in dom.stdout
    # the session report of the three recordings, in the same browser
    report = tmp_path / "visits.html"
    assert main(["report", *map(str, visits.recordings), "-o", str(report)]) == 0
    dom = chromium(["--dump-dom", report.as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = re.sub(r"<[^>]+>", " ", dom.stdout)
    assert text.count("P-3V") >= 3
    for date in DATES:
        assert date.replace("T", " ")[:16] in text or date in text
    for live in visits.live:
        for before, after, _ in live.values():
            assert all(f"{t:.1f}" in text for t in before + after)
    assert dt.date(2026, 3, 16).isoformat() in text
    # and the history window of the same store, as `tpforce history --window` saves it
    window_shot = output_dir / "history-window.png"
    assert main(["history", PATIENT, "--db", visits.db, "--window", "--screenshot",
                 str(window_shot)]) == 0
    assert QImage(str(window_shot)).width() == 1280
