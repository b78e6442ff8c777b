"""`tpforce replay --verify FILE...`: recompute every decision headless from the raw samples
and the recorded inputs (exit 0 when equal, 1 naming the first difference, 2 for a file that
cannot be read)."""

from __future__ import annotations

import argparse
import sys

from tpforce.cli import UserError
from tpforce.io.recorder import RecordingError


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(name, help="--verify a recording's decisions", description=__doc__)
    p.add_argument("files", nargs="+", metavar="FILE", help="recording folder(s) (*.tpfrec)")
    p.add_argument("--verify", action="store_true",
                   help="recompute every decision and compare it with the recording")
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
    """Verify; playing a recording in a window is not part of this version."""
    if args.verify:
        return run_verify(args.files)
    raise UserError("this version replays recordings headless only: use 'tpforce replay "
                    "--verify FILE', 'tpforce analyze FILE' or 'tpforce report FILE'")
