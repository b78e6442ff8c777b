"""Visits for the history tests: one patient whose PPT rises across three visits."""

from __future__ import annotations

import datetime as dt

from tpforce.history.record import PointRecord, RecurrenceEntry, VisitRecord

PATIENT = "P-0042"


def hold(in_band_s: float, completed: bool, excursions: int = 1) -> dict:
    return {"in_band_s": in_band_s, "target_s": 30.0, "completed": completed,
            "pct_in_band": 100.0 * in_band_s / 40.0, "cv": 0.041, "excursions": excursions}


def three_visits(recording_root: str | None = None) -> list[VisitRecord]:
    """Visits a week apart; upper trapezius R PPT rises each time, infraspinatus L is flat
    on the last visit, and a site off the chart is treated once."""
    visits = []
    for k, day in enumerate((dt.datetime(2026, 3, 2, 9, 30), dt.datetime(2026, 3, 9, 9, 30),
                             dt.datetime(2026, 3, 16, 10, 0))):
        points = [
            PointRecord("upper trapezius", "R", [18.0 + 3 * k, 19.0 + 3 * k, 20.0 + 3 * k],
                        [22.0 + 3 * k, 23.0 + 3 * k], verdict="beyond_mdc",
                        holds=[hold(30.0, True), hold(22.5, False, 4)]),
            PointRecord("infraspinatus", "L", [14.0 + k, 15.0 + k],
                        [16.0 + k, 17.0 + k] if k < 2 else [15.1 + k, 15.0 + k],
                        verdict="within_mdc_range" if k < 2 else "below_mdc",
                        notes="tender" if k == 0 else ""),
        ]
        if k == 1:
            points.append(PointRecord("flexor digitorum", "R", [12.0], [11.0],
                                      verdict="beyond_mdc"))
        recording = f"{recording_root}/visit{k + 1}" if recording_root else None
        visits.append(VisitRecord(PATIENT, day, f"op{k % 2 + 1}", recording, points,
                                  notes=f"visit {k + 1}"))
    return visits


RECURRENCE = RecurrenceEntry(dt.date(2026, 3, 5), "upper trapezius R", 6, "long drive")
