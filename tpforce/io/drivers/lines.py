"""ASCII force gauges: one reading per text line, polled or streamed, converted to newtons.

`LineProtocol` is the generic device protocol (a hobby sketch printing "Force: 12.3 N");
the gauge protocols in `tpforce.io.drivers.gauges` only change the poll command, how the
stream is armed and how a line is read. `LineSource` puts a line protocol on a port.
Samples carry `force_n` exactly as parsed and `raw` as the
same force in micronewtons (int32, so +-2147 N; beyond that the sample is flagged
SATURATED), so the core's `Calibration(0, 1e-6)` (`DRIVER_CALIBRATION`) maps raw back to
newtons and a tare still works. These devices send no sequence numbers or clock: `seq`
counts lines and `t_s` is host time since open.
"""

from __future__ import annotations

import re
import time

import numpy as np
import serial

from tpforce.core.calibration import Calibration
from tpforce.core.events import DeviceLog
from tpforce.core.samples import SampleFlag, empty_batch
from tpforce.core.source import Device, Sink, SourceHealth
from tpforce.core.units import unit_factor
from tpforce.io.reconnect import PortLister
from tpforce.io.source import CommandError, DeviceProtocol, PortSource

UN_PER_N = 1_000_000
I32_MAX = (1 << 31) - 1
DRIVER_CALIBRATION = Calibration(zero_counts=0.0, n_per_count=1.0 / UN_PER_N)
"""The calibration for every line driver: `raw` holds micronewtons."""

NUMBER = r"[-+]?\s*(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?"
DEFAULT_PATTERN = rf"(?P<value>{NUMBER})\s*(?P<unit>[a-zA-Z]+)?"
MAX_LINE = 256


class LineProtocol(DeviceProtocol):
    """A device that prints one reading a line; `pattern` finds the number (and unit) in it."""

    driver = "ascii"
    default_baudrate = 9600
    default_rate_hz = 10.0
    poll: bytes | None = None  # sent for each reading (None: the device streams by itself)
    arm: tuple[bytes, ...] = ()  # sent on connect, and again when the data stops
    rearm_s = 1.0
    reply_timeout_s = 0.5

    def __init__(self, pattern: str | None = None, unit: str = "N", invert: bool = False,
                 rate_hz: float | None = None) -> None:
        super().__init__()
        rate_hz = rate_hz or self.default_rate_hz
        self.stale_s = max(0.25, 3.0 / rate_hz)
        self.pattern = re.compile(pattern or DEFAULT_PATTERN)
        self.unit = unit
        self.default_factor = unit_factor(unit)
        self.sign = -1.0 if invert else 1.0
        self.rate_hz = rate_hz
        self.lines = 0
        self.bad_lines = 0
        self.rearms = 0
        self._buf = b""
        self._seq = 0
        self._t0 = time.monotonic()
        self._last_t = -np.inf
        self._awaiting = False
        self._sent_at = 0.0
        self._next_poll = 0.0
        self._last_data = time.monotonic()
        self._last_arm = -np.inf

    def parse(self, line: str) -> float | None:
        """The force in newtons on `line`, or None if it holds no reading."""
        m = self.pattern.search(line)
        if m is None:
            return None
        groups = m.groupdict()
        text = groups.get("value") or (m.group(1) if m.re.groups else m.group(0))
        value = float(text.replace(" ", "").replace(",", "."))
        label = groups.get("unit")
        factor = self.default_factor
        if label:
            try:
                factor = unit_factor(label)
            except ValueError:
                return None
        return self.sign * value * factor

    def device(self, where: str) -> Device | None:
        """The gauge by its driver's name (line gauges do not say their serial number)."""
        return Device(f"{self.driver} gauge", "", self.rate_hz, "", where)

    @property
    def nominal_rate_sps(self) -> float:
        """The polling or streaming rate asked for."""
        return self.rate_hz

    @property
    def calibration(self) -> Calibration:
        """Line drivers put micronewtons in `raw`: always `DRIVER_CALIBRATION`."""
        return DRIVER_CALIBRATION

    def health(self) -> SourceHealth:
        """Lines read and lines that held no reading; no sequence numbers, so no loss count."""
        return SourceHealth(
            good_frames=self.lines, samples=self._seq, crc_errors=0,
            framing_errors=self.bad_lines, lost_frames=0, resyncs=self.resyncs,
            reconnects=0, resets=0, sink_errors=0, connected=False, signal=False,
        )

    # -- what the reader calls ------------------------------------------------------------

    def connection_made(self, ser: serial.SerialBase, first: bool) -> None:
        """A fresh port: forget half a line, poll at once, arm a streaming gauge."""
        self._buf = b""
        self._awaiting = False
        self._next_poll = 0.0
        self._last_data = time.monotonic()
        if self.arm:
            self._send_arm(time.monotonic())

    def _send_arm(self, now: float) -> None:
        for cmd in self.arm:
            self.link.write(cmd)
        self._last_arm = now

    def _is_echo(self, line: str) -> bool:
        """A command the device echoed back (not a reading, not an error)."""
        raw = line.strip().encode("ascii", "replace")
        return any(raw == c.strip() for c in (*self.arm, self.poll or b""))

    def data_received(self, data: bytes, now: float) -> None:
        """Complete lines to readings (one batch); a line without one is logged."""
        link = self.link
        parts = re.split(rb"\r\n|\r|\n", self._buf + data)
        self._buf = parts.pop()
        if len(self._buf) > MAX_LINE:  # no line end in sight: noise
            self.bad_lines += 1
            self.resyncs += 1
            self._buf = b""
        values: list[float] = []
        for part in parts:
            line = part.decode("ascii", "replace").strip()
            if not line or self._is_echo(line):
                continue
            try:
                value = self.parse(line)
            except ValueError:
                value = None
            if value is None:
                self.bad_lines += 1
                link.emit(DeviceLog(link.last_t_s, 1, line[:80]))
                continue
            self.lines += 1
            values.append(value)
        if values:
            self._awaiting = False
            self._last_data = now
            link.deliver(self._batch(values, now), now)

    def _batch(self, values: list[float], now: float) -> np.ndarray:
        n = len(values)
        force = np.array(values, dtype=np.float64)
        t = (now - self._t0) - np.arange(n - 1, -1, -1) / self.rate_hz
        t = np.maximum(t, self._last_t + 1e-6 * np.arange(1, n + 1))
        self._last_t = float(t[-1])
        micro = np.rint(force * UN_PER_N)
        over = np.abs(micro) > I32_MAX
        batch = empty_batch(n)
        batch["t_s"] = t
        batch["t_host_s"] = now
        batch["seq"] = np.arange(self._seq, self._seq + n)
        batch["raw"] = np.clip(micro, -I32_MAX, I32_MAX).astype(np.int32)
        batch["force_n"] = force
        batch["flags"] = np.where(over, SampleFlag.SATURATED, 0).astype(np.uint16)
        self._seq += n
        return batch

    def tick(self, now: float) -> None:
        """Poll when a reading is due (or the last went unanswered); re-arm a silent stream."""
        try:
            if self.poll is not None:
                overdue = self._awaiting and now - self._sent_at > self.reply_timeout_s
                if (not self._awaiting or overdue) and now >= self._next_poll:
                    self.link.write(self.poll)
                    self._awaiting = True
                    self._sent_at = now
                    self._next_poll = now + 1.0 / self.rate_hz
            if self.arm and now - self._last_data > self.rearm_s and \
                    now - self._last_arm > self.rearm_s:
                self.rearms += 1
                self._send_arm(now)
        except CommandError:
            pass  # the port is going; the read will say so


class LineSource(PortSource):
    """A line gauge on a port: `protocol_class` says which gauge."""

    protocol_class: type[LineProtocol] = LineProtocol
    protocol: LineProtocol

    def __init__(
        self,
        url: str,
        sink: Sink | None = None,
        baudrate: int | None = None,
        stale_s: float | None = None,
        reconnect: bool = True,
        lister: PortLister | None = None,
        pattern: str | None = None,
        unit: str = "N",
        invert: bool = False,
        rate_hz: float | None = None,
    ) -> None:
        proto = self.protocol_class(pattern, unit, invert, rate_hz)
        super().__init__(url, sink, baudrate, stale_s, reconnect, lister, protocol=proto)

    @property
    def rate_hz(self) -> float:
        """The polling or streaming rate asked for."""
        return self.protocol.rate_hz

    @property
    def lines(self) -> int:
        """Lines that held a reading."""
        return self.protocol.lines

    @property
    def bad_lines(self) -> int:
        """Lines that held none."""
        return self.protocol.bad_lines

    @property
    def rearms(self) -> int:
        """Times a silent stream was armed again."""
        return self.protocol.rearms

    def parse(self, line: str) -> float | None:
        """The force in newtons on `line` (the protocol's reading of it)."""
        return self.protocol.parse(line)
