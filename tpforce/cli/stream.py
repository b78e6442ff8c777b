"""`tpforce stream --port PORT`: the headless tap, one line per sample and per event on stdout.

Columns: host time (monotonic s), device time (s), sequence, raw counts, force (N), flags.
`--format csv` writes events as `# {json}` comment lines; `--format jsonl` writes one JSON
object per line, samples and events alike (events carry an "event" key). `--port sim` opens
the built-in simulated probe; `--port auto` finds a plugged-in probe.
"""

from __future__ import annotations

import argparse
import json
import math
import queue
import re
import sys
import time
from typing import TextIO

import numpy as np

from tpforce.cli.argtypes import baud, non_negative, positive
from tpforce.cli.lsl_options import add_lsl_args, lsl_extras
from tpforce.cli.wiring import LSL_PORT, open_pipeline
from tpforce.core.events import Disconnected, Event
from tpforce.core.source import SourceOpenError
from tpforce.io.drivers import DRIVERS
from tpforce.io.recorder import event_to_dict

COLUMNS = ("t_host_s", "t_s", "seq", "raw", "force_n", "flags")


def add_source_args(p: argparse.ArgumentParser) -> None:
    """The options that choose and configure a source (shared with other commands)."""
    p.add_argument("--port", required=True, metavar="PORT",
                   help="serial port or pyserial URL (/dev/ttyACM0, COM3, socket://host:port, "
                        "rfc2217://...), 'auto' to find the probe, 'sim' for the simulated one, "
                        "'lsl:NAME' for a Lab Streaming Layer force stream")
    p.add_argument("--driver", default="probe", choices=sorted(DRIVERS),
                   help="what speaks on the port (default: the tpforce probe)")
    p.add_argument("--baud", type=baud, metavar="N", help="baud rate (default: the driver's)")
    p.add_argument("--pattern", metavar="REGEX",
                   help="ascii driver: where the number is, as a group named 'value' (or the "
                        "first group), with an optional group 'unit'")
    p.add_argument("--unit", default=None, metavar="U",
                   help="gauge drivers: unit when the line names none (N, mN, kN, kgf, gf, "
                        "lbf, ozf; default N)")
    p.add_argument("--invert", action="store_true", help="gauge drivers: flip the sign")
    p.add_argument("--rate", type=positive, metavar="HZ",
                   help="gauge drivers: polling or streaming rate")
    p.add_argument("--no-reconnect", action="store_true",
                   help="stop when the port goes away instead of waiting for it")


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    from tpforce.cli.calibration import add_calibration_arg

    p = sub.add_parser(name, help="print samples and events as CSV or JSON lines",
                       description=__doc__)
    add_source_args(p)
    p.add_argument("--duration", type=non_negative, metavar="S", help="stop after S seconds")
    p.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    p.add_argument("--record", metavar="PATH", help="also record to this recording folder")
    add_calibration_arg(p)
    add_lsl_args(p, wait=True)
    p.set_defaults(run=run)


class _Tap:
    """Queues the processor's batches and events for the printing (main) thread."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[np.ndarray | Event] = queue.SimpleQueue()

    def on_batch(self, batch: np.ndarray) -> None:
        self.queue.put(batch.copy())

    def on_event(self, event: Event) -> None:
        self.queue.put(event)

    def close(self) -> None:
        """Nothing to release."""


def _num(x: float) -> object:
    return None if isinstance(x, float) and math.isnan(x) else x


def _print(item: np.ndarray | Event, fmt: str, out: TextIO) -> None:
    if isinstance(item, Event):
        data = event_to_dict(item)
        if fmt == "csv":
            out.write(f"# {json.dumps(data)}\n")
        else:
            out.write(json.dumps({"event": data.pop("type"), **data}) + "\n")
        return
    cols = [item[c].tolist() for c in COLUMNS]
    if fmt == "csv":
        out.write("".join(f"{h:.6f},{t:.6f},{s},{r},{f:.6f},{g}\n"
                          for h, t, s, r, f, g in zip(*cols, strict=True)))
    else:
        out.write("".join(json.dumps(dict(zip(COLUMNS, (h, t, s, r, _num(f), g), strict=True)))
                          + "\n" for h, t, s, r, f, g in zip(*cols, strict=True)))


def driver_options(args: argparse.Namespace) -> dict[str, object]:
    """Source options from the command line (None where not given)."""
    return {"baudrate": args.baud, "pattern": args.pattern, "unit": args.unit,
            "invert": args.invert or None, "rate_hz": args.rate,
            "reconnect": not args.no_reconnect}


def run(args: argparse.Namespace) -> int:
    """Open the source and print until the duration ends, the pipe closes or Ctrl-C."""
    from tpforce.cli import UserError
    from tpforce.cli.calibration import chooser

    if args.calibration is not None and (args.driver != "probe" or args.port.startswith(LSL_PORT)):
        raise UserError("--calibration is for the tpforce probe; gauges and LSL streams report "
                        "newtons already")
    tap = _Tap()
    out = sys.stdout
    gone: Disconnected | None = None
    options = driver_options(args)
    reconnect = bool(options.pop("reconnect"))
    try:
        pipeline = open_pipeline(args.port, driver=args.driver, driver_options=options,
                                 choose=chooser(args), extras=[tap],
                                 late_extras=lsl_extras(args), record=args.record,
                                 reconnect=reconnect)
    except (SourceOpenError, ValueError, re.error, OSError) as exc:
        raise UserError(str(exc)) from None
    try:
        with pipeline:
            if args.format == "csv":
                out.write(",".join(COLUMNS) + "\n")
            end = time.monotonic() + args.duration if args.duration is not None else math.inf
            while time.monotonic() < end:
                try:
                    item = tap.queue.get(timeout=min(0.1, max(end - time.monotonic(), 0.001)))
                except queue.Empty:
                    continue
                _print(item, args.format, out)
                if tap.queue.empty():
                    out.flush()
                if args.no_reconnect and isinstance(item, Disconnected):
                    gone = item
                    break
            pipeline.source.close()  # nothing more arrives: what is printed is what is recorded
            while not tap.queue.empty():
                _print(tap.queue.get_nowait(), args.format, out)
            out.flush()
    except BrokenPipeError:
        sys.stderr.close()  # the reader of our pipe is gone: stop quietly
    except KeyboardInterrupt:
        return 130
    if gone is not None:
        print(f"tpforce stream: {gone.port}: {gone.reason}; stopped (--no-reconnect), "
              "everything received was printed", file=sys.stderr)
        return 1
    return 0
