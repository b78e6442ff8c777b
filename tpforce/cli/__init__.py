"""The command line: `tpforce <command>`. Each command lives in a module of its own."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import NoReturn

from tpforce import __version__

# name -> module under tpforce.cli; each module has `add_parser(sub)` and `run(args) -> int`.
COMMANDS = {
    "demo": "demo",
    "analyze": "analyze",
    "live": "live",
    "calibration": "calibration",
    "calibrate": "calibrate",
    "stream": "stream",
    "ports": "ports",
    "sim": "sim",
    "history": "history",
    "report": "report",
    "train": "train",
    "replay": "replay",
    "export": "export",
}


class UserError(Exception):
    """An error the user can fix: printed as one line, exit code 2, no traceback."""


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error said in one line that points at --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command's subparser."""
    parser = _Parser(
        prog="tpforce",
        description="Pressure feedback for trigger-point therapy.",
    )
    parser.add_argument("--version", action="version", version=f"tpforce {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log diagnostics")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        mod = importlib.import_module(f"tpforce.cli.{module}")
        mod.add_parser(sub, name)
    return parser


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tpforce` script; returns the exit code.

    SIGTERM stops a command the way Ctrl-C does: ports and recordings closed, exit 130.
    """
    import signal

    previous = None
    if hasattr(signal, "SIGTERM") and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        try:
            previous = signal.signal(signal.SIGTERM, _interrupt)
        except ValueError:  # not the main thread (main() called from a test's thread)
            previous = None
    try:
        return _main(argv)
    except KeyboardInterrupt:  # during start-up, before a command took it
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.command:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except UserError as exc:
        print(f"tpforce {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Whoever read our output has gone (`| head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
