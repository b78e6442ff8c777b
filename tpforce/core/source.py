"""The one source interface: what every producer of sample batches and source events satisfies.

A probe on a serial port, each force gauge, the simulator, a recording player and an LSL
inlet are all a `Source`. To write a new one:

1. Take a `Sink` in the constructor (or set `source.sink` before `open()`); deliver to it
   from your own thread: `sink.on_batch(batch)` with `SAMPLE_DTYPE` arrays (`force_n` left
   NaN: the processor calibrates) and `sink.on_event(event)` with core events
   (`SignalLost`, `SignalRestored`, `Disconnected`, `Reconnected`, `SourceError`, ...).
   Wrap the sink in `core.consumer.FanOut` if it may raise: failures are isolated there.
2. `open()` returns once the device is known: `device` is set and `calibration` says how
   its counts become newtons (None: the device holds no record). It raises
   `SourceOpenError` with one line that says what to do. `close()` may be called twice.
3. `health()` is a snapshot of exact counts; `nominal_rate_sps` and `stale_s` tell the
   display what to expect. `StaleWatch` decides SignalLost/SignalRestored for you.

The core never imports pyserial: ports live in `tpforce.io`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from tpforce.core.calibration import Calibration
from tpforce.core.events import Event, SignalLost, SignalRestored

STALE_S = 0.25
"""No sample for this long is a lost signal (a 1 kHz probe; slow gauges use longer)."""


class SourceOpenError(Exception):
    """The source could not be opened; the message is one line that says what to do."""


class Sink(Protocol):
    """Where a source delivers: the processor, a fan-out, a tap."""

    def on_batch(self, batch: np.ndarray) -> None:
        """Take a batch of samples (SAMPLE_DTYPE)."""

    def on_event(self, event: Event) -> None:
        """Take one event."""


@dataclass(frozen=True, slots=True)
class Device:
    """What is on the other end: its kind, serial number and sample rate, as it says."""

    name: str  # e.g. "tpforce probe", "mark10 gauge", "LSL stream"
    serial: str = ""  # "" where the device has none
    rate_sps: float = 0.0  # 0 where the device does not say
    firmware: str = ""
    where: str = ""  # the port, URL or stream name it was opened on

    @property
    def label(self) -> str:
        """A short line for a title bar or a recording's header."""
        ident = f" {self.serial}" if self.serial else ""
        return f"{self.name}{ident} on {self.where}" if self.where else f"{self.name}{ident}"


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """A snapshot of a source's stream health; every count is exact and since `open()`."""

    good_frames: int  # frames decoded and accepted (samples and replies)
    samples: int  # samples handed to the sink
    crc_errors: int
    framing_errors: int  # COBS/length errors, unknown frames, unparseable lines
    lost_frames: int  # from sequence gaps (0 where the device has no sequence numbers)
    resyncs: int  # reads in which bytes had to be dropped to regain frame sync
    reconnects: int
    resets: int  # device resets / sequence restarts seen
    sink_errors: int  # exceptions raised by the sink, reported and survived
    connected: bool
    signal: bool  # samples are arriving (no SignalLost outstanding)


@runtime_checkable
class Source(Protocol):
    """A producer of sample batches and source events for one sink (see the module doc)."""

    sink: Sink
    stale_s: float

    @property
    def device(self) -> Device | None:
        """The device, known once `open()` returned (None before)."""

    @property
    def nominal_rate_sps(self) -> float:
        """The rate the device is set to (what the display and buffers are sized for)."""

    @property
    def calibration(self) -> Calibration | None:
        """Counts to newtons as the device holds it, known once `open()` returned."""

    def open(self) -> Source:
        """Connect, identify the device, start delivering; SourceOpenError on failure."""

    def close(self) -> None:
        """Stop delivering and release the device; safe to call twice."""

    def health(self) -> SourceHealth:
        """Counts of frames, errors, losses and reconnects so far."""

    def __enter__(self) -> Source:
        """`open()`."""

    def __exit__(self, *exc: object) -> None:
        """`close()`."""


class StaleWatch:
    """The stale-signal watchdog: says SignalLost after `stale_s` without samples, and
    SignalRestored (with the gap) on the first batch after that. Pure: feed it times."""

    def __init__(self, stale_s: float = STALE_S) -> None:
        self.stale_s = stale_s
        self.lost = False
        self.last_t_s = 0.0  # device time of the last sample
        self._last_host: float | None = None

    def batch(self, batch: np.ndarray, now: float) -> SignalRestored | None:
        """A batch arrived at host time `now`; SignalRestored if the signal had been lost."""
        restored = None
        if len(batch) == 0:
            return None
        if self.lost:
            self.lost = False
            t0 = float(batch["t_s"][0])
            restored = SignalRestored(t0, max(t0 - self.last_t_s, 0.0))
        self._last_host = now
        self.last_t_s = float(batch["t_s"][-1])
        return restored

    def check(self, now: float) -> SignalLost | None:
        """SignalLost once, when nothing came for `stale_s` up to host time `now`."""
        last = self._last_host
        if last is not None and not self.lost and now - last > self.stale_s:
            return self.force_lost()
        return None

    def force_lost(self) -> SignalLost | None:
        """The link is known gone (port failed): SignalLost now, unless already said."""
        if self.lost:
            return None
        self.lost = True
        return SignalLost(self.last_t_s)


class HeldSink:
    """Holds what a source delivers until `release(sink)`, then passes all on, in order.

    The wiring opens a source into one of these, chooses the calibration from what the
    device said, and only then releases to the processor: no sample is tracked with the
    wrong calibration, and none is lost.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: list[np.ndarray | Event] = []
        self._sink: Sink | None = None

    def on_batch(self, batch: np.ndarray) -> None:
        """Pass on, or hold a copy until released."""
        sink = self._sink
        if sink is None:
            with self._lock:
                if self._sink is None:
                    self._held.append(batch.copy())
                    return
                sink = self._sink
        sink.on_batch(batch)

    def on_event(self, event: Event) -> None:
        """Pass on, or hold until released."""
        sink = self._sink
        if sink is None:
            with self._lock:
                if self._sink is None:
                    self._held.append(event)
                    return
                sink = self._sink
        sink.on_event(event)

    def release(self, sink: Sink) -> None:
        """Deliver everything held to `sink`, then pass everything on directly."""
        with self._lock:
            for item in self._held:
                if isinstance(item, np.ndarray):
                    sink.on_batch(item)
                else:
                    sink.on_event(item)
            self._held.clear()
            self._sink = sink

    def close(self) -> None:
        """Nothing to release."""


__all__ = ["STALE_S", "Device", "HeldSink", "Sink", "Source", "SourceHealth",
           "SourceOpenError", "StaleWatch"]
