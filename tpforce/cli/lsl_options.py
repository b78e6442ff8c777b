"""Lab Streaming Layer on the command line: `--lsl [NAME]` publishes force and events.

`lsl_extras(args)` is the wiring's late-extras hook: it builds the outlet once the source is
open and its calibration chosen, before any sample reaches the processor, so the outlet
gets every sample the other consumers get. `--port lsl:NAME` needs nothing here: the wiring
opens it like any port.
"""

from __future__ import annotations

import argparse
import datetime
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tpforce.cli.argtypes import non_negative
from tpforce.cli.wiring import LateExtras
from tpforce.core.calibration import Calibration
from tpforce.core.consumer import Consumer
from tpforce.core.source import Source

if TYPE_CHECKING:
    from tpforce.io.lsl import ForceStreamInfo

DEFAULT_NAME = "tpforce"
PROBE = "tpforce probe"


class _LslAction(argparse.Action):
    """Takes `--lsl [NAME]`, refusing at once (exit 2) when pylsl is not installed."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
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


def lsl_extras(args: argparse.Namespace) -> LateExtras | None:
    """The hook that makes the `--lsl` outlet from the open source and the calibration in
    use, waiting `--lsl-wait` seconds for a reader meanwhile (samples are held, not lost);
    None without `--lsl`."""
    name = getattr(args, "lsl", None)
    if name is None:
        return None
    wait_s = float(getattr(args, "lsl_wait", 0.0) or 0.0)

    def extras(source: Source, calibration: Calibration) -> Sequence[Consumer]:
        from tpforce.io.lsl import LslOutlet

        outlet = LslOutlet(name, stream_info(source, calibration))
        if wait_s > 0:
            outlet.wait_for_consumers(wait_s)
        return [outlet]

    return extras


def stream_info(source: Source, calibration: Calibration) -> ForceStreamInfo:
    """Rate, device, serial, calibration date and tip area, as far as the device says."""
    from tpforce.io.calibration import record_calibration
    from tpforce.io.lsl import ForceStreamInfo

    dev = source.device
    probe = dev is not None and dev.name == PROBE
    record = getattr(source, "record", None)  # the probe's EEPROM record, if it has one
    date = ""
    if probe and record is not None and record.cal_unix and \
            record_calibration(record) == calibration:  # the date of the record in use only
        date = datetime.datetime.fromtimestamp(record.cal_unix, datetime.timezone.utc) \
            .date().isoformat()
    serial = (dev.serial if dev is not None else "") or calibration.serial
    return ForceStreamInfo(rate_hz=source.nominal_rate_sps,
                           device=dev.name if dev is not None else "",
                           serial=serial, calibrated_utc=date,
                           tip_area_cm2=calibration.tip_area_cm2 if probe else math.nan)
