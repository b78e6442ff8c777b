"""`tpforce live --port PORT`: the live display on a real probe (and the window part of demo).

The window needs no port of its own: this module hands it the session's processor, ring
buffer and event queue, the device's name and the source's lost-frame count.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from tpforce.cli.argtypes import non_negative, positive
from tpforce.cli.lsl_options import add_lsl_args, outlet_from_args
from tpforce.cli.wiring import Session, open_session, qt_display_problem
from tpforce.core.calibration import Calibration
from tpforce.core.tracker import HoldConfig


def add_window_args(p: argparse.ArgumentParser) -> None:
    """The options every command that opens the live window shares."""
    p.add_argument("--duration", type=non_negative, metavar="S", help="close after S seconds")
    p.add_argument("--screenshot", metavar="PATH", help="save a PNG of the window before exit")
    p.add_argument("--target", type=positive, metavar="S",
                   help="hold target in seconds (default: the last one used, else 30)")
    p.add_argument("--settings", type=Path, metavar="INI",
                   help="keep the display settings in this file instead of the user's")
    p.add_argument("--fullscreen", action="store_true", help="open full screen (F11 toggles)")
    p.add_argument("--record-dir", type=Path, default=Path("recordings"), metavar="DIR",
                   help="where the R key puts recordings (default: ./recordings)")


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(name, help="live display on a probe on a serial port",
                       description=__doc__)
    from tpforce.cli.calibration import add_calibration_arg
    from tpforce.io.drivers import DRIVERS

    p.add_argument("--port", required=True, metavar="PORT",
                   help="serial port or pyserial URL (/dev/ttyACM0, COM3, socket://...), "
                        "'auto' or 'sim'")
    p.add_argument("--driver", default="probe", choices=sorted(DRIVERS),
                   help="what speaks on the port (default: the tpforce probe)")
    add_calibration_arg(p)
    add_window_args(p)
    add_lsl_args(p)
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
    if outlet := outlet_from_args(args, session.source, session.processor.calibration):
        session.processor.add_consumer(outlet)  # closed with the processor
    source = session.source
    health = getattr(source, "health", None)
    # NO SIGNAL within 250 ms for the probe; a slow gauge gets its own reading interval.
    stale_s = max(0.2, session.source.stale_s - 0.05)
    link = LiveLink(device=device, record=recorder_switch(session, args.record_dir, device),
                    lost_frames=(lambda: health().lost_frames) if health else None,
                    stale_s=stale_s)
    return run_window(session.processor, session.ring, session.events, options, link)


def recorder_switch(session: Session, folder: Path, device: str) -> Callable[[bool], str]:
    """The R key's switch: a fresh recording folder joins the processor's consumers."""
    from tpforce.io.recorder import Recorder, RecordingError, new_recording_path

    current: list[Recorder] = []

    def record(on: bool) -> str:
        while current:  # stop what runs, whatever was asked
            recorder = current.pop()
            session.processor.remove_consumer(recorder)
            recorder.close()
        if not on:
            return ""
        folder.mkdir(parents=True, exist_ok=True)
        try:
            recorder = Recorder(new_recording_path(folder), meta={"device": device})
        except RecordingError as exc:
            raise OSError(str(exc)) from None
        current.append(recorder)
        session.processor.add_consumer(recorder)
        return recorder.path.name

    return record


def run(args: argparse.Namespace) -> int:
    """Open the port, read the probe's calibration and show the window."""
    from tpforce.cli import UserError
    from tpforce.cli.calibration import choose_calibration
    from tpforce.io.serial_source import CommandError, SourceOpenError

    problem = qt_display_problem()
    if problem:
        print(f"tpforce live: {problem}", file=sys.stderr)
        return 2
    if args.calibration is not None and args.driver != "probe":
        raise UserError("--calibration is for the tpforce probe; gauges report newtons already")
    try:
        session = open_session(args.port, Calibration(), HoldConfig(), driver=args.driver)
    except SourceOpenError as exc:
        raise UserError(str(exc)) from None
    try:
        if args.driver != "probe" or args.port.startswith("lsl:"):
            return launch_window(session, args, f"tpforce - {session.source.driver} on {args.port}",
                                 f"{session.source.driver} on {args.port}", 1000.0)
        try:
            info = session.source.hello(timeout=3.0)  # type: ignore[union-attr]
        except CommandError as exc:
            raise UserError(f"{args.port}: the device does not answer as a tpforce probe "
                            f"({exc}); try --driver for another gauge") from None
        session.processor.set_calibration(choose_calibration(  # type: ignore[arg-type]
            session.source, args.calibration))
        return launch_window(session, args, f"tpforce - {info.serial} on {args.port}",
                             f"{args.port} · {info.serial}", max(info.rate_sps, 80))
    finally:
        session.close()
