"""`tpforce export FILE --csv | --edf`: a recording as a CSV that pandas and spreadsheets
open in one line (units in the header, a BIDS-physio-style JSON sidecar), or as EDF+ with
annotations for marks, holds, steps and alarms (resampled to a fixed rate; the patient field
holds only the pseudonym)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from tpforce.cli import UserError
from tpforce.core import events as ev
from tpforce.io.recorder import RecordingError, RecordingReader

CSV_COLUMNS = ("t_s", "force_n", "raw", "flags", "seq")
CSV_UNITS = ("s", "N", "counts", "bits", "1")
CSV_HEADER = ("time (s)", "force (N)", "raw (counts)", "flags", "seq")


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(name, help="export a recording as CSV (+ JSON sidecar) or EDF+",
                       description=__doc__)
    p.add_argument("file", metavar="FILE", help="a recording folder (*.tpfrec)")
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--csv", action="store_true", help="CSV with a JSON sidecar")
    kind.add_argument("--edf", action="store_true", help="EDF+ with annotations")
    p.add_argument("-o", "--output", type=Path, metavar="PATH",
                   help="where to write (default: next to the recording, .csv or .edf)")
    p.add_argument("--rate", type=float, metavar="HZ",
                   help="EDF sampling rate (default: the device's nominal rate)")
    p.set_defaults(run=run)


def nominal_rate(reader: RecordingReader, samples: np.ndarray) -> float:
    """The recording's sampling rate: the device's nominal one, else from the median step."""
    rate = float(reader.context.get("nominal_rate_sps") or 0.0)
    if rate > 0:
        return rate
    if len(samples) > 1:
        step = float(np.median(np.diff(samples["t_s"])))
        if step > 0:
            return 1.0 / step
    return 0.0


def write_csv(reader: RecordingReader, out: Path) -> Path:
    """Write the CSV and its sidecar (`out` with .json); returns the sidecar's path."""
    s = reader.samples()
    with open(out, "w", encoding="ascii", newline="\n") as f:
        f.write(",".join(CSV_HEADER) + "\n")
        chunk = 200_000
        for a in range(0, len(s), chunk):
            part = s[a:a + chunk]
            cols = np.column_stack([part["t_s"], part["force_n"], part["raw"],
                                    part["flags"], part["seq"]])
            np.savetxt(f, cols, fmt=("%.6f", "%.5f", "%d", "%d", "%d"), delimiter=",")
    ctx = reader.context
    sidecar = out.with_suffix(".json")
    doc: dict[str, Any] = {
        "SamplingFrequency": round(nominal_rate(reader, s), 6),
        "StartTime": float(s["t_s"][0]) if len(s) else 0.0,
        "Columns": list(CSV_COLUMNS),
        "Units": list(CSV_UNITS),
        **{c: {"Description": h, "Units": u}
           for c, h, u in zip(CSV_COLUMNS, CSV_HEADER, CSV_UNITS, strict=True)},
        "Manufacturer": "tpforce",
        "DeviceSerialNumber": ctx.get("probe_serial", ""),
        "SoftwareVersions": ctx.get("app_version", ""),
        "RecordingStartUnix": reader.doc.get("started_unix"),
        "Patient": ctx.get("patient", ""),
        "HeaderRows": 1,
    }
    sidecar.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return sidecar


def edf_annotations(events: list[tuple[int, ev.Event]], t0: float
                    ) -> list[tuple[float, float, str]]:
    """(onset s, duration s, text) for marks, holds, steps and alarms."""
    out: list[tuple[float, float, str]] = []
    started: dict[int, float] = {}
    for _, e in events:
        t = e.t_s - t0
        if isinstance(e, ev.ThresholdMarked):
            out.append((t, 0.0, f"PPT mark {e.ppt_n:.2f} N ({e.phase})"))
        elif isinstance(e, ev.ToleranceMarked):
            out.append((t, 0.0, f"tolerance mark {e.tolerance_n:.2f} N"))
        elif isinstance(e, ev.HoldStarted):
            started[e.index] = t
        elif isinstance(e, ev.HoldEnded):
            a = started.pop(e.index, t)
            done = "completed" if e.completed else "not completed"
            out.append((a, max(t - a, 0.0), f"hold {e.index} {done}, {e.in_band_s:.1f} s "
                                            f"in band, ended by {e.reason.value}"))
        elif isinstance(e, ev.PressureStep):
            out.append((t, 0.0, f"pressure step {e.from_ppt_n:.2f} -> {e.to_ppt_n:.2f} N"))
        elif isinstance(e, ev.OverThreshold) and not e.silent:
            out.append((t, 0.0, f"alarm over threshold {e.force_n:.2f} N "
                                f"({e.priority.name})"))
        elif isinstance(e, ev.SignalLost):
            out.append((t, 0.0, "signal lost"))
    return [(max(a, 0.0), d, text) for a, d, text in out]


def resampled(samples: np.ndarray, rate: float) -> tuple[np.ndarray, int]:
    """Force on a fixed grid from the first sample at `rate`; NaN gaps are held at the
    last good value (an annotation marks lost signal). Also how many grid points."""
    t = samples["t_s"]
    f = samples["force_n"]
    ok = np.isfinite(f)
    if not ok.any():
        raise UserError("the recording has no valid force values to export")
    # a grid point within a microsecond of the last sample is the last sample, not a
    # rounding error short of it (80 SPS times are not exact in binary)
    n = math.floor((t[-1] - t[0]) * rate + 1e-6) + 1
    grid = t[0] + np.arange(n) / rate
    return np.interp(grid, t[ok], f[ok]), n


def write_edf(reader: RecordingReader, out: Path, rate: float | None) -> None:
    """Write EDF+ with the force signal and the annotations."""
    try:
        import edfio
    except ImportError:
        raise UserError("EDF+ export needs edfio, which is not installed: "
                        "pip install 'tpforce[edf]'") from None

    s = reader.samples()
    if len(s) < 2:
        raise UserError(f"{reader.path}: too few samples to export as EDF")
    fs = float(rate or nominal_rate(reader, s))
    if not fs > 0:
        raise UserError("give --rate HZ: the recording does not say its sampling rate")
    force, n = resampled(s, fs)
    per_record = max(1, round(fs))  # one-second data records where fs is whole
    record_s = per_record / fs
    pad = (-n) % per_record
    force = np.concatenate([force, np.full(pad, force[-1])])
    lo, hi = float(np.floor(force.min())) - 1.0, float(np.ceil(force.max())) + 1.0
    ctx = reader.context
    start = dt.datetime.fromtimestamp(float(reader.doc.get("started_unix") or 0.0))
    patient = str(ctx.get("patient") or "X").replace(" ", "_")
    signal = edfio.EdfSignal(force, fs, label="Force", physical_dimension="N",
                             physical_range=(lo, hi), transducer_type="tpforce probe")
    edf = edfio.Edf(
        [signal],
        patient=edfio.Patient(code=patient),
        recording=edfio.Recording(startdate=start.date(),
                                  equipment_code=f"tpforce_{ctx.get('app_version', '')}",
                                  investigator_technician_code=str(
                                      ctx.get("operator") or "X").replace(" ", "_")),
        starttime=start.time().replace(microsecond=0),
        data_record_duration=record_s,
        annotations=[edfio.EdfAnnotation(a, d or None, text)
                     for a, d, text in edf_annotations(reader.events(), float(s["t_s"][0]))],
    )
    edf.write(out)


def run(args: argparse.Namespace) -> int:
    """Read the recording and write the export."""
    try:
        reader = RecordingReader(args.file)
        reader.events()
        n = reader.sample_count
    except RecordingError as exc:
        raise UserError(str(exc)) from None
    if n == 0:
        raise UserError(f"{args.file}: the recording holds no samples")
    for w in reader.warnings:
        print(f"warning: {w}", file=sys.stderr)
    src = Path(args.file)
    out = args.output or src.with_suffix(".csv" if args.csv else ".edf")
    try:
        if args.csv:
            sidecar = write_csv(reader, out)
            print(f"wrote {out} and {sidecar}")
        else:
            write_edf(reader, out, args.rate)
            print(f"wrote {out}")
    except OSError as exc:
        raise UserError(f"{out}: cannot write ({exc.strerror})") from None
    return 0
