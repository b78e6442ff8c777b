"""The transport: open a pyserial URL with a one-line error, write, and who a USB port is.

Everything here is about bytes and ports, nothing about what the device says on them.
"""

from __future__ import annotations

import errno
import os
import sys

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
