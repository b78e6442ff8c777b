"""A session as a history visit: what the store keeps of a recording when it closes.

The points, trials, verdicts and hold metrics are the ones the session filed live (read
from its events by `tpforce.report.session`); the patient is the context's pseudonym.
"""

from __future__ import annotations

import math

from tpforce.history.record import Metric, PointRecord, RecordError, VisitRecord
from tpforce.report.session import ReportError, SessionData, point_views


def _metrics(values: dict[str, object]) -> dict[str, Metric]:
    """The numeric and yes/no metrics of a hold (text and unknown values left out)."""
    out: dict[str, Metric] = {}
    for name, value in values.items():
        if isinstance(value, bool) or (isinstance(value, (int, float))
                                       and math.isfinite(value)):
            out[name] = value
    return out


def visit_from_session(data: SessionData) -> VisitRecord:
    """The visit a session was: pseudonym, date, operator, recording, and each point.

    Raises RecordError naming what is missing (a pseudonym, a date) or wrong.
    """
    if not data.pseudonym:
        raise RecordError(f"{data.source or 'the session'} names no patient pseudonym: "
                          "record with a pseudonym to index it")
    try:
        when = data.started
    except ReportError as exc:
        raise RecordError(str(exc)) from None
    if when is None:
        raise RecordError(f"{data.source or 'the session'} has no date: it cannot be a visit")
    points = []
    for view in point_views(data):
        p = view.point
        out = p.outcome()
        if not (p.marks or p.holds):
            continue
        points.append(PointRecord(
            site=p.site or f"point {p.index}", side=p.side.value if p.side else "",
            ppt_before_n=list(p.trials_before_n), ppt_after_n=list(p.trials_after_n),
            change_n=out.change_n if math.isfinite(out.change_n) else None,
            verdict=out.verdict.value if out.verdict else "",  # the session model's word
            holds=[_metrics(h.to_dict()) for h in p.holds]))
    return VisitRecord(patient=data.pseudonym, visited_at=when,
                       operator=str(data.context.get("operator") or ""),
                       recording=data.source or None, points=points)
