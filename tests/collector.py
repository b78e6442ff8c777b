"""A consumer for the tests that keeps every batch and queues every event, so the test
thread can wait on what a reader thread delivers."""

from __future__ import annotations

import queue
import threading
import time

import numpy as np

from tpforce.core.events import Event


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
        """The next event of `kind` (others are skipped); queue.Empty on time-out."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(deadline - time.monotonic(), 0.001))
            if isinstance(event, kind):
                return event

    def wait_samples(self, n: int, timeout: float = 20.0) -> bool:
        """Wait until at least `n` samples have arrived in total."""
        with self._cond:
            return self._cond.wait_for(lambda: self.count >= n, timeout)

    def samples(self) -> np.ndarray:
        """Every sample so far, in arrival order."""
        with self._cond:
            return np.concatenate(self.batches) if self.batches else np.zeros(0)
