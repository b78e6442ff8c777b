"""`tpforce history PATIENT` with 10,000 visits in the store.

Two SQLite stores in a temporary folder, each of 10,000 visits with two points (three PPT
trials before, two after) and a hold with six metrics: a clinic's (500 patients of 20 visits;
one patient is shown) and the worst case (all 10,000 visits are the one patient's, so the
table has 10,000 lines). Timed in-process: the whole command (parse, open, schema check, the
query, the table printed into a buffer) and `--json`. The baseline, in the same run: a
plain `sqlite3` connection reading the same rows (visits and points joined) and a bare
`SELECT 1` round trip. For the worst case, where the time goes: the view's one read
(`patient_view`) against the per-table reads it replaced (`visit_dates` + `ppt_rows`), and
the text table alone. With TPFORCE_BENCH_PG_URL=postgresql://... the clinic case is
timed on that server as well.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import sqlite3
import tempfile
from pathlib import Path

from benchmarks.common import median_time
from tpforce.cli import main
from tpforce.history.record import PointRecord, VisitRecord
from tpforce.history.store import HistoryStore
from tpforce.history.views import PatientHistory

PATIENT = "P-BENCH"
VISITS = 10_000


def visits(patient: str, n: int, first_day: int = 0) -> list[VisitRecord]:
    """`n` daily visits of one patient, with two points, five trials and one hold each."""
    start = dt.datetime(2000, 1, 1, 9, 0) + dt.timedelta(days=first_day)
    out = []
    for i in range(n):
        points = [PointRecord(site, side, [18.0 + k + i % 7, 19.0 + k, 20.0 + k],
                              [22.0 + k, 23.0 + k], verdict="beyond_mdc",
                              holds=[{"in_band_s": 30.0, "target_s": 30.0, "completed": True,
                                      "pct_in_band": 92.5, "cv": 0.04, "excursions": 2}])
                  for k, (site, side) in enumerate((("upper trapezius", "R"),
                                                    ("infraspinatus", "L")))]
        out.append(VisitRecord(patient, start + dt.timedelta(days=i), "op1", None, points))
    return out


def clinic(patients: int = 500) -> list[VisitRecord]:
    """VISITS visits spread over `patients` patients; PATIENT is one of them."""
    each = VISITS // patients
    names = [PATIENT] + [f"P-{k:04d}" for k in range(1, patients)]
    return [v for k, name in enumerate(names) for v in visits(name, each, k)]


def command(argv: list[str]) -> str:
    """Run `tpforce ...` in this process; its standard output."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        if main(argv) != 0:
            raise RuntimeError(f"tpforce {' '.join(argv)} failed")
    return buf.getvalue()


def plain_rows(path: Path, patient: str = PATIENT) -> int:
    """Baseline: the same rows through a bare sqlite3 connection."""
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT v.visited_at, v.operator, p.site, p.side, p.ppt_before_n, p.ppt_after_n,"
        " p.change_n FROM patients pa JOIN visits v ON v.patient_id = pa.id"
        " JOIN points p ON p.visit_id = v.id WHERE pa.pseudonym = ?"
        " ORDER BY v.visited_at, p.ordinal", (patient,)).fetchall()
    conn.close()
    return len(rows)


def select_one(path: Path) -> None:
    """Baseline: connect and one `SELECT 1`."""
    conn = sqlite3.connect(path)
    conn.execute("SELECT 1").fetchall()
    conn.close()


def _parts(path: Path, base: float, repeats: int) -> list[str]:
    """Where the worst case's time goes, each against the same baseline."""
    from tpforce.cli.history import format_table

    with HistoryStore.open(str(path), create=False) as store:
        view = median_time(lambda: store.patient_view(PATIENT), repeats)
        old = median_time(lambda: (store.visit_dates(PATIENT), store.ppt_rows(PATIENT)),
                          repeats)
        h = PatientHistory.load(store, PATIENT)
    table = median_time(lambda: format_table(h), repeats)
    return [f"| one patient: the view's read, `patient_view` | {view * 1e3:.1f} | "
            f"{view / base:.1f}x |",
            f"| one patient: the per-table reads it replaced, `visit_dates` + `ppt_rows` | "
            f"{old * 1e3:.1f} | {old / base:.1f}x |",
            f"| one patient: the text table from the rows, `format_table` | {table * 1e3:.1f} | "
            f"{table / base:.1f}x |"]


def _case(name: str, records: list[VisitRecord], repeats: int, tmp: Path) -> list[str]:
    path = tmp / f"{name}.sqlite3"
    with HistoryStore.open(str(path)) as store:
        store.index_visits(records)
    argv = ["history", PATIENT, "--db", str(path)]
    shown = sum(1 for v in records if v.patient == PATIENT)
    assert command(argv).count("\n") >= shown + 2
    assert plain_rows(path) == 2 * shown
    base = median_time(lambda: plain_rows(path), repeats)
    one = median_time(lambda: select_one(path), repeats)
    cmd = median_time(lambda: command(argv), repeats)
    js = median_time(lambda: command([*argv, "--json"]), repeats)
    parts = _parts(path, base, repeats) if shown == VISITS else []
    return [f"| {name}: `tpforce history {PATIENT}` ({shown} visits shown) | {cmd * 1e3:.1f} | "
            f"{cmd / base:.1f}x |",
            f"| {name}: `tpforce history {PATIENT} --json` | {js * 1e3:.1f} | {js / base:.1f}x |",
            f"| {name}: baseline, plain sqlite3 query of the same rows | {base * 1e3:.2f} | "
            "1.0x |",
            f"| {name}: baseline, connect + `SELECT 1` | {one * 1e3:.2f} | {one / base:.2f}x |",
            *parts]


def run(quick: bool = False) -> list[str]:
    """Fill the stores, time the command against the baselines; Markdown table rows."""
    repeats = 3 if quick else 9
    lines = ["| store of 10,000 visits | median, ms | ratio to the plain query |",
             "|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        lines += _case("clinic", clinic(), repeats, Path(tmp))
        lines += _case("one patient", visits(PATIENT, VISITS), repeats, Path(tmp))
    pg_url = os.environ.get("TPFORCE_BENCH_PG_URL")
    if pg_url:
        with HistoryStore.open(pg_url) as store:
            if PATIENT not in store.patients():
                store.index_visits(clinic())
        argv = ["history", PATIENT, "--db", pg_url]
        cmd = median_time(lambda: command(argv), repeats)
        lines.append(f"| clinic on PostgreSQL: `tpforce history {PATIENT}` | {cmd * 1e3:.1f} "
                     "| - |")
    return lines
