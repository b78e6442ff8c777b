"""Records a session to a folder you can trust, and reads it back (docs/recording-format.md).

A recording is a folder (conventionally `*.tpfrec`). Version 2, written here:

- `context.json`: format, version, the sample record layout and the session's context
  (device, probe serial, firmware and protocol, the calibration in full, every setting,
  app version, patient pseudonym, operator, points);
- `samples.bin`: the raw samples (SAMPLE_DTYPE), fixed-size little-endian records, append
  only, read back memory-mapped;
- `events.jsonl`: every input and decision, one JSON object a line, `{"i": N, "type": ...}`,
  `i` being the number of samples recorded before it (it applied after sample `i - 1`).

The reader thread only appends to memory; a writer thread hands the data to the OS every
`flush_s` (0.25 s) and syncs it to disk every `sync_s`, so a killed process loses at most
that last quarter second, and a write error (a full disk) is reported, never raised into
acquisition. Version 1 folders (`meta.json`, `samples.csv`, `events.jsonl`) still read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import io
import itertools
import json
import os
import threading
import time
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tpforce.core import events as ev
from tpforce.core.metrics import HoldMetrics
from tpforce.core.samples import SAMPLE_DTYPE

FORMAT = "tpforce-recording"
VERSION = 2
SUFFIX = ".tpfrec"
CONTEXT_FILE = "context.json"
SAMPLES_FILE = "samples.bin"
EVENTS_FILE = "events.jsonl"
V1_META, V1_SAMPLES = "meta.json", "samples.csv"
COLUMNS = ("batch", "t_s", "t_host_s", "seq", "raw", "force_n", "flags")  # version 1
RECORD_BYTES = SAMPLE_DTYPE.itemsize

SOURCE_EVENTS = frozenset({
    "DeviceInfo", "DeviceReset", "FramesLost", "SignalLost", "SignalRestored", "DeviceLog",
    "SourceError", "ConsumerFailed", "Disconnected", "Reconnected"})
"""Events that come from the source (or the fan-out), not from the tracker: a replay feeds
them back in where they happened; everything else is an input or a decision."""


class RecordingError(Exception):
    """A recording could not be written or read; the message names the file and the problem."""


def new_recording_path(folder: str | os.PathLike[str], prefix: str = "session") -> Path:
    """A fresh recording path in `folder` named by `prefix` (a pseudonym) and the time."""
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
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


_HINTS: dict[type, dict[str, Any]] = {}
_FIELDS: dict[type, tuple[str, ...]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """A class's resolved field types, worked out once per class (resolving them costs more
    than decoding the event)."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _field_names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names, once per class."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _rebuild(value: Any, kind: Any) -> Any:
    """The inverse of `_plain` for a field of type `kind`."""
    if isinstance(value, dict) and value.get("__type__") in NESTED:
        cls = NESTED[value["__type__"]]
        hints = _hints(cls)
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
    hints = _hints(cls)
    try:
        return cls(**{name: _rebuild(data[name], hints.get(name))
                      for name in _field_names(cls) if name in data})
    except (TypeError, KeyError, ValueError):
        return None


def dtype_to_json(dtype: np.dtype) -> list[list[str]]:
    """A structured dtype as `[[name, "<f8"], ...]`."""
    fields: Mapping[str, Any] = dtype.fields or {}
    return [[name, fields[name][0].str] for name in dtype.names or ()]


def _private_open(path: Path) -> io.BufferedWriter:
    """A new file only its owner can read (0600), opened for appending bytes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
    os.chmod(path, 0o600)
    return os.fdopen(fd, "ab")


class Recorder:
    """A consumer that records every batch and event to a version-2 recording folder.

    `on_batch` and `on_event` only append to memory (they run on the reader thread); a
    writer thread writes every `flush_s` and syncs every `sync_s`. A write error leaves
    acquisition running: `error` says what happened and later data are counted as lost."""

    def __init__(self, path: str | os.PathLike[str], context: dict[str, Any] | None = None,
                 *, meta: dict[str, Any] | None = None, flush_s: float = 0.25,
                 sync_s: float = 1.0) -> None:
        from tpforce.history.paths import private_dir, private_write

        self.path = Path(path)
        self.context: dict[str, Any] = {**(context or {}), **(meta or {})}
        try:
            if self.path.exists():
                raise FileExistsError
            private_dir(self.path.parent)
            self.path.mkdir(mode=0o700)
            os.chmod(self.path, 0o700)
        except FileExistsError:
            raise RecordingError(f"{self.path} already exists; choose a new name") from None
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot create the recording ({exc.strerror})"
                                 ) from None
        self._private_write = private_write
        self.started_unix = time.time()
        try:
            self._write_context()
            self._samples = _private_open(self.path / SAMPLES_FILE)
            self._events = _private_open(self.path / EVENTS_FILE)
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot write the recording ({exc.strerror})"
                                 ) from None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending_samples: list[bytes] = []
        self._pending_events: list[tuple[int, ev.Event]] = []
        self._closed = False
        self.flush_s, self.sync_s = flush_s, sync_s
        self.samples = 0  # samples handed to the recorder
        self.events = 0
        self.batches = 0
        self.written_bytes = 0  # bytes written to the OS (samples and events)
        self.lost_samples = 0  # samples not written because of a write error
        self.error = ""  # the last write error, in words ("" while all is well)
        self.reader_cpu_s = 0.0  # CPU time the reader thread spent in on_batch
        self.writer_cpu_s = 0.0  # CPU time of the writer thread
        self._thread = threading.Thread(target=self._run, name="tpforce-recorder", daemon=True)
        self._thread.start()

    # -- context -----------------------------------------------------------------------

    def _write_context(self) -> None:
        doc = {"format": FORMAT, "version": VERSION,
               "sample_dtype": dtype_to_json(SAMPLE_DTYPE), "record_bytes": RECORD_BYTES,
               "byte_order": "little", "started_unix": self.started_unix,
               "started": time.strftime("%Y-%m-%dT%H:%M:%S%z",
                                        time.localtime(self.started_unix)),
               "context": self.context}
        self._private_write(self.path / CONTEXT_FILE,
                            json.dumps(doc, indent=1, default=_plain) + "\n")

    def update_context(self, **fields: Any) -> None:
        """Add or replace context fields (the points at the end, say); rewritten atomically."""
        with self._lock:
            self.context.update(fields)
        try:
            self._write_context()
        except OSError as exc:
            self.error = f"cannot update {CONTEXT_FILE}: {exc.strerror}"

    # -- consumer ----------------------------------------------------------------------

    def on_batch(self, batch: np.ndarray) -> None:
        """Queue the batch's records for the writer thread."""
        if len(batch) == 0:
            return
        t0 = time.thread_time()
        data = (batch if batch.dtype == SAMPLE_DTYPE else batch.astype(SAMPLE_DTYPE)).tobytes()
        with self._lock:
            if not self._closed:
                self._pending_samples.append(data)
                self.samples += len(batch)
                self.batches += 1
        self.reader_cpu_s += time.thread_time() - t0

    def on_event(self, event: ev.Event) -> None:
        """Queue the event with the number of samples before it."""
        with self._lock:
            if not self._closed:
                self._pending_events.append((self.samples, event))
                self.events += 1

    # -- writer ------------------------------------------------------------------------

    def _run(self) -> None:
        last_sync = time.monotonic()
        while not self._wake.wait(self.flush_s):
            self._flush()
            if time.monotonic() - last_sync >= self.sync_s:
                self._sync()
                last_sync = time.monotonic()

    def _flush(self) -> None:
        """Write what is pending: samples first, so an event never precedes its samples."""
        t0 = time.thread_time()
        with self._lock:
            samples, self._pending_samples = self._pending_samples, []
            events, self._pending_events = self._pending_events, []
        if samples or events:
            data = b"".join(samples)
            text = "".join(json.dumps({"i": i, **event_to_dict(e)}) + "\n" for i, e in events)
            try:
                if data:
                    self._samples.write(data)
                    self._samples.flush()
                if text:
                    self._events.write(text.encode("utf-8"))
                    self._events.flush()
                self.written_bytes += len(data) + len(text)
            except OSError as exc:
                self.lost_samples += len(data) // RECORD_BYTES
                self.error = f"recording stopped writing: {exc.strerror or exc}"
        self.writer_cpu_s += time.thread_time() - t0

    def _sync(self) -> None:
        for f in (self._samples, self._events):
            with contextlib.suppress(OSError, ValueError):
                os.fsync(f.fileno())

    @property
    def cpu_s(self) -> float:
        """CPU time the recorder cost, on the reader thread and its own."""
        return self.reader_cpu_s + self.writer_cpu_s

    @property
    def size_bytes(self) -> int:
        """Bytes of samples and events written so far."""
        return self.written_bytes

    def close(self) -> None:
        """Write everything, sync to disk and close the files; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        self._flush()
        self._sync()
        for f in (self._samples, self._events):
            try:
                f.close()
            except OSError as exc:
                self.error = f"recording could not close: {exc.strerror}"
        self.update_context(ended_unix=time.time(), samples=self.samples)

    @property
    def closed(self) -> bool:
        """True once `close()` ran."""
        return self._closed

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- reading -------------------------------------------------------------------------------


def _complete_lines(path: Path) -> tuple[str, bool]:
    """The file's text up to its last newline, and whether a torn last line was dropped."""
    data = path.read_bytes()
    end = data.rfind(b"\n")
    torn = len(data) > end + 1
    try:
        return (data[: end + 1].decode("utf-8") if end >= 0 else ""), torn
    except UnicodeDecodeError:
        raise RecordingError(f"{path}: damaged (not UTF-8 text)") from None


class RecordingReader:
    """A recording opened for reading: its context, its samples (SAMPLE_DTYPE, memory-mapped
    for version 2) and its events with the sample count before each.

    A torn or truncated tail is cut at the last whole record; `warnings` says so."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.warnings: list[str] = []
        self.skipped_events = 0
        if not self.path.exists():
            raise RecordingError(f"{self.path}: no such file or folder")
        if not self.path.is_dir():
            raise RecordingError(f"{self.path}: not a tpforce recording (a recording is a "
                                 f"*{SUFFIX} folder)")
        if (self.path / CONTEXT_FILE).exists():
            doc_path = self.path / CONTEXT_FILE
        elif (self.path / V1_META).exists():
            doc_path = self.path / V1_META
        else:
            raise RecordingError(f"{self.path}: not a tpforce recording (no {CONTEXT_FILE})")
        try:
            doc = json.loads(doc_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RecordingError(f"{doc_path}: damaged ({exc})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise RecordingError(f"{self.path}: not a tpforce recording ({doc_path.name} "
                                 f"says another format)")
        try:
            self.version = int(doc.get("version", 0))
        except (TypeError, ValueError):
            raise RecordingError(f"{doc_path}: damaged (version {doc.get('version')!r})"
                                 ) from None
        if self.version > VERSION:
            raise RecordingError(f"{self.path}: recording format version {self.version} is "
                                 f"newer than this tpforce reads ({VERSION}); update tpforce")
        if self.version < 1 or (self.version == 1) != (doc_path.name == V1_META):
            raise RecordingError(f"{doc_path}: damaged (version {self.version})")
        self.doc = doc
        self.meta = doc  # version 1's name for it
        ctx = doc.get("context", {}) if self.version >= 2 else doc
        self.context: dict[str, Any] = ctx if isinstance(ctx, dict) else {}
        self._samples: np.ndarray | None = None
        self._events: list[tuple[int, ev.Event]] | None = None

    # -- samples -------------------------------------------------------------------------

    @property
    def sample_count(self) -> int:
        """How many whole samples the recording holds."""
        return len(self.samples())

    def samples(self) -> np.ndarray:
        """Every whole sample (read-only, memory-mapped for version 2)."""
        if self._samples is None:
            self._samples = self._read_v2() if self.version >= 2 else self._read_v1()[0]
        return self._samples

    def load_samples(self) -> np.ndarray:
        """Every whole sample copied into memory (writable): read from the file in one
        call where the records are this version's own, about twice as fast as copying the
        memory map."""
        mapped = self.samples()
        if isinstance(mapped, np.memmap) and mapped.dtype == SAMPLE_DTYPE:
            with open(self.path / SAMPLES_FILE, "rb") as f:
                loaded = np.fromfile(f, dtype=SAMPLE_DTYPE, count=len(mapped))
            if len(loaded) == len(mapped):
                return loaded
        return np.array(mapped)

    def _read_v2(self) -> np.ndarray:
        path = self.path / SAMPLES_FILE
        dtype = SAMPLE_DTYPE
        listed = self.doc.get("sample_dtype")
        if listed is not None:
            try:
                dtype = np.dtype([(str(n), str(t)) for n, t in listed])
            except (TypeError, ValueError):
                raise RecordingError(f"{self.path / CONTEXT_FILE}: damaged (sample_dtype)"
                                     ) from None
            missing = set(SAMPLE_DTYPE.names or ()) - set(dtype.names or ())
            fields: Mapping[str, Any] = dtype.fields or {}
            if missing or any(fields[n][0].byteorder == ">" for n in dtype.names or ()):
                raise RecordingError(f"{self.path}: sample records lack "
                                     f"{', '.join(sorted(missing)) or 'little-endian order'}")
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise RecordingError(f"{path}: missing; the recording is incomplete") from None
        n, torn = divmod(size, dtype.itemsize)
        if torn:
            self.warnings.append(f"{path}: truncated; read up to its last whole record "
                                 f"({n} samples, {torn} bytes dropped)")
        if n == 0:
            return np.zeros(0, dtype=SAMPLE_DTYPE)
        mapped = np.memmap(path, dtype=dtype, mode="r", shape=(n,))
        if dtype == SAMPLE_DTYPE:
            return mapped
        out = np.zeros(n, dtype=SAMPLE_DTYPE)
        for name in SAMPLE_DTYPE.names or ():
            out[name] = mapped[name]
        return out

    def _read_v1(self) -> tuple[np.ndarray, np.ndarray]:
        path = self.path / V1_SAMPLES
        try:
            text, torn = _complete_lines(path)
        except FileNotFoundError:
            raise RecordingError(f"{path}: missing; the recording is incomplete") from None
        if torn:
            self.warnings.append(f"{path}: truncated; read up to its last whole row")
        lines = text.splitlines()[1:]
        out = np.zeros(len(lines), dtype=SAMPLE_DTYPE)
        if not lines:
            return out, np.zeros(0, dtype=np.int64)
        try:
            table = np.loadtxt(io.StringIO("\n".join(lines)), delimiter=",", ndmin=2,
                               dtype=np.float64)
        except ValueError as exc:
            raise RecordingError(f"{path}: damaged ({exc})") from None
        # Integer columns are exact in float64 (seq < 2^53, raw and flags far smaller).
        out["t_s"], out["t_host_s"], out["force_n"] = table[:, 1], table[:, 2], table[:, 5]
        out["seq"] = table[:, 3].astype(np.int64)
        out["raw"] = table[:, 4].astype(np.int32)
        out["flags"] = table[:, 6].astype(np.uint16)
        return out, table[:, 0].astype(np.int64)

    # -- events --------------------------------------------------------------------------

    def events(self) -> list[tuple[int, ev.Event]]:
        """Every event with the number of samples recorded before it."""
        if self._events is not None:
            return self._events
        path = self.path / EVENTS_FILE
        try:
            text, torn = _complete_lines(path)
        except FileNotFoundError:
            text, torn = "", False
            self.warnings.append(f"{path}: missing; no events read")
        if torn:
            self.warnings.append(f"{path}: truncated; read up to its last whole line")
        key = "i" if self.version >= 2 else "after"
        out = []
        n = self.sample_count
        for line in text.splitlines():
            try:
                data = json.loads(line)
                at = int(data.get(key, 0))
            except (ValueError, TypeError, AttributeError):
                self.skipped_events += 1
                continue
            event = event_from_dict(data)
            if event is None or at > n:  # an unknown type, or past the samples kept
                self.skipped_events += 1
                continue
            out.append((at, event))
        if self.skipped_events:
            self.warnings.append(f"{path}: {self.skipped_events} event line(s) unreadable or "
                                 "past the last sample, skipped")
        self._events = out
        return out

    def duration_s(self) -> float:
        """Time from the first to the last sample."""
        s = self.samples()
        return float(s["t_s"][-1] - s["t_s"][0]) if len(s) > 1 else 0.0

    def __iter__(self) -> Iterator[np.ndarray | ev.Event]:
        """Batches and events in recorded order (version 2: batches split at events; version
        1: the batches as they were recorded)."""
        events = self.events()
        if self.version >= 2:
            samples = self.samples()
            starts = sorted({0, *(at for at, _ in events)})
        else:
            samples, batch_no = self._read_v1()
            starts = (np.flatnonzero(np.diff(batch_no, prepend=-1)).tolist()
                      if len(batch_no) else [])
        bounds = sorted({*starts, len(samples)})
        k = 0
        for a, b in itertools.pairwise(bounds):
            while k < len(events) and events[k][0] <= a:
                yield events[k][1]
                k += 1
            if b > a:
                yield np.array(samples[a:b])
        for _, event in events[k:]:
            yield event


def read_recording(path: str | os.PathLike[str]) -> tuple[np.ndarray, list[ev.Event]]:
    """All samples of a recording as one batch, and its events."""
    reader = RecordingReader(path)
    return reader.load_samples(), [e for _, e in reader.events()]
