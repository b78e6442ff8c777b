"""Calibration on the command line: `tpforce calibration check RECORD.json`, and the
`--calibration FILE` option (the choice itself is `io.calibration.calibration_chooser`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tpforce.cli import UserError
from tpforce.cli.argtypes import positive
from tpforce.core.calbench import DEFAULT_MAX_AGE_DAYS
from tpforce.io.calibration import (
    CalibrationChoice,
    RecordError,
    calibration_chooser,
    load_record,
)


def add_calibration_arg(p: argparse.ArgumentParser) -> None:
    """The `--calibration FILE` and `--max-cal-age-days` options of the commands that read
    a probe."""
    p.add_argument("--calibration", type=Path, metavar="FILE",
                   help="a calibration record (calibration/records/<serial>.json) to use "
                        "instead of the one in the probe's EEPROM")
    p.add_argument("--max-cal-age-days", type=positive, default=DEFAULT_MAX_AGE_DAYS,
                   metavar="DAYS", help="warn at connect when the probe's calibration is "
                   f"older than this (default {DEFAULT_MAX_AGE_DAYS}, the clinic's "
                   "recalibration interval)")


def chooser(args: argparse.Namespace) -> CalibrationChoice:
    """The calibration choice the options ask for (a record file, the age limit)."""
    return calibration_chooser(args.calibration, args.max_cal_age_days)


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


__all__ = ["add_calibration_arg", "calibration_chooser", "chooser"]
