"""The history view's read path: the covering indexes a store gets, and the one read the
views use giving exactly what the per-table readers give, notes included."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.history.helpers import PATIENT, three_visits
from tpforce.history.store import _INDEXES, HistoryStore
from tpforce.history.views import PatientHistory

NAMES = {stmt.split()[5] for stmt in _INDEXES}


def _index_names(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}


def test_the_view_reads_what_the_tables_hold(db_url: str) -> None:
    with HistoryStore.open(db_url) as store:
        store.index_visits(three_visits())
        visits, rows = store.patient_view(PATIENT)
        assert visits == store.visit_dates(PATIENT)
        assert rows == store.ppt_rows(PATIENT)
        assert [v.notes for v in visits] == ["visit 1", "visit 2", "visit 3"]
        assert [r.notes for r in rows if r.label == "infraspinatus L"] == ["tender", "", ""]
        h = PatientHistory.load(store, PATIENT)
        assert h.visits == visits and h.rows == rows


def test_a_store_without_the_view_indexes_gets_them_when_written_not_when_read(
        tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with HistoryStore.open(str(path)) as store:
        store.index_visits(three_visits())
    assert _index_names(path) >= NAMES
    with sqlite3.connect(path) as conn:  # a store made before these indexes existed
        for name in NAMES:
            conn.execute(f"DROP INDEX {name}")
    with HistoryStore.open(str(path), create=False) as store:
        assert len(store.patient_view(PATIENT)[0]) == 3  # reading works, and changes nothing
    assert not NAMES & _index_names(path)
    with HistoryStore.open(str(path), create=True):
        pass
    assert _index_names(path) >= NAMES
