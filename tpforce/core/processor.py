"""The acquisition-side pipeline: calibrate, track, then hand on to consumers.

It runs on the source's thread, so alarms are decided as samples arrive, never in paint code.
"""

from __future__ import annotations

import threading

import numpy as np

from tpforce.core.calibration import Calibration
from tpforce.core.consumer import Consumer, FanOut
from tpforce.core.events import Event, SignalLost, Tared
from tpforce.core.tracker import Tracker, TrackerState


class Processor:
    """A consumer of raw batches that fills `force_n`, runs the tracker and fans out."""

    def __init__(
        self,
        calibration: Calibration,
        tracker: Tracker | None = None,
        consumers: list[Consumer] | None = None,
    ) -> None:
        self.calibration = calibration
        self.tracker = tracker or Tracker()
        self.out = FanOut(consumers or [])
        self._lock = threading.Lock()  # commands from the GUI thread vs batches from IO
        self._last_raw = np.zeros(0, dtype=np.int32)

    @property
    def state(self) -> TrackerState:
        """The latest tracker snapshot (atomic reference read)."""
        return self.tracker.state

    def on_batch(self, batch: np.ndarray) -> None:
        """Calibrate and track one batch, then deliver it and its events."""
        with self._lock:
            self.calibration.apply(batch)
            events = self.tracker.process(batch)
            self._last_raw = np.concatenate((self._last_raw, batch["raw"]))[-64:]
        self.out.on_batch(batch)
        for event in events:
            self.out.on_event(event)

    def on_event(self, event: Event) -> None:
        """Pass source events through, letting the tracker react to lost signal first."""
        events: list[Event] = []
        if isinstance(event, SignalLost):
            with self._lock:
                events = self.tracker.on_signal_lost(event)
        self.out.on_event(event)
        for e in events:
            self.out.on_event(e)

    def tare(self) -> None:
        """Zero at the mean of the most recent raw samples (call with the probe at rest)."""
        with self._lock:
            if len(self._last_raw) == 0:
                return
            self.calibration = self.calibration.tared(self._last_raw[-32:])
            t_s = self.tracker.state.t_s
        self.out.on_event(Tared(t_s, self.calibration.zero_counts))

    def mark_threshold(self) -> None:
        """Mark the threshold now (keyboard or foot switch), as the probe button does."""
        with self._lock:
            events = self.tracker.mark_threshold(self.tracker.state.t_s)
        for e in events:
            self.out.on_event(e)

    def close(self) -> None:
        """Close every downstream consumer."""
        self.out.close()
