"""A tpforce probe on any pyserial URL: a reader thread decodes frames into sample batches.

Real ports, `loop://`, `socket://` and `rfc2217://` all open through `serial_for_url`.
Batches and events go to one consumer (normally a `Processor`); its failures never stop
the reader.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import logging
import queue
import sys
import threading
import time

import serial

from tpforce.core.consumer import Consumer, FanOut
from tpforce.core.events import (
    DeviceInfo,
    DeviceLog,
    DeviceReset,
    Event,
    SignalLost,
    SignalRestored,
    SourceError,
)
from tpforce.core.protocol import (
    Ack,
    CalRecord,
    Decoder,
    FrameType,
    Info,
    Log,
    Status,
    encode_command,
)
from tpforce.core.stream import StreamAssembler

log = logging.getLogger(__name__)

STALE_S = 0.25


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
        fix = (
            "add yourself to the 'dialout' group (sudo usermod -aG dialout $USER, then log in "
            "again)" if sys.platform.startswith("linux") else "check that you may use this port"
        )
        return f"{url}: permission denied; {fix}"
    if err == errno.EBUSY or "busy" in text.lower() or "Access is denied" in text:
        return f"{url}: the port is busy; close the other program that has it open"
    if err == errno.ENOENT or "No such file" in text or "FileNotFoundError" in text:
        return f"{url}: no such port; run 'tpforce ports' to list the ports on this machine"
    return f"{url}: could not open the port ({text}); run 'tpforce ports' to list ports"


class SerialSource:
    """Opens a probe, streams its samples to `sink` from a reader thread, sends commands."""

    def __init__(
        self,
        url: str,
        sink: Consumer | None = None,
        baudrate: int = 115200,
        stale_s: float = STALE_S,
    ) -> None:
        self.url = url
        self.sink: Consumer = sink or FanOut()
        self.baudrate = baudrate
        self.stale_s = stale_s
        self.decoder = Decoder()
        self.assembler = StreamAssembler()
        self.info: Info | None = None
        self.calibration: CalRecord | None = None
        self._serial: serial.SerialBase | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._tokens = itertools.count(1)
        self._replies: queue.Queue[Ack | CalRecord | Info] = queue.Queue()
        self._hellos_pending = 0
        self._last_sample_host: float | None = None
        self._last_sample_t: float = 0.0
        self._lost = False

    # -- lifecycle ------------------------------------------------------------------------

    def open(self) -> SerialSource:
        """Open the port and start the reader; raises SourceOpenError with a one-line fix."""
        try:
            self._serial = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0.02)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise SourceOpenError(open_error_message(self.url, exc)) from None
        self._stop.clear()
        self._thread = threading.Thread(target=self._read_loop, name="tpforce-reader",
                                        daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the reader and close the port; safe to call twice."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self._thread = None
        if self._serial is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                self._serial.close()
            self._serial = None

    def __enter__(self) -> SerialSource:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- commands -------------------------------------------------------------------------

    def command(self, ftype: FrameType, args: bytes = b"", timeout: float = 1.0) -> Ack:
        """Send a command and wait for its ACK; raises CommandError on NACK or time-out."""
        if self._serial is None:
            raise CommandError("the port is not open")
        token = next(self._tokens) & 0xFF
        if ftype == FrameType.HELLO:
            self._hellos_pending += 1
        with self._write_lock:
            self._serial.write(encode_command(ftype, token, args))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CommandError(f"{ftype.name}: no answer from the device in {timeout:g} s")
            try:
                reply = self._replies.get(timeout=left)
            except queue.Empty:
                continue
            if isinstance(reply, Ack) and reply.token == token and reply.command == ftype:
                if reply.status != Status.OK:
                    raise CommandError(f"{ftype.name} refused: {reply.status.name}")
                return reply

    def hello(self, timeout: float = 1.0) -> Info:
        """Ask the device who it is."""
        self.command(FrameType.HELLO, timeout=timeout)
        if self.info is None:
            raise CommandError("HELLO acknowledged without INFO")
        return self.info

    # -- the reader thread ----------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        self.sink.on_event(event)

    def _read_loop(self) -> None:
        ser = self._serial
        assert ser is not None
        while not self._stop.is_set():
            try:
                data = ser.read(ser.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                if self._stop.is_set():
                    break
                self._emit(SourceError(self._last_sample_t, f"{self.url}: {exc}"))
                self._signal_lost()
                break
            now = time.monotonic()
            if data:
                self._handle(data, now)
            self._check_stale(now)

    def _handle(self, data: bytes, now: float) -> None:
        decoded = self.decoder.feed(data)
        for msg in decoded.messages:
            if isinstance(msg, Info):
                if self._hellos_pending > 0:
                    self._hellos_pending -= 1
                elif self.info is not None or self.assembler.stats.samples:
                    self.assembler.device_reset()
                    self._emit(DeviceReset(self._last_sample_t))
                self.info = msg
                self._emit(DeviceInfo(self._last_sample_t, msg.protocol, msg.firmware, msg.board,
                                      msg.adc, msg.rate_sps, msg.gain, msg.streaming, msg.serial,
                                      msg.caps))
                self._replies.put(msg)
            elif isinstance(msg, Ack):
                self._replies.put(msg)
            elif isinstance(msg, CalRecord):
                self.calibration = msg
                self._replies.put(msg)
            elif isinstance(msg, Log):
                self._emit(DeviceLog(self._last_sample_t, msg.level, msg.text))
        if len(decoded.samples):
            batch, events = self.assembler.assemble(decoded.samples, now)
            if self._lost:
                self._lost = False
                gap = float(batch["t_s"][0]) - self._last_sample_t
                self._emit(SignalRestored(float(batch["t_s"][0]), gap))
            for event in events:
                self._emit(event)
            self.sink.on_batch(batch)
            self._last_sample_host = now
            self._last_sample_t = float(batch["t_s"][-1])

    def _check_stale(self, now: float) -> None:
        last = self._last_sample_host
        if last is not None and not self._lost and now - last > self.stale_s:
            self._signal_lost()

    def _signal_lost(self) -> None:
        if not self._lost:
            self._lost = True
            self._emit(SignalLost(self._last_sample_t))
