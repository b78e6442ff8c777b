"""Offline analysis: score any force trace (time, force) with the live core's exact rules.

The trace goes through the same Tracker as live data, with the operator's inputs (if any)
applied at their times, so a file gives what the live display would have shown. Without
inputs the whole trace is treatment. `read_trace` reads the plain `t_s,force_n` format
other tools can write (and a `stream` CSV with its flags), `read_inputs` a `t_s,input,args`
CSV or JSONL; both report bad input by line.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tpforce.core.band import Band
from tpforce.core.events import BandWarning, Event, Input, InputKind, OverThreshold, Phase
from tpforce.core.metrics import HoldMetrics
from tpforce.core.replay import track
from tpforce.core.samples import batch_from_force
from tpforce.core.session import Session
from tpforce.core.tracker import HoldConfig, Tracker, band_warnings
from tpforce.core.units import KGF_N, LBF_N


class TraceError(ValueError):
    """The trace cannot be read; the message names the line."""


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """The holds found in a trace, and the events that found them."""

    band: Band | None
    config: HoldConfig
    samples: int
    duration_s: float
    holds: tuple[HoldMetrics, ...]
    events: tuple[Event, ...]
    session: Session | None = None
    tip_area_cm2: float = 1.0

    @property
    def over_threshold_count(self) -> int:
        """Sounded crossings above the alarm level over the whole trace (hysteresis as live;
        escalations of one crossing are not counted again; a trial ramp's silent crossing
        is no harm and is not counted)."""
        return sum(isinstance(e, OverThreshold) and not e.escalation and not e.silent
                   for e in self.events)

    @property
    def warnings(self) -> list[str]:
        """What the band warnings said (a band centre under contact, a narrow band)."""
        return list(dict.fromkeys(e.message for e in self.events
                                  if isinstance(e, BandWarning)))

    def to_dict(self) -> dict[str, object]:
        """The JSON document of `tpforce analyze --json` (docs/analysis.md)."""
        b, c = self.band, self.config
        return {
            "threshold_n": b.ppt_n if b else None,
            "band_n": [b.lo_n, b.hi_n] if b else None,
            "hold_mode": c.mode,
            "target_s": c.target_s,
            "grace_s": c.grace_s,
            "contact_n": c.contact_n,
            "filter_window_s": c.filter_window_s,
            "samples": self.samples,
            "duration_s": self.duration_s,
            "over_threshold_count": self.over_threshold_count,
            "warnings": self.warnings,
            "holds": [h.to_dict() for h in self.holds],
            "session": _clean(self.session.summary(self.tip_area_cm2)) if self.session else None,
        }


def _clean(value: object) -> object:
    """NaN and infinities become None, for strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def analyze(t_s: np.ndarray, force_n: np.ndarray, band: Band | None,
            config: HoldConfig | None = None, inputs: list[Input] | None = None,
            flags: np.ndarray | None = None) -> AnalysisResult:
    """Score a trace: every hold with its metrics; a hold still running at the end is STOPPED.

    Without inputs the whole trace is treatment; with them it starts in baseline trials
    and the inputs set the phases. `flags` (a `stream` CSV's) carry the patient's button,
    gaps and saturation as they were live.
    """
    cfg = config or HoldConfig()
    tracker = Tracker(cfg, band, phase=Phase.BASELINE if inputs else Phase.TREATMENT)
    batch = batch_from_force(t_s, force_n, flags)
    t0 = float(t_s[0]) if len(t_s) else 0.0
    events = band_warnings(band, cfg.contact_n, t0) if band is not None else []
    events += track(batch, inputs or [], tracker)
    duration = float(t_s[-1] - t_s[0]) if len(t_s) else 0.0
    return AnalysisResult(tracker.band or band, cfg, len(batch), duration,
                          tuple(tracker.holds), tuple(events), tracker.session)


def read_inputs(source: str | Path) -> list[Input]:
    """Operator inputs from a CSV (`t_s,input,args`, args as `key=value;key=value`) or
    JSONL (`{"t_s": 4.2, "input": "mark", "args": {"by": "key"}}`) file."""
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise TraceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    out: list[Input] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            if line.lstrip().startswith("{"):
                doc = json.loads(line)
                t, kind, args = float(doc["t_s"]), str(doc["input"]), dict(doc.get("args", {}))
            else:
                cells = next(csv.reader([line]))
                if lineno == 1 and cells and cells[0].strip().lower() in ("t_s", "time"):
                    continue
                t, kind = float(cells[0]), cells[1].strip()
                args = {}
                for pair in ";".join(cells[2:]).split(";"):
                    if pair.strip():
                        key, _, value = pair.partition("=")
                        args[key.strip()] = _value(value.strip())
            out.append(Input.make(InputKind.parse(kind), t, -1, **args))
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise TraceError(f"{path}, line {lineno}: not an input (t_s,input,args): "
                             f"{str(exc)[:60]}") from None
    return out


def _value(text: str) -> object:
    try:
        return float(text)
    except ValueError:
        return text


def parse_band(text: str | None, threshold_n: float, lo_frac: float = 0.75,
               hi_frac: float = 0.90) -> Band:
    """`LO:HI` in newtons, or `LO%:HI%` of the threshold; default 75-90 % of it. A band
    reaching above the threshold (the alarm level) is refused."""
    if text is None:
        return Band.relative(threshold_n, lo_frac, hi_frac)
    try:
        lo_text, hi_text = text.split(":")
        pct = lo_text.strip().endswith("%") or hi_text.strip().endswith("%")
        lo = float(lo_text.strip().rstrip("%"))
        hi = float(hi_text.strip().rstrip("%"))
    except ValueError:
        raise ValueError(f"band must be LO:HI in N or LO%:HI% of the threshold, not {text!r}"
                         ) from None
    if pct:
        lo, hi = threshold_n * lo / 100.0, threshold_n * hi / 100.0
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"band low must not exceed band high: {text!r}")
    if hi > threshold_n:
        raise ValueError(f"band {text} reaches above the threshold {threshold_n:g} N, the "
                         "alarm level; use a band below it, e.g. --band 75%:90%")
    return Band(lo, hi, threshold_n)


TIME_UNITS = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "min": 60.0}
FORCE_UNITS = {"n": 1.0, "kn": 1000.0, "mn": 1e-3, "kgf": KGF_N, "kg": KGF_N, "gf": KGF_N / 1000,
               "g": KGF_N / 1000, "lbf": LBF_N, "lb": LBF_N, "lbs": LBF_N}
_TIME_NAMES = ("t_s", "t", "time", "timestamp", "elapsed", "zeit", "temps", "tiempo")
_FORCE_NAMES = ("force_n", "force", "f", "load", "kraft", "value", "reading")
_STREAM_COLUMNS = ("t_host_s", "t_s", "seq", "raw", "force_n", "flags")  # `tpforce stream`


def _split_name(cell: str) -> tuple[str, str | None]:
    """'Force (kgf)' -> ('force', 'kgf'); 't_ms' -> ('t', 'ms'); 'time' -> ('time', None)."""
    text = cell.strip().strip('"').strip()
    m = re.fullmatch(r"(.*?)\s*[\(\[]\s*([^\)\]]*)\s*[\)\]]\s*", text)
    if m:
        return m.group(1).strip().lower(), m.group(2).strip()
    low = text.lower()
    if low in _TIME_NAMES or low in _FORCE_NAMES or low in _STREAM_COLUMNS:
        return low, None
    m = re.fullmatch(r"(.*?)[_ ]([a-zµ]+)", low)
    if m and (m.group(2) in TIME_UNITS or m.group(2) in FORCE_UNITS):
        return m.group(1), m.group(2)
    return low, None


def _scale(name: str, unit: str | None, table: dict[str, float], option: str | None,
           what: str, flag: str) -> float:
    if unit is None:
        unit = option
    elif option is not None and unit.lower() != option.lower():
        raise TraceError(f"column {name!r} says {unit}, but {flag} says {option}; "
                         f"drop {flag}")
    if unit is None:
        return 1.0
    key = unit.lower().replace(" ", "")
    if key not in table:
        raise TraceError(f"column {name!r}: unknown {what} unit {unit!r}; use one of "
                         f"{', '.join(sorted(table))} (or {flag})")
    return table[key]


def read_trace_csv(source: str | Path | io.TextIOBase, time_unit: str | None = None,
                   unit: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Times (s) and forces (N) of a CSV trace (`read_trace` without the flags)."""
    t, f, _ = read_trace(source, time_unit, unit)
    return t, f


def read_trace(source: str | Path | io.TextIOBase, time_unit: str | None = None,
               unit: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Times (s) and forces (N) from a CSV trace, read by its header where it has one.

    Columns are found by name (`t_s`/`time`, `force_n`/`force`), with units in the header
    (`Time (ms)`, `Force (kgf)`, `t_ms`); `time_unit`/`unit` apply where it says nothing.
    Without a header, two columns are time and force and six are tpforce's `stream` CSV.
    The delimiter (`,` `;` tab) and a decimal comma are sniffed; `#` lines are comments.
    Empty force cells and 'nan' are unknown samples. The flags of a `stream` CSV (button,
    gaps, saturation) are returned too, else None. Raises TraceError naming the line or the
    column it cannot place.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise TraceError(f"{path}: cannot read: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise TraceError(f"{path}: not a text file") from None
        name = str(path)
    else:
        text, name = source.read(), "<input>"
    lines = [(i, line) for i, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise TraceError(f"{name}: no samples (expected lines of t_s,force_n)")
    sample = "\n".join(line for _, line in lines[:20])
    delim = "\t" if "\t" in sample else ";" if ";" in sample else ","
    decimal_comma = delim != "," and re.search(r"\d,\d", sample) is not None
    rows = [(i, [c.strip() for c in row]) for i, row in
            ((i, next(csv.reader([line], delimiter=delim))) for i, line in lines)]
    first = rows[0][1]
    ti, fi, t_scale, f_scale = 0, 1, 1.0, 1.0
    gi: int | None = None  # the flags column of a `stream` CSV
    if not _numbers(first, decimal_comma):
        names = [_split_name(c) for c in first]
        bare = [n for n, _ in names]
        if tuple(bare[:6]) == _STREAM_COLUMNS:
            ti, fi, gi = 1, 4, 5
        else:
            ti_opt = next((i for i, n in enumerate(bare) if n in _TIME_NAMES), None)
            fi_opt = next((i for i, n in enumerate(bare) if n in _FORCE_NAMES), None)
            if ti_opt is None or fi_opt is None:
                what = "time" if ti_opt is None else "force"
                raise TraceError(f"{name}, line {rows[0][0]}: cannot place a {what} column "
                                 f"among {', '.join(repr(c) for c in first)}; name it "
                                 f"{'t_s' if what == 'time' else 'force_n'}")
            ti, fi = ti_opt, fi_opt
        t_scale = _scale(first[ti], names[ti][1], TIME_UNITS, time_unit, "time", "--time-unit")
        f_scale = _scale(first[fi], names[fi][1], FORCE_UNITS, unit, "force", "--unit")
        rows = rows[1:]
    else:
        if len(first) == len(_STREAM_COLUMNS):
            ti, fi, gi = 1, 4, 5
        elif len(first) != 2:
            raise TraceError(f"{name}, line {rows[0][0]}: {len(first)} columns and no header; "
                             "cannot tell time from force (add a header t_s,force_n)")
        t_scale = _scale("column 1", None, TIME_UNITS, time_unit, "time", "--time-unit")
        f_scale = _scale("column 2", None, FORCE_UNITS, unit, "force", "--unit")
    times: list[float] = []
    forces: list[float] = []
    flags: list[int] = []
    need = max(ti, fi, -1 if gi is None else gi) + 1
    for lineno, row in rows:
        if len(row) < need:
            raise TraceError(f"{name}, line {lineno}: expected {need} columns, found {len(row)}")
        try:
            t = _num(row[ti], decimal_comma) * t_scale
            f = _num(row[fi], decimal_comma) * f_scale if row[fi] else math.nan
            if gi is not None:
                flags.append(int(row[gi]))
        except ValueError:
            raise TraceError(f"{name}, line {lineno}: not a number: "
                             f"{delim.join(row)[:60]!r}") from None
        if not math.isfinite(t):
            raise TraceError(f"{name}, line {lineno}: time is not a finite number")
        if times and t <= times[-1]:
            raise TraceError(f"{name}, line {lineno}: time {t:g} s does not increase "
                             f"(previous {times[-1]:g} s)")
        times.append(t)
        forces.append(f)
    if not times:
        raise TraceError(f"{name}: no samples (expected lines of t_s,force_n)")
    return (np.array(times), np.array(forces),
            np.array(flags, dtype=np.uint16) if gi is not None else None)


def _num(cell: str, decimal_comma: bool) -> float:
    return float(cell.replace(",", ".") if decimal_comma else cell)


def _numbers(row: list[str], decimal_comma: bool) -> bool:
    try:
        for cell in row[:2]:
            _num(cell, decimal_comma)
    except ValueError:
        return False
    return True
