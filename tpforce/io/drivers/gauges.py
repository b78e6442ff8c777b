"""Drivers for force gauges clinics already own: Mark-10, Wagner FDX/FPX and FDIX, Shimpo.

Command sets from the makers' manuals (docs/domain.md): Mark-10 answers `?` with `value unit`;
Wagner FDX/FPX answer `?` with sign, digits and unit (`- 23.02 lbf`); Wagner FDIX streams
after `C<rate>` and `CB` and forgets it on a power cycle, so the driver re-arms it when data
stops; Shimpo FGV-X streams after `BB` and echoes commands.
"""

from __future__ import annotations

from tpforce.core.units import unit_factor
from tpforce.io.drivers.lines import LineProtocol, LineSource

SIGNED = r"(?P<sign>[-+])?\s*(?P<value>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[a-zA-Z]+)?"


class SignedLineProtocol(LineProtocol):
    """A line protocol whose sign may stand apart from the digits (`- 23.02 lbf`)."""

    def __init__(self, pattern: str | None = None, unit: str = "N", invert: bool = False,
                 rate_hz: float | None = None) -> None:
        super().__init__(pattern or SIGNED, unit, invert, rate_hz)

    def parse(self, line: str) -> float | None:
        """The signed reading in newtons."""
        m = self.pattern.search(line)
        if m is None:
            return None
        g = m.groupdict()
        value = float(g["value"])
        if g.get("sign") == "-":
            value = -value
        factor = self.default_factor
        if g.get("unit"):
            try:
                factor = unit_factor(g["unit"])
            except ValueError:
                return None
        return self.sign * value * factor


class Mark10Protocol(SignedLineProtocol):
    """Mark-10 Series 4/5/7 gauges: poll with `?`, reply `4.285 N` or `-18.78 lbF`."""

    driver = "mark10"
    default_baudrate = 115200
    default_rate_hz = 20.0
    poll = b"?\r"


class WagnerProtocol(SignedLineProtocol):
    """Wagner FDX/FPX gauges: poll with `?` (FPX: `?` CR LF at 9600 baud)."""

    driver = "wagner"
    default_baudrate = 9600
    poll = b"?\r\n"


class FdixProtocol(SignedLineProtocol):
    """Wagner FDIX in continuous mode: `C<rate>` then `CB`; re-armed whenever data stops."""

    driver = "fdix"
    default_baudrate = 9600
    rearm_s = 1.0

    def __init__(self, pattern: str | None = None, unit: str = "N", invert: bool = False,
                 rate_hz: float | None = None) -> None:
        super().__init__(pattern, unit, invert, rate_hz)
        rate = f"{self.rate_hz:g}".encode()
        self.arm = (b"C" + rate + b"\r\n", b"CB\r\n")


class ShimpoProtocol(SignedLineProtocol):
    """Shimpo FGV-X: `BB` starts continuous output (re-sent when data stops); echoes ignored."""

    driver = "shimpo"
    default_baudrate = 19200
    arm = (b"BB\r\n",)


class SignedLineSource(LineSource):
    """A line gauge whose sign may stand apart from the digits."""

    protocol_class = SignedLineProtocol


class Mark10Source(LineSource):
    """A Mark-10 gauge on a port."""

    protocol_class = Mark10Protocol


class WagnerSource(LineSource):
    """A Wagner FDX/FPX gauge on a port."""

    protocol_class = WagnerProtocol


class FdixSource(LineSource):
    """A Wagner FDIX gauge on a port."""

    protocol_class = FdixProtocol


class ShimpoSource(LineSource):
    """A Shimpo FGV-X gauge on a port."""

    protocol_class = ShimpoProtocol


__all__ = ["FdixProtocol", "FdixSource", "Mark10Protocol", "Mark10Source", "ShimpoProtocol",
           "ShimpoSource", "SignedLineProtocol", "WagnerProtocol", "WagnerSource"]
