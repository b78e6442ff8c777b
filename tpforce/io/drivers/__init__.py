"""Every source by name, for `--driver`: the tpforce probe and ASCII force gauges."""

from __future__ import annotations

from typing import Any

from tpforce.core.calibration import Calibration
from tpforce.core.consumer import Consumer
from tpforce.io.drivers.gauges import FdixSource, Mark10Source, ShimpoSource, WagnerSource
from tpforce.io.drivers.lines import DRIVER_CALIBRATION, LineSource
from tpforce.io.serial_source import SerialSource
from tpforce.io.source import Source

DRIVERS: dict[str, type[Source]] = {
    "probe": SerialSource,
    "ascii": LineSource,
    "mark10": Mark10Source,
    "wagner": WagnerSource,
    "fdix": FdixSource,
    "shimpo": ShimpoSource,
}
"""Driver name -> source class; all take (url, sink, baudrate=...) and are context managers."""


def make_source(url: str, driver: str = "probe", sink: Consumer | None = None,
                **options: Any) -> Source:
    """An unopened source for `driver` on `url`; options the driver lacks are ignored if None."""
    try:
        cls = DRIVERS[driver]
    except KeyError:
        raise ValueError(f"unknown driver {driver!r}; use one of {', '.join(DRIVERS)}") from None
    kwargs = {k: v for k, v in options.items() if v is not None}
    if cls is SerialSource:
        for key in ("pattern", "unit", "invert", "rate_hz"):
            kwargs.pop(key, None)
    return cls(url, sink, **kwargs)


def calibration_for(source: Source) -> Calibration | None:
    """The calibration a driver's samples need (None: the probe's own record decides)."""
    return DRIVER_CALIBRATION if isinstance(source, LineSource) else None


__all__ = ["DRIVERS", "DRIVER_CALIBRATION", "calibration_for", "make_source"]
