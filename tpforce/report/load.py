"""Reading a recording into a SessionData: the one place a recording format meets reports
and the history, so that another format's reader plugs in here alone.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from tpforce.io.recorder import CONTEXT_FILE, FORMAT, RecordingError, RecordingReader
from tpforce.report.session import CONTEXT_KEYS, ReportError, SessionData


def is_recording(path: str | os.PathLike[str]) -> bool:
    """True for a folder that holds a tpforce recording: version 2's context.json, or a
    version 1 meta.json that names the format."""
    folder = Path(path)
    if (folder / CONTEXT_FILE).is_file():
        return True
    meta = folder / "meta.json"
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
        samples = reader.load_samples()
        events = [e for _, e in reader.events()]
    except RecordingError as exc:
        raise ReportError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{folder}: cannot be read ({exc})") from None
    meta: dict[str, Any] = reader.meta if reader.version < 2 else reader.context
    if reader.version >= 2:
        context = report_context(meta, reader.doc.get("started_unix"))
    else:
        context = {k: meta[k] for k in CONTEXT_KEYS if k in meta}
        if "device" in meta:
            context.setdefault("device", meta["device"])
    if "date" not in context and isinstance(meta.get("created_unix"), (int, float)):
        context["date"] = dt.datetime.fromtimestamp(meta["created_unix"]).replace(
            microsecond=0).isoformat()
    return SessionData(samples, events, context, str(folder))


def report_context(meta: dict[str, Any], started_unix: object = None) -> dict[str, Any]:
    """A report's context from a version-2 recording context (`Pipeline.recording_context`,
    which names them patient, hold_config, calibration) and when it started."""
    context = {k: meta[k] for k in CONTEXT_KEYS if k in meta}
    if meta.get("patient"):
        context.setdefault("pseudonym", meta["patient"])
    if isinstance(meta.get("hold_config"), dict):
        context.setdefault("settings", meta["hold_config"])
    cal = meta.get("calibration")
    if isinstance(cal, dict) and "record" not in cal:
        context["calibration"] = {**cal, "record": cal.get("serial") or "the probe's own"}
    if "date" not in context and isinstance(started_unix, (int, float)) and started_unix > 0:
        context["date"] = dt.datetime.fromtimestamp(started_unix).replace(
            microsecond=0).isoformat()
    if "device" in meta:
        context.setdefault("device", meta["device"])
    return context
