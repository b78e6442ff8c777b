"""What `tpforce history PATIENT` shows, computed as plain data: the PPT table, the trend per
point, the timeline of visits and recurrences, and the body chart colours.

Pure functions of a `PatientHistory`, so the text table, `--json`, the HTML report and any
window draw the same numbers.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from typing import Any

from tpforce.core.session import MdcVerdict
from tpforce.history.bodychart import place
from tpforce.history.record import VERDICT_TEXT, RecurrenceEntry, normal_verdict
from tpforce.history.store import HistoryStore, PptRow, VisitRow

# Body-chart classes of the latest PPT change, each with its fill colour and legend. Three
# are the session model's MDC verdicts themselves; a change without a verdict (too few
# trials, or a verdict this version does not know) is classed by its sign alone.
CHANGE_CLASSES: dict[str, tuple[str, str]] = {
    MdcVerdict.RISE_BEYOND.value: ("#1a9850", VERDICT_TEXT[MdcVerdict.RISE_BEYOND.value]),
    "rise": ("#91cf60", "PPT rose (no verdict: too few trials)"),
    MdcVerdict.WITHIN.value: ("#bdbdbd", VERDICT_TEXT[MdcVerdict.WITHIN.value]),
    "fall": ("#fc8d59", "PPT fell (no verdict: too few trials)"),
    MdcVerdict.FALL_BEYOND.value: ("#d73027", VERDICT_TEXT[MdcVerdict.FALL_BEYOND.value]),
    "not_measured": ("#ffffff", "no before/after PPT yet"),
}


@dataclass(frozen=True)
class PatientHistory:
    """Everything the history views need about one patient."""

    patient: str
    visits: list[VisitRow]
    rows: list[PptRow]
    recurrence: list[RecurrenceEntry]

    @classmethod
    def load(cls, store: HistoryStore, patient: str) -> PatientHistory:
        """Read one patient's history from the store (UnknownPatient if none)."""
        visits, rows = store.patient_view(patient)
        return cls(patient, visits, rows, store.recurrence(patient))

    def point_labels(self) -> list[str]:
        """Every point treated, in the order first treated."""
        return list(dict.fromkeys(r.label for r in self.rows))


def _date(visited_at: str) -> dt.date:
    return dt.datetime.fromisoformat(visited_at).date()


def classify(change_n: float | None, verdict: str) -> str:
    """The body-chart class of a PPT change and its verdict (a key of CHANGE_CLASSES): the
    session model's verdict word itself, or without one the change's sign."""
    if change_n is None:
        return "not_measured"
    word = normal_verdict(verdict, change_n)
    if word in (MdcVerdict.RISE_BEYOND.value, MdcVerdict.FALL_BEYOND.value,
                MdcVerdict.WITHIN.value):
        return word
    if change_n == 0:
        return MdcVerdict.WITHIN.value
    return "rise" if change_n > 0 else "fall"


def history_table(h: PatientHistory) -> dict[str, Any]:
    """One row per visit, one column per point: PPT before and after (means, N), change."""
    columns = h.point_labels()
    cells: dict[int, dict[str, dict[str, Any]]] = {v.id: {} for v in h.visits}
    for r in h.rows:
        cells[r.visit_id][r.label] = {"before_n": r.before_n, "after_n": r.after_n,
                                      "change_n": r.change_n,
                                      "verdict": normal_verdict(r.verdict, r.change_n),
                                      "trials_before": r.trials_before,
                                      "trials_after": r.trials_after, "notes": r.notes}
    rows = [{"visit": n + 1, "visited_at": v.visited_at, "operator": v.operator,
             "notes": v.notes, "points": cells[v.id]} for n, v in enumerate(h.visits)]
    return {"columns": columns, "rows": rows}


def trend(h: PatientHistory) -> list[dict[str, Any]]:
    """PPT per point per visit: for each point, its (date, before, after, change) series."""
    series: dict[str, list[dict[str, Any]]] = {label: [] for label in h.point_labels()}
    number = {v.id: n + 1 for n, v in enumerate(h.visits)}
    for r in h.rows:
        series[r.label].append({"visit": number[r.visit_id], "date": _date(r.visited_at)
                                .isoformat(), "before_n": r.before_n, "after_n": r.after_n,
                                "change_n": r.change_n})
    return [{"point": label, "values": values} for label, values in series.items()]


def recurrences(h: PatientHistory) -> list[dict[str, Any]]:
    """The recurrence entries, each with how many days after the latest visit on or before
    its date the pain came back (None before the first visit)."""
    days = [v.visited_at[:10] for v in h.visits]  # ISO dates sort as text
    out = []
    for e in h.recurrence:
        k = bisect.bisect_right(days, e.occurred_on.isoformat())
        after = (e.occurred_on - dt.date.fromisoformat(days[k - 1])).days if k else None
        out.append({"kind": "recurrence", **e.to_dict(), "days_after_visit": after})
    return out


def timeline(h: PatientHistory) -> list[dict[str, Any]]:
    """Visits and recurrence entries on one time line, in date order (a recurrence after a
    visit on the same day)."""
    events = [{"kind": "visit", "date": v.visited_at[:10], "visit": n + 1,
               "operator": v.operator} for n, v in enumerate(h.visits)]
    rec = recurrences(h)
    merged = sorted([(e["date"], 0, i) for i, e in enumerate(events)]
                    + [(e["occurred_on"], 1, i) for i, e in enumerate(rec)])
    return [events[i] if kind == 0 else rec[i] for _, kind, i in merged]


def body_chart(h: PatientHistory) -> dict[str, Any]:
    """Each treated point at its fixed place, classed by its latest measured PPT change.

    Points whose site is not on the chart are listed under "unplaced", never dropped."""
    latest: dict[str, PptRow] = {}
    for r in h.rows:  # rows are in visit order: later ones win, if measured
        if r.label not in latest or r.change_n is not None:
            latest[r.label] = r
    placed, unplaced = [], []
    for label, r in latest.items():
        cls = classify(r.change_n, r.verdict)
        item = {"point": label, "site": r.site, "side": r.side, "change_n": r.change_n,
                "verdict": normal_verdict(r.verdict, r.change_n), "class": cls,
                "colour": CHANGE_CLASSES[cls][0],
                "date": _date(r.visited_at).isoformat()}
        where = place(r.site, r.side)
        if where is None:
            unplaced.append(item)
        else:
            item.update(view=where[0], x=where[1], y=where[2])
            placed.append(item)
    return {"points": placed, "unplaced": unplaced}


def history_json(h: PatientHistory) -> dict[str, Any]:
    """The `--json` document: table, trend, timeline and body chart."""
    return {"patient": h.patient, "visits": len(h.visits), "table": history_table(h),
            "trend": trend(h), "timeline": timeline(h), "body_chart": body_chart(h)}
