"""Trainee practice as the history store keeps it: a drill with a retention block two days
on, a session outcome, and the practice-then-retention sequence checked on any engine."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tpforce.history.trainees import progress, record_session
from tpforce.train.drill import drill_from_dict

LATER = drill_from_dict({"target_n": 20, "trials": 2, "hold_s": 5, "rest_s": 1,
                         "feedback": {"schedule": "faded"},
                         "retention": {"trials": 1, "after_days": 2}}, "later", "later")
DAY1 = dt.date(2026, 3, 2)


def outcome(blocks: dict[str, float]) -> dict[str, object]:
    """A session outcome of LATER with each block's time in band (%)."""
    return {"drill": "later", "schedule": "faded", "surface": "pad",
            "blocks": {b: {"trials": 2, "time_in_band_pct": v, "rmse_n": 1.0}
                       for b, v in blocks.items()}}


def practice_then_retention(db: str, trainee: str, practice_pct: float,
                            retention_pct: float) -> list[dict[str, Any]]:
    """Practice on DAY1 leaves retention due two days on; running it then leaves both blocks
    in date order. The trainee's rows at the end."""
    due = record_session(db, trainee, outcome({"practice": practice_pct}), LATER, DAY1)
    assert due == "2026-03-04", due
    rows = progress(db, trainee)
    due_rows = [(r["block"], r["run_on"], r["due_on"]) for r in rows]
    assert due_rows == [("practice", "2026-03-02", ""), ("retention", "", "2026-03-04")], due_rows
    due = record_session(db, trainee, outcome({"retention": retention_pct}), LATER,
                         dt.date(2026, 3, 4))
    assert due is None, due
    rows = progress(db, trainee)
    run_rows = [(r["block"], r["run_on"], r["time_in_band_pct"]) for r in rows]
    assert run_rows == [("practice", "2026-03-02", practice_pct),
                        ("retention", "2026-03-04", retention_pct)], run_rows
    return rows
