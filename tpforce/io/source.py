"""A source on a serial port: a reader thread that composes four separate pieces.

`PortSource` satisfies `tpforce.core.source.Source`. Like pyserial's `ReaderThread` with its
`Protocol`, it owns no knowledge of what the bytes mean; it puts together:

- the transport (`tpforce.io.transport.Transport`): the open pyserial URL, reads and writes;
- a `DeviceProtocol` (the probe's in `tpforce.io.probe`, each gauge's in
  `tpforce.io.drivers`): turns bytes into sample batches and events, greets or arms the
  device on a fresh port, polls while idle, and says whether a device is the one it lost;
- the stale-signal watchdog (`core.source.StaleWatch`): SignalLost / SignalRestored;
- a `Reconnector` (`tpforce.io.reconnect`): where and how often to look for a lost device.

Failure isolation for the sink is `core.consumer.FanOut`. A protocol talks back only
through its `Link` (write, emit, deliver), so it can be driven without a port or a thread.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Protocol

import numpy as np
import serial

from tpforce.core.calibration import Calibration
from tpforce.core.consumer import FanOut
from tpforce.core.events import Disconnected, Event, Reconnected, SourceError
from tpforce.core.source import (
    STALE_S,
    Device,
    Sink,
    SourceHealth,
    SourceOpenError,
    StaleWatch,
)
from tpforce.io.reconnect import PortLister, Reconnector
from tpforce.io.transport import CommandError, Transport, open_port

log = logging.getLogger(__name__)

BATCH_INTERVAL_S = 0.003  # the shortest time between hand-offs; only fast streams feel it


class Link(Protocol):
    """What a device protocol may do with the source it serves."""

    port: str

    def write(self, data: bytes) -> None:
        """Send bytes to the device; CommandError if the port is not open right now."""

    def emit(self, event: Event) -> None:
        """Hand an event to the sink."""

    def deliver(self, batch: np.ndarray, now: float) -> None:
        """Hand a batch of samples (received at host time `now`) to the sink."""

    @property
    def last_t_s(self) -> float:
        """Device time of the last sample delivered (events are stamped with it)."""

    @property
    def stopping(self) -> threading.Event:
        """Set once the source is closing: long waits poll it."""


class DeviceProtocol:
    """One device's protocol: bytes in, samples and events out, through a `Link`.

    Subclasses override what their device needs; the defaults describe a device that
    streams by itself, needs no greeting and cannot be told apart from another.
    """

    driver = "base"
    frame_end = b"\n"  # the byte that ends a frame (a line) on this kind of device
    default_baudrate = 115200
    stale_s = STALE_S
    try_unknown_ports = False  # may other ports of the same VID:PID be tried on reconnect

    def __init__(self) -> None:
        self.resyncs = 0  # reads in which bytes had to be dropped to regain frame sync
        self._link: Link | None = None

    @property
    def link(self) -> Link:
        """The source this protocol serves (set by `bind`)."""
        if self._link is None:
            raise RuntimeError("the protocol is not bound to a source")
        return self._link

    def bind(self, link: Link) -> None:
        """Serve `link` from now on."""
        self._link = link

    # -- what the reader calls ------------------------------------------------------------

    def connection_made(self, ser: serial.SerialBase, first: bool) -> None:
        """The port is open (`first`: at `open()`, else after a reconnect): greet or arm
        the device. SourceOpenError at the first open means it is not the right device."""

    def identify(self, ser: serial.SerialBase) -> tuple[bool, bytes]:
        """Is the device on `ser` ours? The verdict and any bytes read meanwhile."""
        return True, b""

    def link_restarted(self) -> None:
        """A new connection: arrival times from before are no guide to those after."""

    def data_received(self, data: bytes, now: float) -> None:
        """Decode `data` (read at host time `now`); deliver samples and events."""
        raise NotImplementedError

    def tick(self, now: float) -> None:
        """Called after every read, data or not: poll, re-arm, time out."""

    def close(self) -> None:
        """The source is closing: end any wait in progress."""

    # -- what the source reports ----------------------------------------------------------

    def device(self, where: str) -> Device | None:
        """The device as far as the protocol knows it (None: not identified yet)."""
        return Device(self.driver, where=where)

    @property
    def nominal_rate_sps(self) -> float:
        """The rate the device runs at, as far as known (0: unknown)."""
        return 0.0

    @property
    def calibration(self) -> Calibration | None:
        """Counts to newtons for this device's samples (None: the device holds no record)."""
        return None

    def health(self) -> SourceHealth:
        """The protocol's own counts; the source fills in the link's (reconnects, ...)."""
        return SourceHealth(0, 0, 0, 0, 0, self.resyncs, 0, 0, 0, False, False)


class _SinkOnly:
    """A sink seen as a consumer: the source never closes its sink (the wiring does)."""

    __slots__ = ("on_batch", "on_event", "sink")

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.on_batch = sink.on_batch
        self.on_event = sink.on_event

    def close(self) -> None:
        """Not the source's to close."""


class SourceOutput:
    """What every reader-thread source shares: its one sink behind a FanOut (a sink that
    raises is reported, never fatal) and its stale-signal watchdog."""

    def __init__(self, sink: Sink | None, stale_s: float) -> None:
        self._out = FanOut()
        if sink is not None:
            self.sink = sink
        self._watch = StaleWatch(stale_s)

    @property
    def sink(self) -> Sink:
        """Where batches and events go; one that raises is reported, never fatal."""
        first = self._out.consumers[0] if self._out.consumers else None
        return first.sink if isinstance(first, _SinkOnly) else self._out

    @sink.setter
    def sink(self, sink: Sink) -> None:
        self._out.consumers = [_SinkOnly(sink)]

    @property
    def stale_s(self) -> float:
        """No sample for this long is a lost signal."""
        return self._watch.stale_s

    @stale_s.setter
    def stale_s(self, value: float) -> None:
        self._watch.stale_s = value

    @property
    def sink_errors(self) -> int:
        """Exceptions raised by the sink so far, each reported as ConsumerFailed."""
        return self._out.failures

    @property
    def last_t_s(self) -> float:
        """Device time of the last sample delivered (events are stamped with it)."""
        return self._watch.last_t_s


class PortSource(SourceOutput):
    """A `core.source.Source` on a pyserial URL: transport, protocol, watchdog and
    reconnector run by one reader thread."""

    protocol_class: type[DeviceProtocol] = DeviceProtocol

    def __init__(
        self,
        url: str,
        sink: Sink | None = None,
        baudrate: int | None = None,
        stale_s: float | None = None,
        reconnect: bool = True,
        lister: PortLister | None = None,
        protocol: DeviceProtocol | None = None,
        reconnector: Reconnector | None = None,
    ) -> None:
        self.protocol = protocol if protocol is not None else self.protocol_class()
        self.url = url
        self.port = url  # where the device is now (changes on reconnect)
        SourceOutput.__init__(self, sink,
                              stale_s if stale_s is not None else self.protocol.stale_s)
        self.baudrate = baudrate or self.protocol.default_baudrate
        self.reconnect = reconnect
        self.reconnector = reconnector if reconnector is not None else Reconnector(
            url, self.baudrate, lister, self.protocol.try_unknown_ports)
        self.batch_interval_s = BATCH_INTERVAL_S
        self._last_handoff = -1.0
        self.reconnects = 0
        self.transport = Transport()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.protocol.bind(self)

    # -- the interface (core.source.Source) ---------------------------------------------

    @property
    def driver(self) -> str:
        """The device protocol's name (`--driver`)."""
        return self.protocol.driver

    @property
    def lister(self) -> PortLister | None:
        """Where to look for a lost device (None: by USB identity)."""
        return self.reconnector.lister

    @property
    def resyncs(self) -> int:
        """Reads in which bytes had to be dropped to regain frame sync."""
        return self.protocol.resyncs

    @property
    def device(self) -> Device | None:
        """The device as its protocol knows it (None while not connected or not known)."""
        return self.protocol.device(self.port) if self.connected else None

    @property
    def nominal_rate_sps(self) -> float:
        """The rate the device runs at, as far as known (0: unknown)."""
        return self.protocol.nominal_rate_sps

    @property
    def calibration(self) -> Calibration | None:
        """Counts to newtons for this device's samples (None: the device holds no record)."""
        return self.protocol.calibration

    @property
    def stopping(self) -> threading.Event:
        """Set once `close()` was called: a device protocol's long waits poll it."""
        return self._stop

    @property
    def signal(self) -> bool:
        """Samples are arriving (no SignalLost outstanding)."""
        return not self._watch.lost

    @property
    def connected(self) -> bool:
        """True while the port is open (False between a disconnect and the reconnect)."""
        return self.transport.is_open

    def open(self) -> PortSource:
        """Open the port and start the reader; raises SourceOpenError with a one-line fix."""
        if self._thread is not None:
            return self
        ser = open_port(self.url, self.baudrate)
        self.reconnector.opened(self.url)
        try:
            self.transport.attach(ser)
            self.protocol.connection_made(ser, first=True)
        except BaseException:  # Ctrl-C during the greeting closes the port too
            self.transport.close()
            raise
        self._stop.clear()
        self._thread = threading.Thread(target=self._read_loop,
                                        name=f"tpforce-reader-{self.driver}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the reader (and a greeting in progress) and close the port; safe twice."""
        self._stop.set()
        self.protocol.close()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)
        self._thread = None
        self.transport.close()

    def __enter__(self) -> PortSource:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def health(self) -> SourceHealth:
        """The protocol's counts of frames, errors and losses with the link's own."""
        return dataclasses.replace(
            self.protocol.health(), resyncs=self.resyncs, reconnects=self.reconnects,
            sink_errors=self.sink_errors, connected=self.connected, signal=self.signal)

    # -- the link (what the protocol may call) -------------------------------------------

    def write(self, data: bytes) -> None:
        """Send bytes to the device; CommandError if the port is not open right now."""
        self.transport.write(data, self.port)

    def emit(self, event: Event) -> None:
        """Hand an event to the sink (a sink that raises is reported, never fatal)."""
        self._out.on_event(event)

    def deliver(self, batch: np.ndarray, now: float) -> None:
        """Hand a batch to the sink, raising SignalRestored first if the signal was lost."""
        restored = self._watch.batch(batch, now)
        if restored is not None:
            self._out.on_event(restored)
        if len(batch):
            self._out.on_batch(batch)

    # -- the reader thread ----------------------------------------------------------------

    def _read_loop(self) -> None:
        stop, transport, protocol = self._stop, self.transport, self.protocol
        frame_end = protocol.frame_end
        while not stop.is_set():
            if not transport.is_open:
                if not self.reconnect:
                    break
                try:
                    back = self._try_reconnect()
                except Exception as exc:  # a bug must not end the search for the device
                    self._report(exc)
                    back = False
                if not back:
                    stop.wait(self.reconnector.next_delay_s())
                continue
            try:
                data, now = transport.read(frame_end, self._last_handoff + self.batch_interval_s,
                                           stop)
            except (serial.SerialException, OSError, TypeError, AttributeError, ValueError) \
                    as exc:
                if stop.is_set():
                    break
                self._port_lost(exc)
                continue
            if frame_end in data:
                self._last_handoff = now
            try:
                if data:
                    protocol.data_received(data, now)
                protocol.tick(now)
            except Exception as exc:  # report a bug, keep acquiring
                self._report(exc)
            finally:
                lost = self._watch.check(now)  # whatever failed above, silence is said so
                if lost is not None:
                    self.emit(lost)

    def _report(self, exc: Exception) -> None:
        """A bug met on the reader thread: log it and say so, then carry on."""
        log.exception("reader error")
        self.emit(SourceError(self.last_t_s, f"{self.port}: {type(exc).__name__}: {exc}"))

    def _port_lost(self, exc: BaseException) -> None:
        """The port failed: close it, say so, and end any hold via SignalLost."""
        self.transport.close()
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "returned no data" in reason or "Input/output error" in reason:
            reason = "the device was disconnected"
        self.emit(SourceError(self.last_t_s, f"{self.port}: {reason}"))
        self.emit(Disconnected(self.last_t_s, self.port, reason))
        lost = self._watch.force_lost()
        if lost is not None:
            self.emit(lost)
        self.reconnector.lost(time.monotonic())

    def _try_reconnect(self) -> bool:
        """One pass of the reconnector; True once the device is back and greeted."""
        found = self.reconnector.find(self.protocol.identify, self._stop.is_set)
        if found is None:
            return False
        ser, port, pending = found
        now = time.monotonic()
        self.transport.attach(ser)
        self.port = port
        self.reconnects += 1
        self.protocol.link_restarted()
        self.emit(Reconnected(self.last_t_s, port, self.reconnector.gap_s(now)))
        try:
            self.protocol.connection_made(ser, first=False)
        except (serial.SerialException, OSError, CommandError) as exc:
            self._port_lost(exc)
            return False
        if pending:
            self.protocol.data_received(pending, now)
        return True


__all__ = ["STALE_S", "CommandError", "DeviceProtocol", "Link", "PortLister", "PortSource",
           "SourceOpenError"]
