"""Patient history: visits, points, PPT trials, holds and recurrences across sessions."""

from tpforce.history.record import PointRecord, RecordError, RecurrenceEntry, VisitRecord
from tpforce.history.store import HistoryError, HistoryStore, UnknownPatient

__all__ = ["HistoryError", "HistoryStore", "PointRecord", "RecordError", "RecurrenceEntry",
           "UnknownPatient", "VisitRecord"]
