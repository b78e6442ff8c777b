"""Calibration on the command line: `tpforce calibration check RECORD.json`, and the choice
of calibration for a probe (`--calibration FILE`, else the probe's own record)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tpforce.cli import UserError
from tpforce.core.calibration import Calibration
from tpforce.io.calrecords import RecordError, load_record
from tpforce.io.serial_source import CommandError, SerialSource


def add_calibration_arg(p: argparse.ArgumentParser) -> None:
    """The `--calibration FILE` option of the commands that read a probe."""
    p.add_argument("--calibration", type=Path, metavar="FILE",
                   help="a calibration record (calibration/records/<serial>.json) to use "
                        "instead of the one in the probe's EEPROM")


def choose_calibration(source: SerialSource, record_path: Path | None) -> Calibration:
    """A record file if given (it must be this probe's), else the probe's own record; raw
    counts (1 N per count) with a warning where there is neither. UserError on a mismatch."""
    port = source.port
    try:
        serial = (source.info or source.hello(timeout=2.0)).serial
    except CommandError as exc:
        raise UserError(f"{port}: the device does not answer as a tpforce probe ({exc}); "
                        "try --driver for another gauge") from None
    if record_path is not None:
        try:
            cal = load_record(record_path).calibration
        except RecordError as exc:
            raise UserError(str(exc)) from None
        if cal.serial and cal.serial != serial:
            raise UserError(f"{record_path} is the record of probe {cal.serial}, but the probe "
                            f"on {port} is {serial}; use its own record")
        return cal
    try:
        record = source.read_calibration(timeout=2.0)
    except CommandError as exc:
        if "BAD_RECORD" in str(exc):
            raise UserError(f"{port}: the probe's calibration record is damaged; recalibrate "
                            "it (calibration/README.md) or pass --calibration FILE") from None
        raise UserError(f"{port}: the device does not answer as a tpforce probe ({exc}); "
                        "try --driver for another gauge") from None
    if record is None:
        print(f"tpforce: the probe on {port} has no calibration record, so force_n shows raw "
              "counts; calibrate it (calibration/README.md) or pass --calibration FILE",
              file=sys.stderr)
        return Calibration()
    return Calibration(record.zero_counts, record.n_per_count, record.tip_area_mm2 / 100.0,
                       serial=record.serial)


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(name, help="check a calibration record (calibration/README.md)",
                       description=__doc__)
    p.add_argument("action", choices=["check"], help="what to do with the record")
    p.add_argument("record", help="a JSON record, e.g. calibration/records/SIM00001.json")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the refit and the checks; exit 1 if the record fails them."""
    try:
        record = load_record(args.record)
        fit = record.refit()
    except (RecordError, ValueError) as exc:
        raise UserError(str(exc)) from None
    cal = record.calibration
    print(f"probe {cal.serial}: zero {cal.zero_counts:.1f} counts, "
          f"{cal.n_per_count:.6e} N/count (stored)")
    print(f"refit from {len(record.points)} points: zero {fit.zero_counts:.1f} counts, "
          f"{fit.n_per_count:.6e} N/count")
    print(f"non-linearity {fit.non_linearity_pct_fs:.3f} % FS, hysteresis "
          f"{fit.hysteresis_pct_fs:.3f} % FS, zero return {fit.zero_return_pct_fs:.3f} % FS")
    problems = list(fit.problems)
    rel = abs(fit.n_per_count - cal.n_per_count) / abs(cal.n_per_count)
    if rel > 0.001:
        problems.append(f"stored slope differs from the points' fit by {100 * rel:.2f} %")
    if problems:
        for p in problems:
            print(f"FAIL: {p}")
        return 1
    print("PASS")
    return 0
