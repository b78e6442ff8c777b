"""A preallocated ring of recent samples that a display can read at its own pace."""

from __future__ import annotations

import threading

import numpy as np

from tpforce.core.events import Event
from tpforce.core.samples import SAMPLE_DTYPE


class SampleRing:
    """Keeps the last `capacity` samples; `write` on the IO thread, `latest` on the GUI thread."""

    def __init__(self, capacity: int) -> None:
        self._buf = np.zeros(capacity, dtype=SAMPLE_DTYPE)
        self._capacity = capacity
        self._count = 0  # samples ever written
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        """How many samples were ever written (grows without bound)."""
        return self._count

    def write(self, batch: np.ndarray) -> None:
        """Append a batch; the oldest samples fall off."""
        total = len(batch)
        if total == 0:
            return
        cap = self._capacity
        with self._lock:
            end = self._count + total  # index (ever) just past the last sample
            keep = batch[-cap:] if total > cap else batch
            start = (end - len(keep)) % cap
            first = min(len(keep), cap - start)
            self._buf[start : start + first] = keep[:first]
            if first < len(keep):
                self._buf[: len(keep) - first] = keep[first:]
            self._count = end

    def latest(self, n: int | None = None) -> np.ndarray:
        """A copy of the newest `n` samples (all held ones by default), oldest first."""
        with self._lock:
            held = min(self._count, self._capacity)
            n = held if n is None else min(n, held)
            end = self._count % self._capacity
            start = end - n
            if start >= 0:
                return self._buf[start:end].copy()
            return np.concatenate((self._buf[start:], self._buf[:end]))

    # Consumer interface: a ring is a consumer of batches; it ignores events.
    def on_batch(self, batch: np.ndarray) -> None:
        """Store the batch."""
        self.write(batch)

    def on_event(self, event: Event) -> None:
        """Rings keep samples only."""

    def close(self) -> None:
        """Nothing to release."""
