"""Trainee practice in the history store on both engines (a SQLite file and a real
PostgreSQL server): blocks kept in order, a retention block due later, then run."""

from __future__ import annotations

import datetime as dt

from tpforce.history.trainees import progress, record_session
from tpforce.train.drill import drill_from_dict

DRILL = drill_from_dict({"target_n": 20, "trials": 2, "hold_s": 5, "rest_s": 1,
                         "feedback": {"schedule": "faded"},
                         "retention": {"trials": 1, "after_days": 2}}, "later", "later")


def _outcome(blocks: dict[str, float]) -> dict[str, object]:
    return {"drill": "later", "schedule": "faded", "surface": "pad",
            "blocks": {b: {"trials": 2, "time_in_band_pct": v, "rmse_n": 1.0}
                       for b, v in blocks.items()}}


def test_trainee_blocks_and_retention_on_each_engine(db_url: str) -> None:
    day1 = dt.date(2026, 3, 2)
    assert record_session(db_url, "tr-07", _outcome({"practice": 62.5}), DRILL, day1) \
        == "2026-03-04"
    assert record_session(db_url, "tr-08", _outcome({"practice": 40.0}), DRILL, day1) \
        == "2026-03-04"
    rows = progress(db_url, "tr-07")
    assert [(r["block"], r["run_on"], r["due_on"]) for r in rows] == [
        ("practice", "2026-03-02", ""), ("retention", "", "2026-03-04")]
    assert record_session(db_url, "tr-07", _outcome({"retention": 51.0}), DRILL,
                          dt.date(2026, 3, 4)) is None
    rows = progress(db_url, "tr-07")
    assert [(r["block"], r["run_on"], r["time_in_band_pct"]) for r in rows] == [
        ("practice", "2026-03-02", 62.5), ("retention", "2026-03-04", 51.0)]
    # the other trainee's practice is kept apart, its retention still due
    other = progress(db_url, "tr-08")
    assert (other[0]["block"], other[0]["time_in_band_pct"]) == ("practice", 40.0)
    assert other[-1]["block"] == "retention" and other[-1]["run_on"] == ""
