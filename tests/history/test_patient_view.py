"""The history view's read path gives exactly what the per-table readers give, notes
included, on both engines."""

from __future__ import annotations

from tests.history.helpers import PATIENT, three_visits
from tpforce.history.store import HistoryStore
from tpforce.history.views import PatientHistory


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
