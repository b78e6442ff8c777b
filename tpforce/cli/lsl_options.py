"""Lab Streaming Layer on the command line: `--lsl [NAME]` out, `--port lsl:NAME` in.

`make_source` and `calibration_for` stand in for those of `tpforce.io.drivers`: they give an
`lsl:NAME` port to the LSL inlet and leave every other port to the drivers.
"""

from __future__ import annotations

import argparse
import datetime
import math
from typing import Any

from tpforce.cli.argtypes import non_negative
from tpforce.core.calibration import Calibration
from tpforce.core.consumer import Consumer
from tpforce.io import drivers
from tpforce.io.source import SourceOpenError

LSL_PREFIX = "lsl:"
DEFAULT_NAME = "tpforce"


class _LslAction(argparse.Action):
    """Takes `--lsl [NAME]`, refusing at once (exit 2) when pylsl is not installed."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        from tpforce.io.lsl import INSTALL_HINT, import_pylsl

        try:
            import_pylsl()
        except ImportError:
            parser.error(f"--lsl needs pylsl, which is not installed: {INSTALL_HINT}")
        name = values or DEFAULT_NAME
        if not str(name).strip():
            parser.error("--lsl NAME: the stream name may not be empty")
        setattr(namespace, self.dest, str(name))


def add_lsl_args(p: argparse.ArgumentParser, wait: bool = False) -> None:
    """Add `--lsl [NAME]` (publish force and events) to a parser, and with `wait` (commands
    that can hold their samples back) `--lsl-wait S`."""
    p.add_argument("--lsl", nargs="?", action=_LslAction, default=None, metavar="NAME",
                   help=f"publish force (N) and events as Lab Streaming Layer streams NAME and "
                        f"NAME-markers (default name: {DEFAULT_NAME}; needs tpforce[lsl])")
    if not wait:
        return
    p.add_argument("--lsl-wait", type=non_negative, default=0.0, metavar="S",
                   help="with --lsl: hold samples (none are lost) until a recorder reads the "
                        "force stream, up to S seconds")


def outlet_from_args(args: argparse.Namespace, source: object,
                     calibration: Calibration | None) -> Consumer | None:
    """The LSL outlet `--lsl` asks for, described from the device and calibration in use;
    None without `--lsl`."""
    name = getattr(args, "lsl", None)
    if name is None:
        return None
    from tpforce.io.lsl import LslOutlet

    outlet = LslOutlet(name, stream_info(args, source, calibration))
    if getattr(args, "lsl_wait", 0) > 0:
        outlet.wait_for_consumers(args.lsl_wait)
    return outlet


def stream_info(args: argparse.Namespace, source: object,
                calibration: Calibration | None) -> Any:
    """Rate, device, serial, calibration date and tip area as far as they are known."""
    from tpforce.io.lsl import ForceStreamInfo

    info = getattr(source, "info", None)  # the probe's INFO reply
    record = getattr(source, "calibration", None)  # the probe's EEPROM record, if read
    driver = getattr(args, "driver", "probe")
    rate = float(getattr(info, "rate_sps", 0) or getattr(args, "rate", None) or 0.0)
    serial = str(getattr(info, "serial", "") or (calibration.serial if calibration else ""))
    cal_unix = getattr(record, "cal_unix", 0)
    date = (datetime.datetime.fromtimestamp(cal_unix, datetime.timezone.utc).date().isoformat()
            if cal_unix else "")
    probe = driver == "probe" and not str(getattr(args, "port", "")).startswith(LSL_PREFIX)
    area = calibration.tip_area_cm2 if (calibration is not None and probe) else math.nan
    return ForceStreamInfo(rate_hz=rate, device="tpforce probe" if probe else driver,
                           serial=serial, calibrated_utc=date, tip_area_cm2=area)


def make_source(url: str, driver: str = "probe", sink: Consumer | None = None,
                **options: Any) -> Any:
    """`drivers.make_source`, with `lsl:NAME` read from Lab Streaming Layer."""
    if not url.startswith(LSL_PREFIX):
        return drivers.make_source(url, driver, sink, **options)
    if driver != "probe":
        raise SourceOpenError(f"{url}: an LSL stream carries newtons already; leave --driver out")
    name = url[len(LSL_PREFIX):]
    if not name:
        raise SourceOpenError("--port lsl:NAME needs the stream's name, e.g. lsl:tpforce")
    from tpforce.io.lsl import LslInlet

    return LslInlet(name, sink)


def calibration_for(source: Any) -> Calibration | None:
    """`drivers.calibration_for`; an LSL inlet's `raw` is micronewtons, as a gauge's is."""
    from tpforce.io.lsl import LslInlet

    if isinstance(source, LslInlet):
        return drivers.DRIVER_CALIBRATION
    return drivers.calibration_for(source)
