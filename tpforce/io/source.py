"""The one source interface: a port opened by URL, a reader thread, health counters, reconnect.

Every device (the tpforce probe, ASCII force gauges) is a `Source` subclass that only says
how to turn bytes into samples (`_on_bytes`), what to do while idle (`_on_tick`: polling,
re-arming) and how to recognise its device on a port (`_identify`). The base opens any
pyserial URL (`serial_for_url`: a real port, `loop://`, `socket://`, `rfc2217://`), hands
batches and events to one sink, survives a sink that raises, watches for a stale signal and
reconnects when the port vanishes and comes back, possibly under another name.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import serial

from tpforce.core.consumer import Consumer, FanOut
from tpforce.core.events import (
    ConsumerFailed,
    Disconnected,
    Event,
    Reconnected,
    SignalLost,
    SignalRestored,
    SourceError,
)

log = logging.getLogger(__name__)

STALE_S = 0.25
READ_TIMEOUT_S = 0.02
RECONNECT_BACKOFF_S = (0.05, 0.1, 0.2, 0.25)
BATCH_INTERVAL_S = 0.003  # the shortest time between hand-offs; only fast streams feel it

PortLister = Callable[[], list[str]]
"""Returns candidate ports (paths or URLs) to look for a lost device on, best first."""


class SourceOpenError(Exception):
    """The port could not be opened; the message is one line that says what to do."""


class CommandError(Exception):
    """A command was refused (NACK) or not answered in time."""


def open_error_message(url: str, exc: BaseException) -> str:
    """One line for a failed open: what went wrong and the fix."""
    text = str(exc)
    err = getattr(exc, "errno", None)
    if isinstance(exc, PermissionError) or err in (errno.EACCES, errno.EPERM) or \
            "Permission denied" in text:
        fix = ("add yourself to the 'dialout' group (sudo usermod -aG dialout $USER, then log "
               "in again) or install the udev rule: see 'Devices and ports' in README.md"
               if sys.platform.startswith("linux") else "check that you may use this port")
        return f"{url}: permission denied; {fix}"
    busy_words = ("busy", "access is denied", "exclusively lock")
    if err in (errno.EBUSY, errno.EAGAIN) or any(w in text.lower() for w in busy_words):
        return f"{url}: the port is busy; close the other program that has it open"
    if err == errno.ENOENT or "No such file" in text or "FileNotFoundError" in text:
        return f"{url}: no such port; run 'tpforce ports' to list the ports on this machine"
    return f"{url}: could not open the port ({text.splitlines()[0] if text else exc!r}); " \
        "run 'tpforce ports' to list ports"


def open_port(url: str, baudrate: int, timeout: float = READ_TIMEOUT_S) -> serial.SerialBase:
    """Open `url` with pyserial (exclusive where the OS allows); SourceOpenError on failure."""
    kwargs: dict[str, object] = {"baudrate": baudrate, "timeout": timeout}
    if "://" not in url and sys.platform.startswith("linux"):
        kwargs["exclusive"] = True
    try:
        return serial.serial_for_url(url, **kwargs)
    except (serial.SerialException, OSError, ValueError) as exc:
        cause = exc.__cause__ or exc.__context__
        raise SourceOpenError(open_error_message(url, cause if isinstance(cause, OSError)
                                                 else exc)) from None


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


class Source:
    """Base of every source: opens a pyserial URL and pumps it from a reader thread."""

    default_baudrate = 115200
    driver = "base"
    frame_end = b"\n"  # the byte that ends a frame (a line) on this kind of device

    def __init__(
        self,
        url: str,
        sink: Consumer | None = None,
        baudrate: int | None = None,
        stale_s: float = STALE_S,
        reconnect: bool = True,
        lister: PortLister | None = None,
    ) -> None:
        self.url = url
        self.port = url  # where the device is now (changes on reconnect)
        self.sink: Consumer = sink or FanOut()
        self.baudrate = baudrate or self.default_baudrate
        self.stale_s = stale_s
        self.reconnect = reconnect
        self.lister = lister
        self.batch_interval_s = BATCH_INTERVAL_S
        self._last_handoff = -1.0
        self.reconnects = 0
        self.sink_errors = 0
        self.resyncs = 0
        self._usb_serial: str | None = None
        self._usb_id: tuple[int | None, int | None] = (None, None)
        self._serial: serial.SerialBase | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._last_sample_host: float | None = None
        self._last_sample_t = 0.0
        self._lost = False
        self._lost_since: float | None = None
        self._backoff = 0

    # -- lifecycle ------------------------------------------------------------------------

    def open(self) -> Source:
        """Open the port and start the reader; raises SourceOpenError with a one-line fix."""
        if self._thread is not None:
            return self
        ser = open_port(self.url, self.baudrate)
        serial_no, vid, pid = _usb_identity(self.url)
        self._usb_serial, self._usb_id = serial_no, (vid, pid)
        try:
            self._serial = ser
            self._on_connect(ser)
        except Exception:
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

    def __enter__(self) -> Source:
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
                            self.connected, not self._lost)

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
        from tpforce.io.ports import reconnect_candidates

        return reconnect_candidates(self.url, self._usb_serial, self._probe_unknown_ports(),
                                    self._usb_id)

    def _probe_unknown_ports(self) -> bool:
        """Whether other ports of the same VID:PID may be tried (the probe answers HELLO)."""
        return False

    # -- delivery that a raising sink cannot break --------------------------------------

    def _emit(self, event: Event) -> None:
        try:
            self.sink.on_event(event)
        except Exception as exc:  # the reader must outlive any sink
            self._sink_failed(exc, event.t_s, event)

    def _deliver(self, batch: np.ndarray, now: float) -> None:
        """Hand a batch to the sink, raising SignalRestored first if the signal was lost."""
        if len(batch) == 0:
            return
        if self._lost:
            self._lost = False
            gap = float(batch["t_s"][0]) - self._last_sample_t
            self._emit(SignalRestored(float(batch["t_s"][0]), max(gap, 0.0)))
        self._last_sample_host = now
        self._last_sample_t = float(batch["t_s"][-1])
        try:
            self.sink.on_batch(batch)
        except Exception as exc:
            self._sink_failed(exc, self._last_sample_t, None)

    def _sink_failed(self, exc: Exception, t_s: float, event: Event | None) -> None:
        self.sink_errors += 1
        name = type(self.sink).__name__
        log.error("sink %s raised %s: %s", name, type(exc).__name__, exc)
        if not isinstance(event, ConsumerFailed):
            try:
                self.sink.on_event(ConsumerFailed(t_s, name, f"{type(exc).__name__}: {exc}"))
            except Exception:
                log.debug("sink also failed to take the failure report", exc_info=True)

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
        self._emit(SourceError(self._last_sample_t, f"{self.port}: {type(exc).__name__}: {exc}"))

    def _port_lost(self, exc: BaseException) -> None:
        """The port failed: close it, say so, and end any hold via SignalLost."""
        self._close_port()
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "returned no data" in reason or "Input/output error" in reason:
            reason = "the device was disconnected"
        self._emit(SourceError(self._last_sample_t, f"{self.port}: {reason}"))
        self._emit(Disconnected(self._last_sample_t, self.port, reason))
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
            self._emit(Reconnected(self._last_sample_t, port, gap))
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
        last = self._last_sample_host
        if last is not None and not self._lost and now - last > self.stale_s:
            self._signal_lost()

    def _signal_lost(self) -> None:
        if not self._lost:
            self._lost = True
            self._emit(SignalLost(self._last_sample_t))


def _usb_identity(url: str) -> tuple[str | None, int | None, int | None]:
    """(serial number, VID, PID) of the USB port at `url`, as far as the OS says."""
    if "://" in url:
        return None, None, None
    try:
        from tpforce.io.ports import usb_identity

        return usb_identity(url)
    except Exception:  # discovery is a nicety, never a reason to fail
        return None, None, None
