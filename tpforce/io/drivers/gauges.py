"""Drivers for force gauges clinics already own: Mark-10, Wagner FDX/FPX and FDIX, Shimpo.

Command sets from the makers' manuals (docs/domain.md): Mark-10 answers `?` with `value unit`;
Wagner FDX/FPX answer `?` with sign, digits and unit (`- 23.02 lbf`); Wagner FDIX streams
after `C<rate>` and `CB` and forgets it on a power cycle, so the driver re-arms it when data
stops; Shimpo FGV-X streams after `BB` and echoes commands.
"""

from __future__ import annotations

from typing import Any

from tpforce.core.units import unit_factor
from tpforce.io.drivers.lines import LineSource

SIGNED = r"(?P<sign>[-+])?\s*(?P<value>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[a-zA-Z]+)?"


class SignedLineSource(LineSource):
    """A line driver whose sign may stand apart from the digits (`- 23.02 lbf`)."""

    def __init__(self, url: str, *args: Any, pattern: str | None = None, **kwargs: Any) -> None:
        # pattern is taken by keyword here, so it never also arrives among *args
        super().__init__(url, *args, pattern=pattern or SIGNED, **kwargs)  # type: ignore[misc]

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


class Mark10Source(SignedLineSource):
    """Mark-10 Series 4/5/7 gauges: poll with `?`, reply `4.285 N` or `-18.78 lbF`."""

    driver = "mark10"
    default_baudrate = 115200
    poll = b"?\r"

    def __init__(self, url: str, *args: Any, rate_hz: float = 20.0, **kwargs: Any) -> None:
        super().__init__(url, *args, rate_hz=rate_hz, **kwargs)


class WagnerSource(SignedLineSource):
    """Wagner FDX/FPX gauges: poll with `?` (FPX: `?` CR LF at 9600 baud)."""

    driver = "wagner"
    default_baudrate = 9600
    poll = b"?\r\n"


class FdixSource(SignedLineSource):
    """Wagner FDIX in continuous mode: `C<rate>` then `CB`; re-armed whenever data stops."""

    driver = "fdix"
    default_baudrate = 9600
    rearm_s = 1.0

    def __init__(self, url: str, *args: Any, rate_hz: float = 10.0, **kwargs: Any) -> None:
        super().__init__(url, *args, rate_hz=rate_hz, **kwargs)
        rate = f"{rate_hz:g}".encode()
        self.arm = (b"C" + rate + b"\r\n", b"CB\r\n")


class ShimpoSource(SignedLineSource):
    """Shimpo FGV-X: `BB` starts continuous output (re-sent when data stops); echoes ignored."""

    driver = "shimpo"
    default_baudrate = 19200
    arm = (b"BB\r\n",)


__all__ = ["FdixSource", "Mark10Source", "ShimpoSource", "WagnerSource"]
