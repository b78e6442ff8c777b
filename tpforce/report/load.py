"""Reading a recording into a SessionData: the one place a recording format meets reports
and the history, so that another format's reader plugs in here alone.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from tpforce.io.recorder import FORMAT, RecordingError, RecordingReader
from tpforce.report.session import CONTEXT_KEYS, ReportError, SessionData


def is_recording(path: str | os.PathLike[str]) -> bool:
    """True for a folder that holds a tpforce recording (its meta.json names the format)."""
    meta = Path(path) / "meta.json"
    try:
        return meta.is_file() and f'"{FORMAT}"' in meta.read_text(encoding="utf-8")[:4096]
    except (OSError, UnicodeDecodeError):
        return False


def load_session(path: str | os.PathLike[str]) -> SessionData:
    """A recording folder as a session: its samples, events and context.

    The context comes from the recording's meta.json (pseudonym, operator, date, probe
    serial, calibration, settings); the date defaults to when the recording was created.
    Raises ReportError with a one-line reason for anything that is not a readable recording.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ReportError(f"{folder}: not a recording folder (give a *.tpfrec folder)")
    try:
        reader = RecordingReader(folder)
        samples = reader.samples()[0]
        events = [e for _, e in reader.events()]
    except RecordingError as exc:
        raise ReportError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{folder}: cannot be read ({exc})") from None
    meta: dict[str, Any] = reader.meta
    context = {k: meta[k] for k in CONTEXT_KEYS if k in meta}
    if "date" not in context and isinstance(meta.get("created_unix"), (int, float)):
        context["date"] = dt.datetime.fromtimestamp(meta["created_unix"]).replace(
            microsecond=0).isoformat()
    if "device" in meta:
        context.setdefault("device", meta["device"])
    return SessionData(samples, events, context, str(folder))
