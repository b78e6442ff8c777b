"""The history store on SQLite and on a real PostgreSQL server: the same tests on each."""

from __future__ import annotations

import sqlite3

import pytest

from tests.history.helpers import PATIENT, RECURRENCE, three_visits
from tpforce.history import bodychart
from tpforce.history.record import PointRecord, VisitRecord
from tpforce.history.store import TABLES, HistoryError, HistoryStore, UnknownPatient
from tpforce.history.views import PatientHistory, body_chart, history_table, timeline, trend


def _counts(store: HistoryStore) -> dict[str, int]:
    return {t: store.count(t) for t in TABLES}


def test_visits_round_trip_with_typed_metrics(db_url: str) -> None:
    visits = three_visits("/data/rec")
    with HistoryStore.open(db_url) as store:
        assert store.index_visits(visits) == ["added"] * 3
        back = store.visits(PATIENT)
    assert back == visits
    metrics = back[0].points[0].holds[0]
    assert metrics["completed"] is True and type(metrics["excursions"]) is int
    assert back[0].points[1].notes == "tender" and back[2].notes == "visit 3"


def test_reindexing_changes_nothing_and_new_content_replaces(db_url: str) -> None:
    visits = three_visits()
    with HistoryStore.open(db_url) as store:
        store.index_visits(visits)
        store.add_recurrence(PATIENT, RECURRENCE)
        before = _counts(store)
        assert store.index_visits(three_visits()) == ["unchanged"] * 3
        assert store.add_recurrence(PATIENT, RECURRENCE) is False
        assert _counts(store) == before
        changed = three_visits()[1]
        changed.points.pop()  # the off-chart point was a mistake
        assert store.index_visit(changed) == "updated"
        after = _counts(store)
    assert after["visits"] == before["visits"] and after["points"] == before["points"] - 1
    assert after["trials"] == before["trials"] - 2


def test_three_visits_table_trend_timeline_and_body_chart(db_url: str) -> None:
    with HistoryStore.open(db_url) as store:
        store.index_visits(three_visits())
        store.add_recurrence(PATIENT, RECURRENCE)
        h = PatientHistory.load(store, PATIENT)

    table = history_table(h)
    assert table["columns"] == ["upper trapezius R", "infraspinatus L", "flexor digitorum R"]
    assert [r["visited_at"][:10] for r in table["rows"]] == ["2026-03-02", "2026-03-09",
                                                            "2026-03-16"]
    trap = [r["points"]["upper trapezius R"] for r in table["rows"]]
    assert [c["before_n"] for c in trap] == [19.0, 22.0, 25.0]
    assert [c["after_n"] for c in trap] == [22.5, 25.5, 28.5]
    assert "flexor digitorum R" not in table["rows"][0]["points"]
    assert [r["notes"] for r in table["rows"]] == ["visit 1", "visit 2", "visit 3"]
    assert table["rows"][0]["points"]["infraspinatus L"]["notes"] == "tender"
    assert table["rows"][1]["points"]["infraspinatus L"]["notes"] == ""

    series = {s["point"]: s["values"] for s in trend(h)}
    after = [v["after_n"] for v in series["upper trapezius R"]]
    assert after == sorted(after) and len(set(after)) == 3
    assert [v["visit"] for v in series["flexor digitorum R"]] == [2]

    tl = timeline(h)
    assert [e["kind"] for e in tl] == ["visit", "recurrence", "visit", "visit"]
    assert tl[1]["days_after_visit"] == 3 and tl[1]["activity"] == "long drive"
    assert tl[1]["nrs"] == 6

    chart = body_chart(h)
    placed = {p["point"]: p for p in chart["points"]}
    trap_dot = placed["upper trapezius R"]
    assert trap_dot["class"] == "rise_beyond_mdc" and trap_dot["date"] == "2026-03-16"
    assert trap_dot["view"] == "back" and trap_dot["x"] > bodychart.CENTRE  # right, from behind
    infra = placed["infraspinatus L"]
    assert infra["class"] == "within_mdc" and infra["x"] < bodychart.CENTRE
    assert [p["point"] for p in chart["unplaced"]] == ["flexor digitorum R"]
    assert chart["unplaced"][0]["class"] == "fall_beyond_mdc"


def test_front_view_mirrors_sides() -> None:
    right = bodychart.place("Pectoralis_Major", "R")
    left = bodychart.place("pectoralis major", "L")
    assert right and left and right[0] == "front"
    assert right[1] < bodychart.CENTRE < left[1]  # facing the viewer: patient's right on the left
    assert bodychart.place("lumbar paraspinals", "M") == ("back", bodychart.CENTRE, 178)
    assert bodychart.place("no such muscle", "L") is None


def test_erase_removes_only_that_patient(db_url: str) -> None:
    other = VisitRecord("P-0099", "2026-03-03T08:00", "op1", "/r/x",
                        [PointRecord("soleus", "L", [30.0], [31.0])])
    with HistoryStore.open(db_url) as store:
        store.index_visits([*three_visits("/r"), other])
        store.add_recurrence(PATIENT, RECURRENCE)
        paths = store.erase_patient(PATIENT)
        assert paths == ["/r/visit1", "/r/visit2", "/r/visit3"]
        assert store.patients() == ["P-0099"]
        assert store.count("recurrence") == 0 and store.count("visits") == 1
        assert store.count("trials") == 2 and store.count("hold_metrics") == 0
        with pytest.raises(UnknownPatient):
            store.ppt_rows(PATIENT)


def test_unknown_patient_and_newer_schema(db_url: str) -> None:
    with HistoryStore.open(db_url) as store:
        with pytest.raises(UnknownPatient, match="unknown patient 'P-7'"):
            store.ppt_rows("P-7")
        store.index_visits(three_visits())
        store._exec("UPDATE schema_version SET version = 99")
    with pytest.raises(HistoryError, match="schema version 99, newer") as info:
        HistoryStore.open(db_url)
    assert "\n" not in str(info.value)


def test_missing_store_is_not_created_for_reading(tmp_path) -> None:
    path = tmp_path / "none" / "h.sqlite3"
    with pytest.raises(HistoryError, match="no history yet"):
        HistoryStore.open(str(path), create=False)
    assert not path.parent.exists()


def test_corrupt_sqlite_is_left_untouched(tmp_path) -> None:
    path = tmp_path / "h.sqlite3"
    junk = b"this is not sqlite" * 300
    path.write_bytes(junk)
    with pytest.raises(HistoryError, match="not a readable history database"):
        HistoryStore.open(str(path))
    assert path.read_bytes() == junk


def test_foreign_tables_are_refused(tmp_path) -> None:
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE accounts (id INTEGER)")
    with pytest.raises(HistoryError, match="not a tpforce history"):
        HistoryStore.open(str(path))


def test_newer_schema_file_is_not_touched(tmp_path) -> None:
    path = tmp_path / "h.sqlite3"
    with HistoryStore.open(str(path)) as store:
        store.index_visits(three_visits())
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("UPDATE schema_version SET version = 3")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(HistoryError, match="upgrade tpforce"):
        HistoryStore.open(str(path))
    assert path.read_bytes() == before
