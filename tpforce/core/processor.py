"""The acquisition-side pipeline: calibrate, track, then hand on to consumers.

It runs on the source's thread, so alarms are decided as samples arrive, never in paint code.
Every operator input (tare, mark, phase, hold, point, trial filing, band and hold settings)
is a method here: it becomes an `Input` event stamped with the sample it follows, is applied
under the same lock as the batches and is delivered to every consumer before what it caused.
A recorder keeping raw batches and inputs can thus recompute the session
(`tpforce.core.replay.recompute`).
"""

from __future__ import annotations

import threading

import numpy as np

from tpforce.core.calibration import Calibration
from tpforce.core.consumer import Consumer, FanOut
from tpforce.core.events import Event, Input, InputKind, InputRefused, Phase, SignalLost, Tared
from tpforce.core.samples import SampleFlag
from tpforce.core.session import Point, Session
from tpforce.core.tracker import SMALL_BATCH, Tracker, TrackerState

_SATURATED = int(SampleFlag.SATURATED)
_RAW_KEEP = 4096  # raw samples kept for a tare: 0.5 s up to 8 kSPS


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
        # Recent raw counts (unsaturated) and their times: the last _RAW_KEEP are kept, in
        # buffers twice that size so that a batch appends in place and a shift is rare.
        self._raw_buf = np.zeros(2 * _RAW_KEEP, dtype=np.int64)
        self._raw_t_buf = np.zeros(2 * _RAW_KEEP)
        self._raw_n = 0
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
        """A snapshot of the session (points, phases, marks, holds): a copy made when it
        last changed, never the object the reader thread mutates. Do not modify it."""
        return self.tracker.session_view

    @property
    def state(self) -> TrackerState:
        """The latest tracker snapshot (atomic reference read)."""
        return self.tracker.state

    def on_batch(self, batch: np.ndarray) -> None:
        """Calibrate and track one batch, then deliver it and its events."""
        with self._lock:
            self._calibration.apply(batch)
            events = self.tracker.process(batch)
            flags = batch["flags"]
            if len(flags) <= SMALL_BATCH:  # a few samples: faster than array calls
                saturated = any(fl & _SATURATED for fl in flags.tolist())
            else:
                saturated = bool((flags & _SATURATED).any())
            if not saturated:
                self._keep_raw(batch["raw"], batch["t_s"])
            else:
                ok = (flags & _SATURATED) == 0
                self._keep_raw(batch["raw"][ok], batch["t_s"][ok])
            self.out.deliver(batch, events)

    def _keep_raw(self, raw: np.ndarray, t_s: np.ndarray) -> None:
        """Append unsaturated raw counts for a tare, keeping the last _RAW_KEEP."""
        k = len(raw)
        if k == 0:
            return
        if k >= _RAW_KEEP:
            self._raw_buf[:_RAW_KEEP] = raw[-_RAW_KEEP:]
            self._raw_t_buf[:_RAW_KEEP] = t_s[-_RAW_KEEP:]
            self._raw_n = _RAW_KEEP
            return
        n = self._raw_n
        if n + k > len(self._raw_buf):
            live = min(n, _RAW_KEEP)
            self._raw_buf[:live] = self._raw_buf[n - live:n]
            self._raw_t_buf[:live] = self._raw_t_buf[n - live:n]
            n = live
        self._raw_buf[n:n + k] = raw
        self._raw_t_buf[n:n + k] = t_s
        self._raw_n = n + k

    @property
    def _raw(self) -> np.ndarray:
        """The last _RAW_KEEP unsaturated raw counts, oldest first."""
        return self._raw_buf[max(0, self._raw_n - _RAW_KEEP):self._raw_n]

    @property
    def _raw_t(self) -> np.ndarray:
        """Times of `_raw`."""
        return self._raw_t_buf[max(0, self._raw_n - _RAW_KEEP):self._raw_n]

    def on_event(self, event: Event) -> None:
        """Pass source events through, letting the tracker react to lost signal first."""
        with self._lock:
            events = self.tracker.on_signal_lost(event) if isinstance(event, SignalLost) else []
            self.out.on_event(event)
            self._emit(events)

    # -- operator inputs -------------------------------------------------------------------

    def apply(self, inp: Input) -> None:
        """Apply a recorded input now (a replay), with its kind and arguments."""
        self._input(inp.kind, **dict(inp.args))

    def tare(self) -> None:
        """Zero at rest (T key); refused, with the reason, under load or when not steady."""
        self._input(InputKind.TARE)

    def tare_anyway(self) -> None:
        """Zero whatever the force (a probe preloaded by design)."""
        self._input(InputKind.TARE_ANYWAY)

    def mark_threshold(self, by: str = "key") -> None:
        """Mark the threshold now: `by` "key" (therapist's key or pedal, 1.0 s window) or
        "button" (the patient's, 0.5 s)."""
        self._input(InputKind.MARK, by=by)

    def mark_tolerance(self, by: str = "key") -> None:
        """Mark the patient's pain tolerance now (for Hou's P2 band)."""
        self._input(InputKind.MARK_TOLERANCE, by=by)

    def arm_tolerance(self) -> None:
        """Let the patient's next button press mark pain tolerance instead of the PPT."""
        self._input(InputKind.ARM_TOLERANCE)

    def set_phase(self, phase: Phase | str | None = None) -> None:
        """Set the point's phase; None moves on (baseline -> treatment -> after trials)."""
        self._input(InputKind.PHASE, phase=phase.value if isinstance(phase, Phase) else phase)

    def next_phase(self) -> None:
        """What the phase key does: move on to the next phase."""
        self.set_phase(None)

    def start_hold(self) -> None:
        """Start a hold by hand now (H key, treatment only); no-op while one runs."""
        self._input(InputKind.START_HOLD)

    def stop_hold(self) -> None:
        """Stop the running hold now (H key again); no-op without one."""
        self._input(InputKind.STOP_HOLD)

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
            self._input(InputKind.NEXT_POINT, site=site, side=side)
            return self.session.current

    def delete_trial(self, number: int) -> None:
        """Delete mark `number` (1-based) of the current point."""
        self._input(InputKind.DELETE_TRIAL, number=int(number))

    def refile_trial(self, number: int, as_: str) -> None:
        """File mark `number` of the current point as "baseline", "after" or "step"."""
        self._input(InputKind.REFILE_TRIAL, number=int(number), **{"as": as_})

    def set_band_absolute(self, lo_n: float, hi_n: float) -> None:
        """Use a custom band in newtons."""
        self.set_band_custom(lo_n, hi_n, "N")

    def set_band_custom(self, lo: float, hi: float, unit: str = "N") -> None:
        """A custom band in N or in % of the PPT; refused above the alarm level."""
        self._input(InputKind.BAND_CUSTOM, lo=float(lo), hi=float(hi), unit=unit)

    def set_target_s(self, target_s: float) -> None:
        """Set the in-band time a hold must reach (presets 30, 60, 90 s)."""
        self._input(InputKind.TARGET, target_s=float(target_s))

    def set_grace_s(self, grace_s: float) -> None:
        """Set the grace time (continuous mode: out of band; both: lost signal)."""
        self._input(InputKind.GRACE, grace_s=float(grace_s))

    def set_hold_mode(self, mode: str) -> None:
        """'cumulative' (the therapist's hold) or 'continuous' (research protocols)."""
        self._input(InputKind.HOLD_MODE, mode=mode)

    def set_band_preset(self, name: str) -> None:
        """Use a band preset: 'below_threshold', 'hou_p1', 'hou_p2' or 'custom'."""
        self._input(InputKind.BAND_PRESET, preset=name)

    def _input(self, kind: InputKind, **args: object) -> None:
        """Stamp the input with the latest sample, apply and deliver it under the lock, so
        that an input's events never interleave with a batch's."""
        with self._lock:
            tr = self.tracker
            inp = Input.make(kind, tr.state.t_s, tr.samples_seen - 1, **args)
            if kind in (InputKind.TARE, InputKind.TARE_ANYWAY):
                self._emit([inp, *self._tare(inp.t_s, kind is InputKind.TARE_ANYWAY)])
            else:
                self._emit(tr.apply(inp))

    def _tare(self, t_s: float, anyway: bool) -> list[Event]:
        """Zero at the mean of the last `tare_window_s` of raw samples, if at rest."""
        cfg = self.tracker.config
        kind = InputKind.TARE_ANYWAY if anyway else InputKind.TARE
        if len(self._raw) == 0:
            return [InputRefused(t_s, kind, "no samples yet: tare when the probe streams")]
        recent = self._raw[self._raw_t >= self._raw_t[-1] - cfg.tare_window_s]
        if not anyway:
            force = self.tracker.state.force_n
            reason = ""
            if force == force and force > cfg.contact_n:
                reason = (f"not tared: {force:.1f} N on the probe; lift it off "
                          "(or tare anyway for a preloaded probe)")
            else:
                spread = self._calibration.force_n(np.array([recent.min(), recent.max()]))
                noise = abs(float(spread[1] - spread[0]))
                if noise > cfg.tare_noise_n:
                    reason = (f"not tared: the signal is not steady ({noise:.2f} N spread "
                              f"in {cfg.tare_window_s:g} s); hold the probe still")
            if reason:
                self.tracker._refusal = reason
                self.tracker._publish()
                return [InputRefused(t_s, kind, reason)]
        self._calibration = self._calibration.tared(recent)
        self.tracker.tip_area_cm2 = self._calibration.tip_area_cm2
        return [Tared(t_s, self._calibration.zero_counts, anyway),
                *self.tracker.zero_tared(t_s)]

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
