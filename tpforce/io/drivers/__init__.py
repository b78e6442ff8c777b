"""Every port driver by name, for `--driver`: the tpforce probe and ASCII force gauges."""

from __future__ import annotations

from typing import Any

from tpforce.core.source import Sink
from tpforce.io.drivers.gauges import FdixSource, Mark10Source, ShimpoSource, WagnerSource
from tpforce.io.drivers.lines import DRIVER_CALIBRATION, LineSource
from tpforce.io.probe import ProbeSource
from tpforce.io.source import PortSource

DRIVERS: dict[str, type[PortSource]] = {
    "probe": ProbeSource,
    "ascii": LineSource,
    "mark10": Mark10Source,
    "wagner": WagnerSource,
    "fdix": FdixSource,
    "shimpo": ShimpoSource,
}
"""Driver name -> source class; all take (url, sink, baudrate=...) and are context managers."""

GAUGE_OPTIONS = ("pattern", "unit", "invert", "rate_hz")
"""Options only the line gauges take."""


def make_source(url: str, driver: str = "probe", sink: Sink | None = None,
                **options: Any) -> PortSource:
    """An unopened source for `driver` on `url`; options given as None are left out, and a
    gauge option given to the probe is a ValueError."""
    try:
        cls = DRIVERS[driver]
    except KeyError:
        raise ValueError(f"unknown driver {driver!r}; use one of {', '.join(DRIVERS)}") from None
    kwargs = {k: v for k, v in options.items() if v is not None}
    if not issubclass(cls, LineSource):
        extra = [k for k in GAUGE_OPTIONS if k in kwargs]
        if extra:
            names = ", ".join("--" + k.replace("_hz", "").replace("_", "-") for k in extra)
            raise ValueError(f"{names}: for gauge drivers only, not the tpforce probe")
    return cls(url, sink, **kwargs)


__all__ = ["DRIVERS", "DRIVER_CALIBRATION", "make_source"]
