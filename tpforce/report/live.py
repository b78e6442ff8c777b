"""A report at the end of a live session: a consumer that keeps the session in memory, and
`save_report` for the window's "save report" action.

Add a `SessionKeeper` to the Processor when the session starts (`proc.add_consumer`); at
the end, `save_report(keeper, "report.pdf", context)`. A session that was recorded can be
reported from its recording folder instead (`save_report(path_to_recording, ...)`).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from tpforce.core.events import Event
from tpforce.core.samples import empty_batch
from tpforce.report import write_report
from tpforce.report.session import SessionData


class SessionKeeper:
    """A consumer that keeps copies of the calibrated batches and every event (about 5 MB
    for 20 minutes at 80 SPS). Thread-safe: the source thread feeds it, any thread reads."""

    def __init__(self, context: dict[str, Any] | None = None) -> None:
        self.context: dict[str, Any] = dict(context or {})  # the session's own context
        self._lock = threading.Lock()
        self._batches: list[np.ndarray] = []
        self._events: list[Event] = []

    def on_batch(self, batch: np.ndarray) -> None:
        """Keep a copy (the batch is the Processor's, reused downstream)."""
        copy = batch.copy()
        with self._lock:
            self._batches.append(copy)

    def on_event(self, event: Event) -> None:
        """Keep the event (events are immutable)."""
        with self._lock:
            self._events.append(event)

    def close(self) -> None:
        """Nothing to release: what was kept stays readable."""

    def session(self, context: dict[str, Any] | None = None, source: str = "") -> SessionData:
        """The session so far, with its context (pseudonym, operator, date, probe, ...):
        the keeper's own, with `context` added over it."""
        with self._lock:
            batches, events = list(self._batches), list(self._events)
        samples = np.concatenate(batches) if batches else empty_batch(0)
        return SessionData(samples, events, {**self.context, **(context or {})}, source)


def save_report(session: SessionKeeper | SessionData | str | os.PathLike[str],
                path: str | os.PathLike[str], context: dict[str, Any] | None = None) -> Path:
    """Write the report (.html or .pdf) of a kept live session, a SessionData, or a
    recording folder; `context` adds to (and overrides) what the session carries.

    Raises ReportError with a one-line reason (a name given as the pseudonym, a bad suffix,
    an unreadable recording) and OSError when the file cannot be written.
    """
    if isinstance(session, SessionKeeper):
        data = session.session(context)
    elif isinstance(session, SessionData):
        data = SessionData(session.samples, session.events,
                           {**session.context, **(context or {})}, session.source)
    else:
        from tpforce.report.load import load_session

        data = load_session(session)
        data.context.update(context or {})
    return write_report([data], Path(path))
