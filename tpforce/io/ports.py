"""Port discovery: list serial ports with USB identity, find the probe, pick reconnect candidates.

Built on `serial.tools.list_ports`, which carries VID, PID and serial number. A port "is a
probe" when it answers HELLO with an INFO frame; that is the only test that cannot be fooled
by a clone USB chip without a serial number.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import serial
from serial.tools import list_ports

from tpforce.core.protocol import Info
from tpforce.core.source import SourceOpenError
from tpforce.io import handshake
from tpforce.io.transport import open_port, usb_identity

PROBE_TIMEOUT_S = handshake.HELLO_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class PortInfo:
    """One serial port as the OS describes it, and the probe's INFO if it answered HELLO."""

    device: str
    vid: int | None = None
    pid: int | None = None
    serial_number: str | None = None
    description: str = ""
    probe: Info | None = None

    @property
    def usb_id(self) -> str:
        """VID:PID in hex, or '-' for ports that are not USB."""
        return f"{self.vid:04X}:{self.pid:04X}" if self.vid is not None else "-"


def port_exists(device: str) -> bool:
    """Whether `device` is there to open: its node exists and, on Linux, a UART is behind it
    (the kernel keeps ttyS nodes of type 0, "unknown", for serial ports a PC does not have)."""
    if not os.path.exists(device):
        return False
    kind = Path("/sys/class/tty") / os.path.basename(os.path.realpath(device)) / "type"
    try:
        return kind.read_text().strip() != "0"
    except OSError:  # not a Linux tty with a type (USB CDC, other systems): it is there
        return True


def list_serial_ports() -> list[PortInfo]:
    """Every serial port the OS knows and that is there to open, USB ones first."""
    ports = [
        PortInfo(p.device, p.vid, p.pid, p.serial_number,
                 p.description if p.description and p.description != "n/a" else "")
        for p in list_ports.comports() if port_exists(p.device)
    ]
    return sorted(ports, key=lambda p: (p.vid is None, p.device))


def usb_serial_of(device: str) -> str | None:
    """The USB serial number of `device`, if it is a USB port that has one."""
    return usb_identity(device)[0]


def ask_hello(url: str, baudrate: int = 115200, timeout_s: float = PROBE_TIMEOUT_S) -> Info:
    """Open `url` and greet it (HELLO until INFO); SourceOpenError or TimeoutError."""
    with open_port(url, baudrate, timeout=0.05) as ser:
        try:
            return handshake.hello(ser, timeout_s)[0]
        except handshake.HandshakeError:
            raise TimeoutError(f"{url}: no answer to HELLO in {timeout_s:g} s") from None


def probe_ports(ports: list[PortInfo], timeout_s: float = PROBE_TIMEOUT_S,
                baudrate: int = 115200) -> list[PortInfo]:
    """The same ports, each with `probe` set if it answered HELLO (all asked in parallel)."""
    results: list[PortInfo] = list(ports)

    def ask(i: int) -> None:
        try:
            info = ask_hello(ports[i].device, baudrate, timeout_s)
        except (SourceOpenError, TimeoutError, serial.SerialException, OSError):
            return
        p = ports[i]
        results[i] = PortInfo(p.device, p.vid, p.pid, p.serial_number, p.description, info)

    threads = [threading.Thread(target=ask, args=(i,), daemon=True) for i in range(len(ports))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s + 2.0)
    return results


def find_probe(ports: list[PortInfo] | None = None, timeout_s: float = PROBE_TIMEOUT_S) -> str:
    """The one port with a tpforce probe on it; SourceOpenError with the fix otherwise."""
    candidates = ports if ports is not None else [p for p in list_serial_ports()
                                                  if p.vid is not None]
    if not candidates:
        raise SourceOpenError("no USB serial port found; plug the probe in (and check the "
                              "cable carries data), or name a port with --port")
    found = [p for p in probe_ports(candidates, timeout_s) if p.probe is not None]
    if not found:
        names = ", ".join(p.device for p in candidates)
        raise SourceOpenError(f"no tpforce probe answered on {names}; check the firmware is "
                              "flashed, or use --driver for another gauge")
    if len(found) > 1:
        names = ", ".join(f"{p.device} ({p.probe.serial if p.probe else '?'})" for p in found)
        raise SourceOpenError(f"several probes found: {names}; choose one with --port")
    return found[0].device


def reconnect_candidates(url: str, usb_serial: str | None, try_others: bool,
                         usb_id: tuple[int | None, int | None] = (None, None)) -> list[str]:
    """Ports to look for a lost device on: its USB serial number, its old name, then (for
    chips without a serial number) other ports with the same VID:PID, never unrelated ones."""
    if "://" in url:
        return [url]
    ports = list_serial_ports()
    first = [p.device for p in ports if usb_serial and p.serial_number == usb_serial]
    out = [*first, url]
    if try_others and not usb_serial and usb_id[0] is not None:
        out += [p.device for p in ports if (p.vid, p.pid) == usb_id]
    return list(dict.fromkeys(out))  # in order, each once
