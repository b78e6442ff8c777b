"""Trainee history in the same store as patient history: trainee IDs, never patients.

Two tables, created on first use beside the patient schema (which they do not touch):
`trainees` (an ID the instructor chooses) and `trainee_blocks` (one row per block run: the
drill, its schedule, the surface, the date, the block summary as JSON; a retention block
scheduled for a later day is a row with `due_on` and no scores until it is run).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from tpforce.history.store import HistoryError, HistoryStore

_TABLES = (
    "CREATE TABLE IF NOT EXISTS trainees (id {id}, trainee TEXT NOT NULL UNIQUE)",
    "CREATE TABLE IF NOT EXISTS trainee_blocks (id {id},"
    " trainee_id BIGINT NOT NULL REFERENCES trainees(id) ON DELETE CASCADE,"
    " drill TEXT NOT NULL, schedule TEXT NOT NULL, block TEXT NOT NULL,"
    " surface TEXT NOT NULL, run_on TEXT, due_on TEXT, summary TEXT)",
)
_ID = {"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",
       "postgresql": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"}
_TRAINEE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
COLUMNS = ("run_on", "drill", "schedule", "block", "surface", "trials", "time_in_band_pct",
           "rmse_n", "cv_pct", "ramp_rate_n_per_s", "rate_abs_error_pct",
           "rate_consistency_cv_pct", "due_on")


def check_trainee(trainee: str) -> str:
    """A trainee ID: letters, digits, '_', '.', '-', up to 40 (never a patient's name)."""
    if not _TRAINEE_RE.match(trainee):
        raise ValueError(f"trainee ID {trainee!r} must be 1-40 letters, digits, '_', '.' or "
                         "'-' (an ID, not a name)")
    return trainee


def _ensure(store: HistoryStore) -> None:
    with store._transaction():
        for stmt in _TABLES:
            store._exec(stmt.format(id=_ID[store.engine]))


def _trainee_id(store: HistoryStore, trainee: str) -> int:
    store._exec("INSERT INTO trainees (trainee) VALUES (?) ON CONFLICT (trainee) DO NOTHING",
                (trainee,))
    return int(store._rows("SELECT id FROM trainees WHERE trainee = ?", (trainee,))[0][0])


def record_session(url: str | None, trainee: str, outcome: dict[str, Any], drill: Any,
                   today: dt.date) -> str | None:
    """Store each block's summary; schedule the retention block when the drill puts it on a
    later day (returns that date, ISO) or fill a retention block that was due."""
    check_trainee(trainee)
    with HistoryStore.open(url) as store:
        _ensure(store)
        due: str | None = None
        with store._transaction():
            tid = _trainee_id(store, trainee)
            for block, summary in outcome["blocks"].items():
                filled = False
                if block == "retention":
                    rows = store._rows(
                        "SELECT id FROM trainee_blocks WHERE trainee_id = ? AND drill = ?"
                        " AND block = 'retention' AND summary IS NULL ORDER BY due_on LIMIT 1",
                        (tid, outcome["drill"]))
                    if rows:
                        store._exec("UPDATE trainee_blocks SET run_on = ?, summary = ?,"
                                    " surface = ? WHERE id = ?",
                                    (today.isoformat(), json.dumps(summary),
                                     outcome["surface"], rows[0][0]))
                        filled = True
                if not filled:
                    store._exec("INSERT INTO trainee_blocks (trainee_id, drill, schedule, block,"
                                " surface, run_on, summary) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                (tid, outcome["drill"], outcome["schedule"], block,
                                 outcome["surface"], today.isoformat(), json.dumps(summary)))
            if ("retention" not in outcome["blocks"] and drill.retention_trials
                    and drill.retention_after_days > 0):
                due = (today + dt.timedelta(days=drill.retention_after_days)).isoformat()
                store._exec("INSERT INTO trainee_blocks (trainee_id, drill, schedule, block,"
                            " surface, due_on) VALUES (?, ?, ?, 'retention', ?, ?)",
                            (tid, outcome["drill"], outcome["schedule"], outcome["surface"],
                             due))
        return due


def progress(url: str | None, trainee: str) -> list[dict[str, Any]]:
    """The trainee's blocks in date order, one flat row each (see COLUMNS)."""
    check_trainee(trainee)
    with HistoryStore.open(url, create=False) as store:
        _ensure(store)
        with store._errors():
            rows = store._rows(
                "SELECT b.run_on, b.drill, b.schedule, b.block, b.surface, b.summary, b.due_on"
                " FROM trainee_blocks b JOIN trainees t ON t.id = b.trainee_id"
                " WHERE t.trainee = ? ORDER BY COALESCE(b.run_on, b.due_on), b.id", (trainee,))
    if not rows:
        raise HistoryError(f"no practice kept for trainee {trainee!r}: run a drill with "
                           f"'tpforce train --trainee {trainee} ...'")
    out = []
    for run_on, drill, schedule, block, surface, summary, due_on in rows:
        s = json.loads(summary) if summary else {}
        out.append({"run_on": run_on or "", "drill": drill, "schedule": schedule,
                    "block": block, "surface": surface, "trials": s.get("trials"),
                    **{k: s.get(k) for k in COLUMNS[6:12]}, "due_on": due_on or ""})
    return out


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """The progress rows as CSV (one header line, then a row per block)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if r.get(k) is None else r[k] for k in COLUMNS})


def progress_svg(rows: list[dict[str, Any]], trainee: str) -> str:
    """Per drill and schedule, the block score across sessions (practice and retention as
    separate lines): time in band % for holds, rate error % for ramps. Plain SVG."""
    done = [r for r in rows if r["run_on"]]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in done:
        groups.setdefault((r["drill"], r["schedule"]), []).append(r)
    w, ph, pad = 640, 220, 50
    h = max(len(groups), 1) * (ph + 40) + 40
    colours = {"practice": "#1f77b4", "retention": "#d62728"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<text x="{pad}" y="22" font-size="15">Progress of trainee {trainee}</text>']
    for gi, ((drill, schedule), rs) in enumerate(sorted(groups.items())):
        top = 40 + gi * (ph + 40)
        ramp = any(r["rate_abs_error_pct"] is not None for r in rs)
        key, label, vmax = (("rate_abs_error_pct", "rate error % (lower is better)", None)
                            if ramp else ("time_in_band_pct", "time in band %", 100.0))
        dates = sorted({r["run_on"] for r in rs})
        vals = [r[key] for r in rs if r[key] is not None]
        top_v = vmax if vmax is not None else max([*vals, 10.0]) * 1.15
        x0, x1, y0, y1 = pad, w - 20, top + 20, top + ph - 20

        def xy(date: str, v: float, x0: float = x0, x1: float = x1, y0: float = y0,
               y1: float = y1, top_v: float = top_v, dates: list[str] = dates
               ) -> tuple[float, float]:
            i = dates.index(date)
            x = x0 + (x1 - x0) * (i + 0.5) / len(dates)
            return x, y1 - (y1 - y0) * min(v / top_v, 1.0)

        parts.append(f'<text x="{x0}" y="{top + 12}" font-size="13">{drill} '
                     f'({schedule} feedback): {label}</text>')
        parts.append(f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" '
                     'fill="none" stroke="#999"/>')
        for frac in (0.0, 0.5, 1.0):
            y = y1 - (y1 - y0) * frac
            parts.append(f'<text x="{x0 - 6}" y="{y + 4}" text-anchor="end">'
                         f'{top_v * frac:.0f}</text>')
        for d in dates:
            x, _ = xy(d, 0.0)
            parts.append(f'<text x="{x}" y="{y1 + 14}" text-anchor="middle">{d}</text>')
        for block, colour in colours.items():
            pts = [xy(r["run_on"], r[key]) for r in rs
                   if r["block"] == block and r[key] is not None]
            if not pts:
                continue
            if len(pts) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                             'stroke-width="2"/>')
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
                      for x, y in pts]
        for i, (block, colour) in enumerate(colours.items()):
            lx = x1 - 170 + i * 85
            parts.append(f'<rect x="{lx}" y="{top + 3}" width="10" height="10" '
                         f'fill="{colour}"/><text x="{lx + 14}" y="{top + 12}">{block}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
