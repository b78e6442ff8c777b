"""`tpforce analyze` on recordings: recompute each one's holds and points (with what-if
settings if given) and print them per hold or per point, with a progress bar on stderr."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import glob
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tpforce.cli import UserError
from tpforce.core.events import Input, InputKind
from tpforce.io.recorder import SUFFIX, RecordingError, RecordingReader


def is_recording(path: str) -> bool:
    """A recording folder (by its files or its suffix)."""
    p = Path(path)
    return p.suffix == SUFFIX or (p / "context.json").exists() or (p / "meta.json").exists()


def expand(patterns: list[str]) -> list[str]:
    """Paths, with globs expanded (sorted); a glob that matches nothing is an error."""
    out: list[str] = []
    for pat in patterns:
        if any(c in pat for c in "*?["):
            hits = sorted(glob.glob(pat))
            if not hits:
                raise UserError(f"{pat}: matches no file")
            out += hits
        else:
            out.append(pat)
    return out


def _progress(k: int, n: int, name: str) -> None:
    width = 24
    done = int(width * k / n) if n else width
    sys.stderr.write(f"\ranalyze [{'#' * done}{'.' * (width - done)}] {k}/{n} {name[-40:]:40}")
    if k == n:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def analyze_recording(path: str, args: argparse.Namespace) -> dict[str, Any]:
    """The holds and points of one recording, recomputed (RecordingError if unreadable)."""
    from tpforce.core.analysis import parse_band
    from tpforce.io.player import recompute_recording, settings_of

    reader = RecordingReader(path)
    cal, config, band = settings_of(reader)
    changes = {k: v for k, v in {"target_s": args.target, "grace_s": args.grace,
                                 "mode": args.hold_mode if args.hold_mode != "cumulative"
                                 else None}.items() if v is not None}
    if changes:
        config = dataclasses.replace(config, **changes)
    if args.band and args.threshold:
        band = parse_band(args.band, args.threshold)
    result = recompute_recording(reader, config, band, inputs=overridden(
        target=args.target is not None, grace=args.grace is not None, mode="mode" in changes,
        band=bool(args.band and args.threshold)))
    for w in reader.warnings:
        print(f"warning: {w}", file=sys.stderr)
    ctx = reader.context
    return {
        "file": str(path), "patient": ctx.get("patient", ""), "operator": ctx.get("operator", ""),
        "started": reader.doc.get("started", ""), "samples": reader.sample_count,
        "duration_s": reader.duration_s(), "hold_mode": config.mode,
        "target_s": config.target_s, "grace_s": config.grace_s,
        "holds": [h.to_dict() for h in result.holds],
        "points": _clean(result.session.summary(cal.tip_area_cm2)),
    }


def overridden(target: bool, grace: bool, mode: bool, band: bool
               ) -> Callable[[Input], Input | None]:
    """A filter that drops the recorded inputs a what-if setting replaces."""
    drop = {k for k, on in ((InputKind.TARGET, target), (InputKind.GRACE, grace),
                            (InputKind.HOLD_MODE, mode), (InputKind.BAND_CUSTOM, band),
                            (InputKind.BAND_PRESET, band)) if on}
    return lambda inp: None if inp.kind in drop else inp


HOLD_COLUMNS = ("index", "start_s", "end_s", "in_band_s", "in_band_pct", "completed",
                "ended_by", "mean_n", "cv", "excursions", "over_threshold_count")
POINT_COLUMNS = ("point", "phase", "ppt_before_n", "ppt_after_n", "change_n", "change_pct",
                 "change_kpa", "holds", "mdc", "mdc_source")


def run_recordings(paths: list[str], args: argparse.Namespace) -> int:
    """Analyze every recording; a bad one is reported in one line and makes the exit 2."""
    docs, failed = [], 0
    bar = len(paths) > 1 or sys.stderr.isatty()
    for k, path in enumerate(paths):
        if bar:
            _progress(k, len(paths), path)
        try:
            docs.append(analyze_recording(path, args))
        except RecordingError as exc:
            print(f"{chr(10) if bar else ''}tpforce analyze: {exc}", file=sys.stderr)
            failed += 1
    if bar:
        _progress(len(paths), len(paths), "")
    if args.json:
        print(json.dumps(docs, indent=2, allow_nan=False))
    elif args.csv:
        per_hold = args.per == "hold"
        cols = HOLD_COLUMNS if per_hold else POINT_COLUMNS
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(("file", "patient", *cols))
        for doc in docs:
            for row in doc["holds"] if per_hold else doc["points"]:
                out.writerow((doc["file"], doc["patient"], *(row.get(c) for c in cols)))
    else:
        for doc in docs:
            print(f"{doc['file']}: {doc['samples']} samples, {doc['duration_s']:.1f} s, "
                  f"{len(doc['holds'])} hold(s), {doc['hold_mode']}")
            for h in doc["holds"]:
                done = "completed" if h["completed"] else "not completed"
                print(f"  hold {h['index']}: {h['start_s']:.2f}-{h['end_s']:.2f} s, in band "
                      f"{h['in_band_s']:.1f} s, {done}, ended by {h['ended_by']}")
            for p in doc["points"]:
                print(f"  {p['point']}: PPT before {p['ppt_before_n']} N, after "
                      f"{p['ppt_after_n']} N, {p['mdc'] or 'not measured'}")
    return 2 if failed else 0
