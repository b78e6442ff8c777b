"""Helpers for the recording tests: a consumer that keeps what it is given, a v1 writer."""

from __future__ import annotations

import json
import queue
import threading
from pathlib import Path

import numpy as np

from tpforce.core.events import Event
from tpforce.io.recorder import event_to_dict


class Collector:
    """Keeps every batch and queues events for the test thread to wait on."""

    def __init__(self) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self.seen: list[Event] = []
        self.batches: list[np.ndarray] = []
        self.count = 0
        self._cond = threading.Condition()

    def on_batch(self, batch: np.ndarray) -> None:
        with self._cond:
            self.batches.append(batch.copy())
            self.count += len(batch)
            self._cond.notify_all()

    def on_event(self, event: Event) -> None:
        self.seen.append(event)
        self.events.put(event)

    def close(self) -> None:
        pass

    def wait_for(self, kind: type[Event], timeout: float = 20.0) -> Event:
        """The next event of `kind` (others skipped); queue.Empty on time-out."""
        while True:
            event = self.events.get(timeout=timeout)
            if isinstance(event, kind):
                return event

    def wait_samples(self, n: int, timeout: float = 20.0) -> bool:
        """Wait until at least `n` samples have arrived."""
        with self._cond:
            return self._cond.wait_for(lambda: self.count >= n, timeout)

    def samples(self) -> np.ndarray:
        """Every sample so far, in arrival order."""
        with self._cond:
            return np.concatenate(self.batches) if self.batches else np.zeros(0)


def write_v1(path: Path, items: list[np.ndarray | Event], meta: dict | None = None) -> None:
    """A version-1 folder exactly as docs/recording-format.md describes it."""
    path.mkdir()
    (path / "meta.json").write_text(json.dumps(
        {"format": "tpforce-recording", "version": 1,
         "columns": ["batch", "t_s", "t_host_s", "seq", "raw", "force_n", "flags"],
         **(meta or {})}))
    rows, lines, n, b = ["batch,t_s,t_host_s,seq,raw,force_n,flags"], [], 0, 0
    for item in items:
        if isinstance(item, np.ndarray):
            for r in item:
                rows.append(f"{b},{float(r['t_s'])!r},{float(r['t_host_s'])!r},{int(r['seq'])},"
                            f"{int(r['raw'])},{float(r['force_n'])!r},{int(r['flags'])}")
            n += len(item)
            b += 1
        else:
            lines.append(json.dumps({"after": n, **event_to_dict(item)}))
    (path / "samples.csv").write_text("\n".join(rows) + "\n")
    (path / "events.jsonl").write_text("".join(line + "\n" for line in lines))
