"""`tpforce replay FILE`: play a recording in the live window; `--verify FILE...` recomputes
every decision headless from the raw samples and the recorded inputs (exit 0 when equal,
1 naming the first difference, 2 for a file that cannot be read)."""

from __future__ import annotations

import argparse
import sys

from tpforce.cli import UserError
from tpforce.io.recorder import RecordingError


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(name, help="play a recording, or --verify its decisions",
                       description=__doc__)
    p.add_argument("files", nargs="+", metavar="FILE", help="recording folder(s) (*.tpfrec)")
    p.add_argument("--verify", action="store_true",
                   help="recompute every decision and compare it with the recording")
    p.add_argument("--speed", type=float, default=1.0, metavar="X",
                   help="playback speed, 0.25 to 8 (default 1)")
    p.add_argument("--sound", action="store_true", help="play the feedback sound (muted "
                   "by default)")
    p.add_argument("--duration", type=float, metavar="S", help="close after S seconds")
    p.add_argument("--screenshot", metavar="PATH", help="save a PNG of the window before exit")
    p.add_argument("--paused-at", type=float, metavar="S",
                   help="open paused at S seconds into the recording")
    p.set_defaults(run=run)


def run_verify(files: list[str]) -> int:
    """Verify each file; the worst outcome decides the exit code."""
    from tpforce.io.player import verify

    worst = 0
    for path in files:
        try:
            difference, warnings = verify(path)
        except RecordingError as exc:
            print(f"tpforce replay: {exc}", file=sys.stderr)
            worst = 2
            continue
        for w in warnings:
            print(f"warning: {w}", file=sys.stderr)
        if difference is None:
            print(f"{path}: OK, every decision recomputes equal")
        else:
            print(f"{path}: DIFFERS at {difference}")
            worst = max(worst, 1)
    return worst


def run(args: argparse.Namespace) -> int:
    """Verify, or open the replay window."""
    if args.verify:
        return run_verify(args.files)
    if len(args.files) != 1:
        raise UserError("give one recording to play (several only with --verify)")
    if not 0.25 <= args.speed <= 8:
        raise UserError("--speed must be between 0.25 and 8")
    from tpforce.cli.wiring import qt_display_problem

    problem = qt_display_problem()
    if problem:
        raise UserError(problem)
    from tpforce.ui.replay import run_replay

    try:
        return run_replay(args.files[0], speed=args.speed, sound=args.sound,
                          duration_s=args.duration, screenshot=args.screenshot,
                          paused_at_s=args.paused_at)
    except RecordingError as exc:
        raise UserError(str(exc)) from None
