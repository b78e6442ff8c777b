"""A report of a 20-minute session: `tpforce report REC -o report.html|pdf`.

The session is the scripted one of `tpforce.report.scripted` (points of three trials, a
90 s hold with a pressure step, three after-trials), 20 minutes at 80 SPS, run through the
live Processor and recorded as a v1 recording folder. Timed in-process: the whole command
(read the recording, rebuild the points, draw every plot, write the file) for HTML and PDF,
and the HTML built from the session in memory. Baseline in the same run: writing the same
samples as CSV (`samples.csv` as the recorder writes it) and reading the recording back.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import median_time
from tpforce.cli import main
from tpforce.io.recorder import COLUMNS, Recorder
from tpforce.report.html import render
from tpforce.report.load import load_session
from tpforce.report.scripted import context, run_session, session_minutes
from tpforce.report.session import point_views

MINUTES = 20.0


def write_csv(s: np.ndarray, path: Path) -> None:
    """The baseline: the samples as the recorder's CSV rows, one batch per 8 samples."""
    rows = zip(s["t_s"].tolist(), s["t_host_s"].tolist(), s["seq"].tolist(),
               s["raw"].tolist(), s["force_n"].tolist(), s["flags"].tolist(), strict=True)
    text = "".join(f"{k // 8},{t!r},{h!r},{q},{r},{f!r},{g}\n"
                   for k, (t, h, q, r, f, g) in enumerate(rows))
    path.write_text(",".join(COLUMNS) + "\n" + text, encoding="ascii")


def command(argv: list[str]) -> None:
    """Run a tpforce command with its output swallowed; it must succeed."""
    with contextlib.redirect_stdout(io.StringIO()):
        if main(argv) != 0:
            raise RuntimeError(f"tpforce {' '.join(argv)} failed")


def run(quick: bool = False) -> list[str]:
    """Time the reports against the CSV baseline; Markdown rows."""
    repeats = 3 if quick else 7
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        rec = tmp / "session.tpfrec"
        recorder = Recorder(rec, meta=context())
        data = run_session(session_minutes(MINUTES), consumers=[recorder])
        n, span = len(data.samples), float(data.samples["t_s"][-1])
        holds = sum(len(v.holds) for v in point_views(data))
        base = median_time(lambda: write_csv(data.samples, tmp / "b.csv"), repeats)
        read = median_time(lambda: load_session(rec), repeats)
        memory = median_time(lambda: render([data]), repeats)
        html = median_time(lambda: command(["report", str(rec), "-o", str(tmp / "r.html")]),
                           repeats)
        pdf = median_time(lambda: command(["report", str(rec), "-o", str(tmp / "r.pdf")]),
                          repeats)
        size_html = (tmp / "r.html").stat().st_size / 1e6
        size_pdf = (tmp / "r.pdf").stat().st_size / 1e6
    rows = [f"session: {span / 60:.1f} min, {n} samples, {len(point_views(data))} points, "
            f"{holds} holds; medians of {repeats}",
            "", "| 20-minute session | median, s | ratio to writing the CSV |", "|---|---|---|",
            f"| `tpforce report REC -o report.html` ({size_html:.1f} MB) | {html:.2f} | "
            f"{html / base:.1f}x |",
            f"| `tpforce report REC -o report.pdf` ({size_pdf:.1f} MB) | {pdf:.2f} | "
            f"{pdf / base:.1f}x |",
            f"| HTML from the session in memory | {memory:.2f} | {memory / base:.1f}x |",
            f"| reading the v1 recording (`load_session`) | {read:.2f} | {read / base:.1f}x |",
            f"| baseline: writing the samples as CSV | {base:.2f} | 1.0x |"]
    return rows
