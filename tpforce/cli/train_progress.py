"""`tpforce train --progress TRAINEE`: the trainee's blocks as a table, CSV and SVG plot."""

from __future__ import annotations

import argparse
from pathlib import Path


def show_progress(args: argparse.Namespace) -> int:
    """Print the progress table; write --csv and --plot when asked."""
    from tpforce.cli import UserError
    from tpforce.history.store import HistoryError
    from tpforce.history.trainees import progress, progress_svg, write_csv

    try:
        rows = progress(args.db, args.progress)
    except (HistoryError, ValueError) as exc:
        raise UserError(str(exc)) from None

    def f(v: object) -> str:
        return f"{v:.1f}" if isinstance(v, int | float) else "-"

    print(f"{'date':10}  {'drill':16} {'schedule':10} {'block':9} {'surface':7} "
          f"{'in band %':>9} {'RMSE N':>7} {'rate err %':>10}")
    for r in rows:
        date = r["run_on"] or f"due {r['due_on']}"
        print(f"{date:10}  {r['drill']:16} {r['schedule']:10} {r['block']:9} "
              f"{r['surface']:7} {f(r['time_in_band_pct']):>9} {f(r['rmse_n']):>7} "
              f"{f(r['rate_abs_error_pct']):>10}")
    try:
        if args.csv:
            write_csv(rows, Path(args.csv))
        if args.plot:
            Path(args.plot).write_text(progress_svg(rows, args.progress), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {exc.filename} ({exc.strerror}): choose another "
                        "path") from None
    return 0
