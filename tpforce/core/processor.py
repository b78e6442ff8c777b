"""The acquisition-side pipeline: calibrate, track, then hand on to consumers.

It runs on the source's thread, so alarms are decided as samples arrive, never in paint code.
Commands from the GUI thread (tare, mark, start/stop a hold, next point, presets) take the
same lock as the batches, and decide and deliver under it, so every consumer sees events in
the order they were decided.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from tpforce.core.calibration import Calibration
from tpforce.core.consumer import Consumer, FanOut
from tpforce.core.events import Event, SignalLost, Tared
from tpforce.core.samples import SampleFlag
from tpforce.core.session import Point, Session
from tpforce.core.tracker import Tracker, TrackerState

_SATURATED = int(SampleFlag.SATURATED)


class Processor:
    """A consumer of raw batches that fills `force_n`, runs the tracker and fans out."""

    def __init__(
        self,
        calibration: Calibration,
        tracker: Tracker | None = None,
        consumers: list[Consumer] | None = None,
    ) -> None:
        self._calibration = calibration
        self.tracker = tracker or Tracker()
        self.out = FanOut(consumers or [])
        # Commands from the GUI thread vs batches from IO; re-entrant so that a consumer may
        # issue a command from inside a delivery.
        self._lock = threading.RLock()
        self._last_raw = np.zeros(0, dtype=np.int32)
        self._closed = False
        self.tracker.tip_area_cm2 = calibration.tip_area_cm2

    @property
    def calibration(self) -> Calibration:
        """The calibration in force (replaced whole by tare or `set_calibration`)."""
        return self._calibration

    def set_calibration(self, calibration: Calibration) -> None:
        """Use another calibration from the next batch on (the probe's record, a file)."""
        with self._lock:
            self._calibration = calibration
            self.tracker.tip_area_cm2 = calibration.tip_area_cm2

    def add_consumer(self, consumer: Consumer) -> None:
        """Deliver to `consumer` too from the next batch on (a recorder started by hand)."""
        self.out.add(consumer)

    def remove_consumer(self, consumer: Consumer) -> None:
        """Stop delivering to `consumer` (it is not closed here)."""
        self.out.remove(consumer)

    @property
    def session(self) -> Session:
        """The session model: points, PPT trials before/after, holds (read on any thread)."""
        return self.tracker.session

    @property
    def state(self) -> TrackerState:
        """The latest tracker snapshot (atomic reference read)."""
        return self.tracker.state

    def on_batch(self, batch: np.ndarray) -> None:
        """Calibrate and track one batch, then deliver it and its events."""
        with self._lock:
            self._calibration.apply(batch)
            events = self.tracker.process(batch)
            at_rest = batch["raw"][(batch["flags"] & _SATURATED) == 0]
            self._last_raw = np.concatenate((self._last_raw, at_rest))[-64:]
            self.out.deliver(batch, events)

    def on_event(self, event: Event) -> None:
        """Pass source events through, letting the tracker react to lost signal first."""
        with self._lock:
            events = self.tracker.on_signal_lost(event) if isinstance(event, SignalLost) else []
            self.out.on_event(event)
            self._emit(events)

    def tare(self) -> None:
        """Zero at the mean of the most recent raw samples (call with the probe at rest)."""
        with self._lock:
            if len(self._last_raw) == 0:
                return
            self._calibration = self._calibration.tared(self._last_raw[-32:])
            self.tracker.tip_area_cm2 = self._calibration.tip_area_cm2
            self._emit([Tared(self.tracker.state.t_s, self._calibration.zero_counts)])

    def mark_threshold(self) -> None:
        """Mark the threshold now (keyboard or foot switch), as the probe button does."""
        self._command(self.tracker.mark_threshold)

    def start_hold(self) -> None:
        """Start a hold by hand now (H key); no-op while one runs."""
        self._command(self.tracker.start_hold)

    def stop_hold(self) -> None:
        """Stop the running hold now (H key again); no-op without one."""
        self._command(self.tracker.stop_hold)

    def toggle_hold(self) -> None:
        """Start a hold if none runs, else stop it: what the H key does."""
        with self._lock:
            if self.tracker.state.hold_active:
                self.stop_hold()
            else:
                self.start_hold()

    def next_point(self, site: str | None = None, side: str | None = None) -> Point:
        """Move the session on to the next point (N key); ends a running hold first."""
        with self._lock:
            self._command(lambda t_s: self.tracker.next_point(site, side, t_s))
            return self.session.current

    def mark_tolerance(self) -> None:
        """Mark the patient's pain tolerance now (for Hou's P2 band)."""
        self._command(self.tracker.mark_tolerance)

    def set_band_absolute(self, lo_n: float, hi_n: float) -> None:
        """Use a custom band in newtons."""
        self._command(lambda t_s: self.tracker.set_band_absolute(lo_n, hi_n, t_s))

    def set_target_s(self, target_s: float) -> None:
        """Set the in-band time a hold must reach (presets 30, 60, 90 s)."""
        self._command(lambda t_s: self.tracker.set_target_s(target_s, t_s))

    def set_band_preset(self, name: str) -> None:
        """Use a band preset: 'below_threshold', 'hou_p1', 'hou_p2' or 'custom'."""
        self._command(lambda t_s: self.tracker.set_band_preset(name, t_s))

    def _command(self, decide: Callable[[float], list[Event]]) -> None:
        """Decide at the latest sample's time and deliver, under the lock, so that a command's
        events never interleave with a batch's."""
        with self._lock:
            self._emit(decide(self.tracker.state.t_s))

    def close(self) -> None:
        """End a running hold (STOPPED, at the last sample), then close every consumer."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            self._emit(self.tracker.finish())
        self.out.close()

    def _emit(self, events: list[Event]) -> None:
        for event in events:
            self.out.on_event(event)
