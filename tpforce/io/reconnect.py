"""Reconnect: where to look for a device that vanished, how often, and whether it is ours.

A `Reconnector` knows the port the device was opened on and its USB identity; after a loss
it walks the candidate ports (`tpforce.io.ports.reconnect_candidates`, or a given lister),
opens each and asks the device protocol whether the device there is the one that was lost.
It knows nothing of threads or samples: the reader asks it for one pass and for the wait
before the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import serial

from tpforce.core.source import SourceOpenError
from tpforce.io.ports import reconnect_candidates
from tpforce.io.transport import open_port, usb_identity

log = logging.getLogger(__name__)

RECONNECT_BACKOFF_S = (0.05, 0.1, 0.2, 0.25)
"""Waits between passes over the candidate ports: quick at first, then every 0.25 s."""

PortLister = Callable[[], list[str]]
"""Returns candidate ports (paths or URLs) to look for a lost device on, best first."""

Identify = Callable[[serial.SerialBase], tuple[bool, bytes]]
"""Is the device on this open port ours? The verdict and any bytes read meanwhile."""


class Reconnector:
    """Finds a lost device again: candidate ports, back-off, and the protocol's verdict."""

    def __init__(self, url: str, baudrate: int, lister: PortLister | None = None,
                 try_unknown_ports: bool = False) -> None:
        self.url = url
        self.baudrate = baudrate
        self.lister = lister
        self.try_unknown_ports = try_unknown_ports  # other ports of the same VID:PID
        self.usb_serial: str | None = None
        self.usb_id: tuple[int | None, int | None] = (None, None)
        self.lost_since: float | None = None
        self._backoff = 0

    def opened(self, url: str) -> None:
        """The device is on `url`: note its USB identity, to find it again by that."""
        serial_no, vid, pid = usb_identity(url)
        self.usb_serial, self.usb_id = serial_no, (vid, pid)

    def lost(self, now: float) -> None:
        """The port failed at host time `now`: start a fresh, quick search."""
        self.lost_since = now
        self._backoff = 0

    def gap_s(self, now: float) -> float:
        """How long the device has been away at host time `now`."""
        return now - (self.lost_since if self.lost_since is not None else now)

    def next_delay_s(self) -> float:
        """The wait before the next pass after one that found nothing (grows, then stays)."""
        delay = RECONNECT_BACKOFF_S[min(self._backoff, len(RECONNECT_BACKOFF_S) - 1)]
        self._backoff += 1
        return delay

    def candidates(self) -> list[str]:
        """Where to look for the device, best first."""
        if self.lister is not None:
            return list(self.lister())
        return reconnect_candidates(self.url, self.usb_serial, self.try_unknown_ports,
                                    self.usb_id)

    def find(self, identify: Identify,
             stopped: Callable[[], bool] = lambda: False
             ) -> tuple[serial.SerialBase, str, bytes] | None:
        """One pass over the candidates: (open port, where, bytes read meanwhile) for the
        first one `identify` accepts, else None. A lister that raises is logged, not fatal."""
        try:
            ports = self.candidates()
        except Exception:
            log.exception("port lister failed")
            return None
        for port in ports:
            if stopped():
                return None
            try:
                ser = open_port(port, self.baudrate)
            except SourceOpenError:
                continue
            try:
                ours, pending = identify(ser)
            except (serial.SerialException, OSError, ValueError, TypeError):
                ours, pending = False, b""
            if ours:
                return ser, port, pending
            ser.close()
        return None


__all__ = ["RECONNECT_BACKOFF_S", "Identify", "PortLister", "Reconnector"]

