"""A source on a serial port: the reader thread and reconnect, for any device protocol.

`PortSource` satisfies `tpforce.core.source.Source`. It opens a pyserial URL (a real port,
`loop://`, `socket://`, `rfc2217://`) through `tpforce.io.transport`, reads it on its own
thread, and looks for the device again when the port vanishes (`tpforce.io.ports` picks
the candidates). What the bytes mean is the device protocol's business: a subclass says
how to turn bytes into samples (`_on_bytes`), what to do while idle (`_on_tick`), how to
greet the device on a fresh port (`_on_connect`) and recognise it (`_identify`). The
stale-signal watchdog is `core.source.StaleWatch`; failure isolation is `core.consumer.FanOut`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

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
from tpforce.io.ports import reconnect_candidates
from tpforce.io.transport import CommandError, open_port, usb_identity

log = logging.getLogger(__name__)

RECONNECT_BACKOFF_S = (0.05, 0.1, 0.2, 0.25)
BATCH_INTERVAL_S = 0.003  # the shortest time between hand-offs; only fast streams feel it

PortLister = Callable[[], list[str]]
"""Returns candidate ports (paths or URLs) to look for a lost device on, best first."""


class _SinkOnly:
    """A sink seen as a consumer: the source never closes its sink (the wiring does)."""

    __slots__ = ("on_batch", "on_event", "sink")

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.on_batch = sink.on_batch
        self.on_event = sink.on_event

    def close(self) -> None:
        """Not the source's to close."""


class PortSource:
    """A `core.source.Source` on a pyserial URL, pumped from a reader thread."""

    default_baudrate = 115200
    driver = "base"
    frame_end = b"\n"  # the byte that ends a frame (a line) on this kind of device

    def __init__(
        self,
        url: str,
        sink: Sink | None = None,
        baudrate: int | None = None,
        stale_s: float = STALE_S,
        reconnect: bool = True,
        lister: PortLister | None = None,
    ) -> None:
        self.url = url
        self.port = url  # where the device is now (changes on reconnect)
        self._out = FanOut()
        if sink is not None:
            self.sink = sink
        self._watch = StaleWatch(stale_s)
        self.baudrate = baudrate or self.default_baudrate
        self.reconnect = reconnect
        self.lister = lister
        self.batch_interval_s = BATCH_INTERVAL_S
        self._last_handoff = -1.0
        self.reconnects = 0
        self.resyncs = 0
        self._usb_serial: str | None = None
        self._usb_id: tuple[int | None, int | None] = (None, None)
        self._serial: serial.SerialBase | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._lost_since: float | None = None
        self._backoff = 0

    # -- lifecycle ------------------------------------------------------------------------

    # -- the interface (core.source.Source) ---------------------------------------------

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
    def device(self) -> Device | None:
        """The device as far as the port tells (drivers that know more say more)."""
        return Device(self.driver, where=self.port) if self.connected else None

    @property
    def nominal_rate_sps(self) -> float:
        """The rate the device runs at, as far as known (0: unknown)."""
        return 0.0

    @property
    def calibration(self) -> Calibration | None:
        """Counts to newtons for this device's samples (None: the device holds no record)."""
        return None

    @property
    def last_t_s(self) -> float:
        """Device time of the last sample delivered (events are stamped with it)."""
        return self._watch.last_t_s

    @property
    def stopping(self) -> threading.Event:
        """Set once `close()` was called: a device protocol's long waits poll it."""
        return self._stop

    @property
    def signal(self) -> bool:
        """Samples are arriving (no SignalLost outstanding)."""
        return not self._watch.lost

    def open(self) -> PortSource:
        """Open the port and start the reader; raises SourceOpenError with a one-line fix."""
        if self._thread is not None:
            return self
        ser = open_port(self.url, self.baudrate)
        serial_no, vid, pid = usb_identity(self.url)
        self._usb_serial, self._usb_id = serial_no, (vid, pid)
        try:
            self._serial = ser
            self._on_connect(ser)
        except BaseException:  # Ctrl-C during the greeting closes the port too
            ser.close()
            self._serial = None
            raise
        self._stop.clear()
        self._thread = threading.Thread(target=self._read_loop,
                                        name=f"tpforce-reader-{self.driver}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the reader and close the port; safe to call twice."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)
        self._thread = None
        self._close_port()

    def __enter__(self) -> PortSource:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        """True while the port is open (False between a disconnect and the reconnect)."""
        return self._serial is not None

    def health(self) -> SourceHealth:
        """Counts of good and bad frames, losses, resyncs, reconnects and sink errors."""
        return SourceHealth(0, 0, 0, 0, 0, self.resyncs, self.reconnects, 0, self.sink_errors,
                            self.connected, self.signal)

    def write(self, data: bytes) -> None:
        """Send bytes to the device; CommandError if the port is not open right now."""
        with self._write_lock:
            ser = self._serial
            if ser is None:
                raise CommandError("the port is not open")
            try:
                ser.write(data)
            except (serial.SerialException, OSError) as exc:
                raise CommandError(f"{self.port}: write failed ({exc})") from None

    # -- for subclasses -------------------------------------------------------------------

    def _on_connect(self, ser: serial.SerialBase) -> None:
        """The port is open (first time or after a reconnect): arm the device if it needs it."""

    def _on_bytes(self, data: bytes, now: float) -> None:
        """Decode `data`, deliver samples with `_deliver` and events with `_emit`."""
        raise NotImplementedError

    def _on_tick(self, now: float) -> None:
        """Called after every read, data or not: poll, re-arm, time out."""

    def _identify(self, ser: serial.SerialBase) -> tuple[bool, bytes]:
        """Is the device on `ser` ours? Returns the verdict and any bytes read meanwhile."""
        return True, b""

    def _candidates(self) -> list[str]:
        """Where to look for the device after it vanished."""
        if self.lister is not None:
            return list(self.lister())
        return reconnect_candidates(self.url, self._usb_serial, self._probe_unknown_ports(),
                                    self._usb_id)

    def _probe_unknown_ports(self) -> bool:
        """Whether other ports of the same VID:PID may be tried (the probe answers HELLO)."""
        return False

    # -- delivery (the FanOut isolates a sink that raises) ------------------------------

    def _emit(self, event: Event) -> None:
        self._out.on_event(event)

    def _deliver(self, batch: np.ndarray, now: float) -> None:
        """Hand a batch to the sink, raising SignalRestored first if the signal was lost."""
        restored = self._watch.batch(batch, now)
        if restored is not None:
            self._emit(restored)
        if len(batch):
            self._out.on_batch(batch)

    # -- the reader thread ----------------------------------------------------------------

    def _read_loop(self) -> None:
        while not self._stop.is_set():
            ser = self._serial
            if ser is None:
                if not self.reconnect:
                    break
                try:
                    back = self._try_reconnect()
                except Exception as exc:  # a bug must not end the search for the device
                    self._report(exc)
                    back = False
                if not back:
                    delay = RECONNECT_BACKOFF_S[min(self._backoff, len(RECONNECT_BACKOFF_S) - 1)]
                    self._backoff += 1
                    self._stop.wait(delay)
                continue
            try:
                data = ser.read(ser.in_waiting or 1)
                if data and ser.in_waiting:  # read(1) woke on the first byte: take the rest
                    data += ser.read(ser.in_waiting)
                now = time.monotonic()
                hold_s = self._last_handoff + self.batch_interval_s - now
                if hold_s > 0 and self.frame_end in data:
                    # Bytes came sooner than one batch interval after the last hand-off: take
                    # what else arrives in the rest of it, so a fast stream is handed on in
                    # batches of several samples instead of paying per-batch costs per frame.
                    self._stop.wait(hold_s)
                    if ser.in_waiting:
                        data += ser.read(ser.in_waiting)
                    now = time.monotonic()
            except (serial.SerialException, OSError, TypeError, AttributeError, ValueError) \
                    as exc:
                if self._stop.is_set():
                    break
                self._port_lost(exc)
                continue
            if self.frame_end in data:
                self._last_handoff = now
            try:
                if data:
                    self._on_bytes(data, now)
                self._on_tick(now)
            except Exception as exc:  # report a bug, keep acquiring
                self._report(exc)
            finally:
                self._check_stale(now)  # whatever failed above, a silent stream is said so

    def _report(self, exc: Exception) -> None:
        """A bug met on the reader thread: log it and say so, then carry on."""
        log.exception("reader error")
        self._emit(SourceError(self.last_t_s, f"{self.port}: {type(exc).__name__}: {exc}"))

    def _port_lost(self, exc: BaseException) -> None:
        """The port failed: close it, say so, and end any hold via SignalLost."""
        self._close_port()
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "returned no data" in reason or "Input/output error" in reason:
            reason = "the device was disconnected"
        self._emit(SourceError(self.last_t_s, f"{self.port}: {reason}"))
        self._emit(Disconnected(self.last_t_s, self.port, reason))
        self._signal_lost()
        self._lost_since = time.monotonic()
        self._backoff = 0

    def _try_reconnect(self) -> bool:
        """One pass over the candidate ports; True once the device is back."""
        try:
            candidates = self._candidates()
        except Exception:
            log.exception("port lister failed")
            return False
        for port in candidates:
            if self._stop.is_set():
                return False
            try:
                ser = open_port(port, self.baudrate)
            except SourceOpenError:
                continue
            try:
                ours, pending = self._identify(ser)
            except (serial.SerialException, OSError, ValueError, TypeError):
                ours, pending = False, b""
            if not ours:
                ser.close()
                continue
            now = time.monotonic()
            with self._write_lock:
                self._serial = ser
            self.port = port
            self.reconnects += 1
            self._link_restarted()
            gap = now - (self._lost_since or now)
            self._emit(Reconnected(self.last_t_s, port, gap))
            try:
                self._on_connect(ser)
            except (serial.SerialException, OSError, CommandError) as exc:
                self._port_lost(exc)
                return False
            if pending:
                self._on_bytes(pending, now)
            return True
        return False

    def _link_restarted(self) -> None:
        """A new connection: arrival times from before are no guide to those after."""

    def _close_port(self) -> None:
        with self._write_lock:
            ser, self._serial = self._serial, None
        if ser is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                ser.close()

    def _check_stale(self, now: float) -> None:
        lost = self._watch.check(now)
        if lost is not None:
            self._emit(lost)

    def _signal_lost(self) -> None:
        lost = self._watch.force_lost()
        if lost is not None:
            self._emit(lost)


__all__ = ["STALE_S", "CommandError", "PortLister", "PortSource", "SourceOpenError"]
