"""A separate writer process for the concurrency test: says 'ready', waits for 'go' on stdin,
then stores its own visits one transaction each, plus visits every writer shares."""

from __future__ import annotations

import datetime as dt
import sys

from tpforce.history.record import PointRecord, RecurrenceEntry, VisitRecord
from tpforce.history.store import HistoryStore

SHARED = 20


def visit(patient: str, when: dt.datetime, ppt: float) -> VisitRecord:
    return VisitRecord(patient, when, "op", None,
                       [PointRecord("gluteus medius", "L", [ppt, ppt + 1], [ppt + 2],
                                    holds=[{"in_band_s": 30.0, "completed": True}])])


def main() -> int:
    url, tag, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    base = dt.datetime(2026, 1, 1)
    with HistoryStore.open(url) as store:
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            return 1
        for i in range(count):
            own = base + dt.timedelta(days=i, hours=tag)
            store.index_visit(visit("P-SHARED", own, 20.0 + i))
            store.index_visit(visit(f"P-W{tag}", own, 10.0 + i))
            if i < SHARED:
                store.index_visit(visit("P-SHARED", base + dt.timedelta(days=i, hours=12),
                                        50.0 + i))
            store.add_recurrence("P-SHARED", RecurrenceEntry(base.date(), f"w{tag} {i}", 3))
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
