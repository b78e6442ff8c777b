"""Trainee practice in the history store on both engines (a SQLite file and a real
PostgreSQL server): blocks kept in order, a retention block due later, then run."""

from __future__ import annotations

from tests.train.practice import DAY1, LATER, outcome, practice_then_retention
from tpforce.history.trainees import progress, record_session


def test_trainee_blocks_and_retention_on_each_engine(db_url: str) -> None:
    assert record_session(db_url, "tr-08", outcome({"practice": 40.0}), LATER, DAY1) \
        == "2026-03-04"
    practice_then_retention(db_url, "tr-07", 62.5, 51.0)
    # the other trainee's practice is kept apart, its retention still due
    other = progress(db_url, "tr-08")
    assert (other[0]["block"], other[0]["time_in_band_pct"]) == ("practice", 40.0)
    assert other[-1]["block"] == "retention" and other[-1]["run_on"] == ""
