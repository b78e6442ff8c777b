"""`tpforce live --port PORT`: the live display on a real probe (and the window part of demo).

The window needs no port of its own: this module hands it the session's processor, ring
buffer and event queue, the device's name and the source's lost-frame count.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tpforce.cli.wiring import Session, open_session, qt_display_problem
from tpforce.core.calibration import Calibration
from tpforce.core.tracker import HoldConfig

DRIVERS = ("probe",)


def add_window_args(p: argparse.ArgumentParser) -> None:
    """The options every command that opens the live window shares."""
    p.add_argument("--duration", type=float, metavar="S", help="close after S seconds")
    p.add_argument("--screenshot", metavar="PATH", help="save a PNG of the window before exit")
    p.add_argument("--target", type=float, metavar="S",
                   help="hold target in seconds (default: the last one used, else 30)")
    p.add_argument("--settings", type=Path, metavar="INI",
                   help="keep the display settings in this file instead of the user's")
    p.add_argument("--fullscreen", action="store_true", help="open full screen (F11 toggles)")


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(name, help="live display on a probe on a serial port",
                       description=__doc__)
    p.add_argument("--port", required=True, metavar="PORT",
                   help="serial port or pyserial URL (/dev/ttyACM0, COM3, socket://...)")
    p.add_argument("--driver", default="probe", choices=DRIVERS,
                   help="what speaks on the port (default: the tpforce probe)")
    add_window_args(p)
    p.set_defaults(run=run)


def launch_window(session: Session, args: argparse.Namespace, title: str, device: str,
                  max_rate_sps: float = 1000.0) -> int:
    """Open the live window on a running session; shared by `live` and `demo`."""
    from tpforce.ui.app import WindowOptions, run_window
    from tpforce.ui.status import LiveLink

    overrides: dict[str, object] = {}
    if args.target is not None:
        overrides["target_s"] = float(args.target)
    options = WindowOptions(title=title, duration_s=args.duration, screenshot=args.screenshot,
                            settings_path=args.settings, overrides=overrides,
                            full_screen=args.fullscreen, max_rate_sps=max_rate_sps)
    source = session.source
    health = getattr(source, "health", None)
    link = LiveLink(device=device,
                    lost_frames=(lambda: health().lost_frames) if health else None)
    return run_window(session.processor, session.ring, session.events, options, link)


def run(args: argparse.Namespace) -> int:
    """Open the port, read the probe's calibration and show the window."""
    from tpforce.cli import UserError
    from tpforce.io.serial_source import CommandError, SourceOpenError

    problem = qt_display_problem()
    if problem:
        print(f"tpforce live: {problem}", file=sys.stderr)
        return 2
    try:
        session = open_session(args.port, Calibration(), HoldConfig())
    except SourceOpenError as exc:
        raise UserError(str(exc)) from None
    try:
        try:
            info = session.source.hello(timeout=3.0)
            record = session.source.read_calibration()
        except CommandError as exc:
            raise UserError(f"{args.port}: the device does not answer as a tpforce probe "
                            f"({exc})") from None
        if record is None:
            print(f"tpforce live: {info.serial} has no calibration record; showing raw "
                  "counts as newtons until it is calibrated (see calibration/)", file=sys.stderr)
        else:
            session.processor.calibration = Calibration(
                record.zero_counts, record.n_per_count, record.tip_area_mm2 / 100.0,
                serial=record.serial)
        return launch_window(session, args, f"tpforce - {info.serial} on {args.port}",
                             f"{args.port} · {info.serial}", max(info.rate_sps, 80))
    finally:
        session.close()
