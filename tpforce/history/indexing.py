"""Indexing recordings into the history: when a live recording closes, and for old ones.

`index_recording` never raises: a recording is safe on disk before it is indexed, so a
history that cannot be written costs a one-line warning, never the recording.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ANONYMOUS = "anon"
"""The pseudonym of a session recorded without --patient: not a patient's visit."""


@dataclass(frozen=True)
class IndexResult:
    """What became of one recording: `status` is 'added', 'updated', 'unchanged',
    'skipped' (no patient named) or 'failed'; `line` says it in words."""

    status: str
    line: str

    @property
    def failed(self) -> bool:
        """True when the history could not be written (the recording itself is kept)."""
        return self.status == "failed"


def index_recording(path: str | os.PathLike[str], url: str | None = None) -> IndexResult:
    """Index the visit recorded in the folder `path` into the history at `url` (default:
    $TPFORCE_HISTORY_DB, else the per-user file). Indexing it again changes nothing."""
    from tpforce.history.fromsession import visit_from_session
    from tpforce.history.record import RecordError
    from tpforce.history.store import HistoryError, HistoryStore
    from tpforce.report.load import load_session
    from tpforce.report.session import ReportError

    folder = Path(path).resolve()
    try:
        data = load_session(folder)
        if data.pseudonym in ("", ANONYMOUS):
            return IndexResult("skipped", f"{folder.name} is not indexed into the history: "
                                          "it names no patient (record with --patient)")
        visit = visit_from_session(data)
        with HistoryStore.open(url, create=True) as store:
            status = store.index_visit(visit)
            where = store.where
    except (ReportError, RecordError, HistoryError, OSError) as exc:
        return IndexResult("failed", f"history not updated, the recording {folder} is kept: "
                                     f"{exc}")
    return IndexResult(status, f"history: visit of {visit.patient} on "
                               f"{visit.visited_at.isoformat(sep=' ')} {status} "
                               f"({len(visit.points)} point(s)) in {where}")
