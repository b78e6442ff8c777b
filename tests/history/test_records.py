"""Visit and recurrence records: JSON round trip and the checks on what they accept."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.history.helpers import three_visits
from tpforce.history.record import PointRecord, RecordError, RecurrenceEntry, VisitRecord


def test_visit_json_round_trip_and_fingerprint() -> None:
    v = three_visits("/rec")[1]
    back = VisitRecord.from_json(v.to_json())
    assert back == v and back.fingerprint() == v.fingerprint()
    assert back.points[0].change_n == pytest.approx(3.5)
    back.points[0].ppt_after_n[0] += 0.1
    assert back.fingerprint() != v.fingerprint()


@pytest.mark.parametrize(("change", "message"), [
    ({"version": 2}, "newer than this tpforce"),
    ({"format": "other"}, "not a visit record"),
    ({"patient": "Jane Doe"}, "never a name"),
    ({"visited_at": "monday"}, "ISO date-time"),
    ({"points": [{"site": "soleus", "ppt_before_n": ["x"]}]}, "finite number"),
    ({"points": [{"site": "soleus", "side": "up"}]}, "side must be"),
    ({"points": [{"site": "soleus", "holds": [{"cv": float("nan")}]}]}, "finite number"),
])
def test_bad_visit_files_say_what_is_wrong(change: dict, message: str) -> None:
    doc = three_visits()[0].to_dict()
    doc.update(change)
    with pytest.raises(RecordError, match=message):
        VisitRecord.from_json(json.dumps(doc))


def test_sides_and_recurrence_parsing() -> None:
    assert PointRecord("soleus", "left").side == "L"
    assert PointRecord("soleus", None).side == ""  # type: ignore[arg-type]
    e = RecurrenceEntry.parse("2026-03-05: upper trapezius R :6:drive: 3 h")
    assert e == RecurrenceEntry(dt.date(2026, 3, 5), "upper trapezius R", 6, "drive: 3 h")
    assert RecurrenceEntry.parse("2026-03-05:neck:0").activity == ""
    with pytest.raises(RecordError, match="0-10"):
        RecurrenceEntry.parse("2026-03-05:neck:-1")
    with pytest.raises(RecordError, match="region"):
        RecurrenceEntry.parse("2026-03-05: :4")
