"""The transport: open a pyserial URL with a one-line error, read, write, who a USB port is.

Everything here is about bytes and ports, nothing about what the device says on them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import threading
import time

import serial
from serial.tools import list_ports

from tpforce.core.source import SourceOpenError

READ_TIMEOUT_S = 0.02


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


class Transport:
    """The open port of a source, or none: reads for the reader thread, writes from any
    thread (serialised), and close from either."""

    def __init__(self) -> None:
        self._serial: serial.SerialBase | None = None
        self._write_lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        """A port is attached (False between a loss and the reconnect)."""
        return self._serial is not None

    def attach(self, ser: serial.SerialBase) -> None:
        """Use `ser` from now on."""
        with self._write_lock:
            self._serial = ser

    def read(self, frame_end: bytes, hold_until: float,
             stop: threading.Event) -> tuple[bytes, float]:
        """What the port has (waiting up to its read timeout for a first byte) and the host
        time it was read. If a frame ended before `hold_until`, also what comes until then,
        so a fast stream is handed on in batches of several frames instead of paying the
        per-batch costs per frame. SerialException / OSError when the port failed."""
        ser = self._serial
        if ser is None:
            raise serial.SerialException("the port is not open")
        data = ser.read(ser.in_waiting or 1)
        if data and ser.in_waiting:  # read(1) woke on the first byte: take the rest
            data += ser.read(ser.in_waiting)
        now = time.monotonic()
        hold_s = hold_until - now
        if hold_s > 0 and frame_end in data:
            stop.wait(hold_s)
            if ser.in_waiting:
                data += ser.read(ser.in_waiting)
            now = time.monotonic()
        return data, now

    def write(self, data: bytes, where: str = "") -> None:
        """Send bytes; CommandError if no port is open or the write failed."""
        with self._write_lock:
            ser = self._serial
            if ser is None:
                raise CommandError("the port is not open")
            try:
                ser.write(data)
            except (serial.SerialException, OSError) as exc:
                raise CommandError(f"{where or ser.port}: write failed ({exc})") from None

    def close(self) -> None:
        """Close the port, if open; safe to call twice and from any thread."""
        with self._write_lock:
            ser, self._serial = self._serial, None
        if ser is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                ser.close()


def usb_identity(device: str) -> tuple[str | None, int | None, int | None]:
    """(serial number, VID, PID) of the USB port at `device` (symlinks resolved), or Nones."""
    if "://" in device:
        return None, None, None
    try:
        real = os.path.realpath(device)
        for p in list_ports.comports():
            if p.device in (device, real):
                return (str(p.serial_number) if p.serial_number else None), p.vid, p.pid
    except Exception:  # discovery is a nicety, never a reason to fail
        pass
    return None, None, None
