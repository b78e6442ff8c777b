"""`tpforce analyze`: score a force trace (CSV of t_s,force_n) for holds in a band, with the
operator's inputs (marks, phases) if given; or score recordings (*.tpfrec, many at once, paths
or a glob) per hold or per point, as text, JSON or CSV."""

from __future__ import annotations

import argparse
import json
import math
import sys

from tpforce.cli import UserError
from tpforce.cli.argtypes import non_negative, positive
from tpforce.core.analysis import (
    TraceError,
    analyze,
    parse_band,
    read_inputs,
    read_trace,
)
from tpforce.core.events import InputRefused
from tpforce.core.tracker import HoldConfig


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(name, help="score a force trace (t_s,force_n CSV) for holds in a band",
                       description=__doc__)
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="CSV with time and force columns (t_s,force_n; headers with units "
                        "such as 'Time (ms)', 'Force (kgf)'; or a `tpforce stream` CSV), or "
                        "recordings (*.tpfrec folders or a glob such as 'recs/*.tpfrec')")
    p.add_argument("--threshold", type=positive, metavar="N",
                   help="the patient's pressure pain threshold in newtons (needed unless "
                        "--inputs marks it)")
    p.add_argument("--inputs", metavar="FILE",
                   help="operator inputs: CSV t_s,input,args (args key=value;...) or JSONL")
    p.add_argument("--hold-mode", choices=("cumulative", "continuous"), default="cumulative",
                   help="cumulative: a hold is one compression, time out of band pauses it "
                        "(default); continuous: out of band longer than --grace ends it")
    p.add_argument("--band", metavar="LO:HI",
                   help="band in N (e.g. 15:18) or in %% of the threshold (75%%:90%%); "
                        "default 75%%:90%%")
    p.add_argument("--target", type=positive, metavar="S",
                   help="in-band time a hold must reach (default 30; a recording's own)")
    p.add_argument("--grace", type=non_negative, metavar="S",
                   help="time out of band before a hold ends (default 1.0; a recording's own)")
    p.add_argument("--contact", type=non_negative, default=2.0, metavar="N",
                   help="force that counts as contact (default 2)")
    p.add_argument("--filter", type=non_negative, default=0.04, metavar="S",
                   help="moving-average window for decisions, 0 = none (default 0.04)")
    p.add_argument("--no-despike", action="store_true",
                   help="keep single-sample spikes (by default a 3-sample median drops them)")
    p.add_argument("--time-unit", metavar="UNIT",
                   help="unit of the time column where the header says none (s, ms, us, min)")
    p.add_argument("--unit", metavar="UNIT",
                   help="unit of the force column where the header says none (N, kgf, lbf, g)")
    p.add_argument("--json", action="store_true", help="print the JSON document")
    p.add_argument("--csv", action="store_true", help="recordings: print CSV rows")
    p.add_argument("--per", choices=("hold", "point"), default="hold",
                   help="recordings with --csv: one row per hold (default) or per point")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Read, score and print: recordings, or one CSV trace."""
    from tpforce.cli.analyze_recordings import expand, is_recording, run_recordings

    paths = expand(args.files)
    if any(is_recording(p) for p in paths):
        return run_recordings(paths, args)
    if len(paths) != 1:
        raise UserError("give one CSV trace (several files only as recordings, *.tpfrec)")
    args.file = paths[0]
    args.target = 30.0 if args.target is None else args.target
    args.grace = 1.0 if args.grace is None else args.grace
    if args.threshold is None and args.inputs is None:
        raise UserError("give --threshold N (the patient's PPT) or --inputs FILE with marks")
    if args.threshold is not None and not (math.isfinite(args.threshold) and args.threshold > 0):
        raise UserError("--threshold must be a positive number of newtons")
    for opt in ("target", "grace", "contact", "filter"):
        value = getattr(args, opt)
        if not (math.isfinite(value) and value >= 0):
            raise UserError(f"--{opt} must be a number >= 0")
    try:
        band = None if args.threshold is None else parse_band(args.band, args.threshold)
        t_s, force_n, flags = read_trace(args.file, args.time_unit, args.unit)
        inputs = read_inputs(args.inputs) if args.inputs else None
    except (TraceError, ValueError) as exc:
        raise UserError(str(exc)) from None
    config = HoldConfig(contact_n=args.contact, grace_s=args.grace, target_s=args.target,
                        filter_window_s=args.filter, mode=args.hold_mode,
                        despike=not args.no_despike)
    result = analyze(t_s, force_n, band, config, inputs, flags)
    for warning in result.warnings:
        print(f"tpforce analyze: warning: {warning}", file=sys.stderr)
    for e in result.events:
        if isinstance(e, InputRefused):
            print(f"tpforce analyze: input {e.kind.value} at {e.t_s:.2f} s refused: {e.reason}",
                  file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, allow_nan=False))
        return 0
    b = result.band
    where = (f"band {b.lo_n:.2f}-{b.hi_n:.2f} N, threshold {b.ppt_n:.2f} N" if b
             else "no band (no threshold marked)")
    print(f"{args.file}: {result.samples} samples, {result.duration_s:.1f} s; {where}; "
          f"{args.hold_mode} holds; {result.over_threshold_count} over-threshold crossing(s)")
    if not result.holds:
        print("no holds (the force never entered the band after contact)")
    for h in result.holds:
        done = f"completed at {h.completed_at_s:.2f} s" if h.completed else "not completed"
        print(f"hold {h.index}: {h.start_s:.2f}-{h.end_s:.2f} s, in band {h.in_band_s:.1f} s "
              f"({h.in_band_pct:.0f} %), {done}, ended by {h.ended_by.value}; "
              f"mean {h.mean_n:.2f} N, CV {100 * h.cv:.1f} %, {h.excursions} excursion(s), "
              f"{h.over_count} over threshold")
    if inputs and result.session is not None:
        for p in result.session.points:
            out = p.outcome()
            verdict = out.verdict.value if out.verdict else "not measured"
            print(f"{p.label}: PPT before {out.ppt_before_n:.2f} N ({len(p.trials_before_n)} "
                  f"trials), after {out.ppt_after_n:.2f} N ({len(p.trials_after_n)}); change "
                  f"{out.change_n:+.2f} N: {verdict} (MDC {out.mdc_source})")
    return 0
