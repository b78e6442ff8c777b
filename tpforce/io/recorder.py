"""Records a session's samples and events to an open, plain-text folder, and reads it back.

A recording is a folder (conventionally named `*.tpfrec`) holding three files:

- `meta.json`: `{"format": "tpforce-recording", "version": 1, "columns": [...], ...}`
- `samples.csv`: a header, then one row per sample: `batch,t_s,t_host_s,seq,raw,force_n,flags`
  (the SAMPLE_DTYPE fields; `batch` numbers the batches as they were handed on; floats in
  shortest round-trip form, `nan` where unknown)
- `events.jsonl`: one JSON object per event: `{"after": N, "type": "SignalLost", "t_s": ...}`
  with the event's fields (enums by name); `after` is how many samples were recorded before it.

Every batch and event is flushed to the OS as it is written, so a process that dies keeps
everything recorded so far; a torn last line is ignored on reading. `RecordingReader`
yields the same batches and events in the same order, for replay through any consumer.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import itertools
import json
import os
import threading
import time
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tpforce.core import events as ev
from tpforce.core.metrics import HoldMetrics
from tpforce.core.samples import SAMPLE_DTYPE

FORMAT = "tpforce-recording"
VERSION = 1
COLUMNS = ("batch", "t_s", "t_host_s", "seq", "raw", "force_n", "flags")
SUFFIX = ".tpfrec"


class RecordingError(Exception):
    """A recording could not be written or read; the message says what to do."""


def new_recording_path(folder: str | os.PathLike[str], prefix: str = "session") -> Path:
    """A fresh, timestamped recording path in `folder` (for a start/stop key)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(folder) / f"{prefix}-{stamp}{SUFFIX}"
    n = 1
    while path.exists():
        n += 1
        path = Path(folder) / f"{prefix}-{stamp}-{n}{SUFFIX}"
    return path


NESTED: dict[str, type] = {"HoldMetrics": HoldMetrics}
"""Dataclasses that events carry inside them, rebuilt by name when a recording is read."""


def _plain(value: Any) -> Any:
    """A field value as JSON-ready data: enums by name, nested dataclasses as tagged dicts."""
    if isinstance(value, enum.Enum):
        return value.name
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"__type__": type(value).__name__,
                **{f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    return value


def _rebuild(value: Any, kind: Any) -> Any:
    """The inverse of `_plain` for a field of type `kind`."""
    if isinstance(value, dict) and value.get("__type__") in NESTED:
        cls = NESTED[value["__type__"]]
        hints = typing.get_type_hints(cls)
        return cls(**{k: _rebuild(v, hints.get(k)) for k, v in value.items() if k != "__type__"})
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind[value]
    return value


def event_to_dict(event: ev.Event) -> dict[str, Any]:
    """An event as a JSON-ready dict with its type name; enums by name."""
    out: dict[str, Any] = {"type": type(event).__name__}
    for f in dataclasses.fields(event):
        out[f.name] = _plain(getattr(event, f.name))
    return out


def event_from_dict(data: dict[str, Any]) -> ev.Event | None:
    """The event a dict describes, or None for a type this version does not know."""
    cls = getattr(ev, str(data.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, ev.Event)):
        return None
    hints = typing.get_type_hints(cls)
    try:
        return cls(**{f.name: _rebuild(data[f.name], hints.get(f.name))
                      for f in dataclasses.fields(cls) if f.name in data})
    except (TypeError, KeyError):
        return None


class Recorder:
    """A consumer that writes every batch and event to a recording folder as they come."""

    def __init__(self, path: str | os.PathLike[str], meta: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise RecordingError(f"{self.path} already exists; choose a new name") from None
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot create the recording ({exc.strerror})"
                                 ) from None
        header = {"format": FORMAT, "version": VERSION, "columns": list(COLUMNS),
                  "created_unix": time.time(), **(meta or {})}
        (self.path / "meta.json").write_text(json.dumps(header, indent=1) + "\n",
                                             encoding="utf-8")
        self._samples = open(self.path / "samples.csv", "w", encoding="ascii", newline="\n")  # noqa: SIM115
        self._events = open(self.path / "events.jsonl", "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self._samples.write(",".join(COLUMNS) + "\n")
        self._samples.flush()
        self._lock = threading.Lock()
        self._closed = False
        self.batches = 0
        self.samples = 0
        self.events = 0

    def on_batch(self, batch: np.ndarray) -> None:
        """Append the batch's rows and flush them to the OS."""
        if len(batch) == 0:
            return
        b = str(self.batches)
        rows = zip(batch["t_s"].tolist(), batch["t_host_s"].tolist(), batch["seq"].tolist(),
                   batch["raw"].tolist(), batch["force_n"].tolist(), batch["flags"].tolist(),
                   strict=True)
        text = "".join(f"{b},{t!r},{h!r},{s},{r},{f!r},{g}\n" for t, h, s, r, f, g in rows)
        with self._lock:
            if self._closed:
                return
            self._samples.write(text)
            self._samples.flush()
            self.batches += 1
            self.samples += len(batch)

    def on_event(self, event: ev.Event) -> None:
        """Append the event as one JSON line and flush it."""
        fields = event_to_dict(event)
        with self._lock:
            if self._closed:
                return
            self._events.write(json.dumps({"after": self.samples, **fields}) + "\n")
            self._events.flush()
            self.events += 1

    def close(self) -> None:
        """Flush to disk and close the files; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for f in (self._samples, self._events):
                try:
                    f.flush()
                    os.fsync(f.fileno())
                finally:
                    f.close()

    @property
    def closed(self) -> bool:
        """True once `close()` ran."""
        return self._closed

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _complete_lines(path: Path) -> str:
    """The file's text up to its last newline (a torn last line is dropped)."""
    data = path.read_bytes()
    end = data.rfind(b"\n")
    return data[: end + 1].decode("utf-8") if end >= 0 else ""


class RecordingReader:
    """Iterates a recording: sample batches (SAMPLE_DTYPE) and events, in recorded order."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        meta_path = self.path / "meta.json"
        try:
            self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RecordingError(f"{self.path}: not a tpforce recording (no meta.json)") \
                from None
        except (OSError, ValueError) as exc:
            raise RecordingError(f"{meta_path}: unreadable ({exc})") from None
        if self.meta.get("format") != FORMAT or int(self.meta.get("version", 0)) > VERSION:
            raise RecordingError(f"{self.path}: not a tpforce recording of version <= {VERSION}")
        self.skipped_events = 0

    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        """All samples as one batch, and the batch number of each row."""
        text = _complete_lines(self.path / "samples.csv")
        lines = text.splitlines()[1:]
        out = np.zeros(len(lines), dtype=SAMPLE_DTYPE)
        if not lines:
            return out, np.zeros(0, dtype=np.int64)
        try:
            table = np.loadtxt(io.StringIO("\n".join(lines)), delimiter=",", ndmin=2,
                               dtype=np.float64)
        except ValueError as exc:
            raise RecordingError(f"{self.path / 'samples.csv'}: damaged ({exc})") from None
        # Integer columns are exact in float64 (seq < 2^53, raw and flags far smaller).
        out["t_s"], out["t_host_s"], out["force_n"] = table[:, 1], table[:, 2], table[:, 5]
        out["seq"] = table[:, 3].astype(np.int64)
        out["raw"] = table[:, 4].astype(np.int32)
        out["flags"] = table[:, 6].astype(np.uint16)
        return out, table[:, 0].astype(np.int64)

    def events(self) -> list[tuple[int, ev.Event]]:
        """Every event with the number of samples recorded before it."""
        out = []
        for line in _complete_lines(self.path / "events.jsonl").splitlines():
            try:
                data = json.loads(line)
            except ValueError:
                self.skipped_events += 1
                continue
            event = event_from_dict(data)
            if event is None:
                self.skipped_events += 1
                continue
            out.append((int(data.get("after", 0)), event))
        return out

    def __iter__(self) -> Iterator[np.ndarray | ev.Event]:
        samples, batch_no = self.samples()
        events = self.events()
        starts: list[int] = (np.flatnonzero(np.diff(batch_no, prepend=-1)).tolist()
                             if len(batch_no) else [])
        bounds = [*list(starts), len(samples)]
        k = 0
        for a, b in itertools.pairwise(bounds):
            while k < len(events) and events[k][0] <= a:
                yield events[k][1]
                k += 1
            yield samples[a:b].copy()
        for _, event in events[k:]:
            yield event


def read_recording(path: str | os.PathLike[str]) -> tuple[np.ndarray, list[ev.Event]]:
    """All samples of a recording as one batch, and its events."""
    reader = RecordingReader(path)
    return reader.samples()[0], [e for _, e in reader.events()]
