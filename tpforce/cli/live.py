"""`tpforce live --port PORT`: the live display on a real probe (and the window part of demo).

The window needs no port of its own: this module hands it the pipeline's processor, ring
buffer and event queue, the device's name and the source's lost-frame count.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

from tpforce.cli.argtypes import non_negative, positive
from tpforce.cli.lsl_options import add_lsl_args, lsl_extras
from tpforce.cli.wiring import LSL_PORT, Pipeline, open_pipeline, qt_display_problem
from tpforce.core.source import SourceOpenError
from tpforce.core.tracker import HoldConfig


def screenshot_moment(text: str) -> tuple[str, str]:
    """'treatment=shot.png' as (moment, path), refusing an unknown moment."""
    from tpforce.ui.app import MOMENTS

    moment, _, path = text.partition("=")
    if moment not in MOMENTS or not path:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give MOMENT=PATH with MOMENT one of {', '.join(MOMENTS)}")
    return moment, path


def add_window_args(p: argparse.ArgumentParser) -> None:
    """The options every command that opens the live window shares."""
    p.add_argument("--duration", type=non_negative, metavar="S", help="close after S seconds")
    p.add_argument("--screenshot", metavar="PATH", help="save a PNG of the window before exit")
    p.add_argument("--screenshot-at", action="append", default=[], metavar="MOMENT=PATH",
                   type=screenshot_moment,
                   help="save a PNG when the session reaches MOMENT (trials, treatment, "
                        "summary, after, nosignal); may be repeated")
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
    from tpforce.cli.stream import add_source_args

    add_source_args(p)  # the very group `stream` uses: every gauge option, never a copy
    add_calibration_arg(p)
    add_window_args(p)
    add_lsl_args(p)
    add_recording_args(p)
    p.set_defaults(run=run)


def add_recording_args(p: argparse.ArgumentParser) -> None:
    """Recording is on by default: who it is of, by whom, and the way to turn it off."""
    p.add_argument("--patient", default="anon", metavar="PSEUDONYM",
                   help="the patient's pseudonym (never a name); names the recording")
    p.add_argument("--operator", default="", metavar="ID", help="the operator's ID")
    p.add_argument("--no-record", action="store_true",
                   help="do not record the session (by default it is recorded from its "
                        "first sample into the per-user data folder)")


def launch_window(pipeline: Pipeline, args: argparse.Namespace, title: str,
                  calibration_notice: str = "") -> int:
    """Open the live window on a running pipeline; shared by `live` and `demo`
    (`calibration_notice`: a warning about the calibration, kept on screen)."""
    from tpforce.ui.app import WindowOptions, run_window
    from tpforce.ui.status import LiveLink

    overrides: dict[str, object] = {}
    if args.target is not None:
        overrides["target_s"] = float(args.target)
    source = pipeline.source
    options = WindowOptions(title=title, duration_s=args.duration, screenshot=args.screenshot,
                            settings_path=args.settings, overrides=overrides,
                            full_screen=args.fullscreen, shots=list(args.screenshot_at),
                            max_rate_sps=max(source.nominal_rate_sps, 80.0))
    # NO SIGNAL within 250 ms for the probe; a slow gauge gets its own reading interval.
    link = LiveLink(device=pipeline.device_label,
                    record=pipeline.recorder_switch(args.record_dir),
                    lost_frames=lambda: source.health().lost_frames,
                    stale_s=max(0.2, source.stale_s - 0.05),
                    recording=pipeline.recording_state, calibration=calibration_notice,
                    bench=_bench(pipeline))
    return run_window(pipeline.processor, pipeline.ring, pipeline.events, options, link)


def _bench(pipeline: Pipeline) -> object:
    """The calibration dialog's link for a tpforce probe (None for other sources)."""
    from tpforce.io.probe import ProbeSource

    if not isinstance(pipeline.source, ProbeSource):
        return None
    from tpforce.cli.calibrate import bench_link

    return bench_link(pipeline.source)


def recorder_switch(pipeline: Pipeline, folder: Path, device: str = "") -> Callable[[bool], str]:
    """The R key's switch on `pipeline` (the device is named from the source itself)."""
    return pipeline.recorder_switch(folder)


def run(args: argparse.Namespace) -> int:
    """Open the port, take the probe's calibration and show the window."""
    from tpforce.cli import UserError
    from tpforce.cli.calibration import chooser
    from tpforce.cli.stream import driver_options

    problem = qt_display_problem()
    if problem:
        print(f"tpforce live: {problem}", file=sys.stderr)
        return 2
    if args.calibration is not None and (args.driver != "probe" or args.port.startswith(LSL_PORT)):
        raise UserError("--calibration is for the tpforce probe; gauges and LSL streams report "
                        "newtons already")
    patient = recording_patient(args)
    options = driver_options(args)
    reconnect = bool(options.pop("reconnect"))
    try:
        pipeline = open_pipeline(args.port, driver=args.driver, driver_options=options,
                                 hold=HoldConfig(), reconnect=reconnect,
                                 choose=chooser(args),
                                 late_extras=lsl_extras(args),
                                 record_default=not args.no_record, patient=patient,
                                 operator=args.operator)
    except (SourceOpenError, ValueError, re.error) as exc:
        raise UserError(str(exc)) from None
    if pipeline.record_warning:
        print(f"tpforce live: warning: {pipeline.record_warning}; acquisition goes on",
              file=sys.stderr)
    with pipeline:
        return launch_window(pipeline, args, f"tpforce - {pipeline.device_label}",
                             pipeline.calibration_notice)


def recording_patient(args: argparse.Namespace) -> str:
    """The --patient pseudonym, checked (one token, never a full name); UserError if not."""
    from tpforce.cli import UserError
    from tpforce.history.record import RecordError, check_pseudonym

    try:
        return check_pseudonym(getattr(args, "patient", "anon"))
    except (RecordError, ValueError) as exc:
        raise UserError(f"--patient: {exc}") from None
