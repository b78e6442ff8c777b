"""The HTML report in a real headless Chromium, the PDF through poppler: both hold the
session's values, show the plots, and name the patient by pseudonym only."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from PyQt5.QtGui import QColor, QImage

from tpforce.report import ReportError, SessionData, write_report
from tpforce.report.html import render
from tpforce.report.session import point_views

from .browser import chromium
from .conftest import Recorded, need

TRACE = QColor("#1f4e99")  # the force trace's colour in every plot
BAND = QColor("#d2ebd8")  # the band shading as it lands on white


def _expected(data: SessionData) -> list[str]:
    """The numbers a reader must find: each point's trials, PPT means, change, hold time."""
    out = []
    for v in point_views(data):
        o = v.point.outcome()
        out += [f"{t:.1f}" for t in v.point.trials_before_n + v.point.trials_after_n]
        out += [f"{o.ppt_before_n:.1f}", f"{o.ppt_after_n:.1f}", f"{o.change_n:+.1f}"]
        out += [f"{h.metrics.in_band_s:.1f}" for h in v.holds]
    return out


def _pixels_like(image: QImage, colour: QColor, tol: int = 40, step: int = 2) -> int:
    """How many sampled pixels are near `colour` (proves a plot was drawn, not a blank)."""
    n = 0
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            c = QColor(image.pixel(x, y))
            if (abs(c.red() - colour.red()) + abs(c.green() - colour.green())
                    + abs(c.blue() - colour.blue())) < tol:
                n += 1
    return n


def test_the_html_is_self_contained_and_names_no_one(recorded: Recorded) -> None:
    data = SessionData(recorded.data.samples, recorded.data.events,
                       {**recorded.data.context, "name": "Jane Doe",
                        "patient_name": "Jane Doe"}, "")
    page = render([data])
    assert "Jane" not in page and "P-0107" in page
    assert "<script" not in page.lower()
    assert not re.search(r"(src|href)=\"(?!data:)", page)  # every picture is inline
    assert "http://" not in page and "https://" not in page
    for text in ("TPF-0042", "calibration/records/TPF-0042.json", "2026-02-20T14:05:00Z",
                 "therapist A", "upper trapezius, right", "levator scapulae, left",
                 "PPT rose beyond the detectable change", "high priority, escalated"):
        assert text in page
    for value in _expected(data):
        assert value in page
    with pytest.raises(ReportError, match="pseudonym"):
        render([SessionData(data.samples, data.events, {**data.context,
                                                        "pseudonym": "Jane Doe"})])


def test_html_report_renders_in_headless_chromium(recorded: Recorded, tmp_path: Path,
                                                  output_dir: Path) -> None:
    page = tmp_path / "report.html"
    write_report([recorded.data], page)
    assert page.stat().st_mode & 0o777 == 0o600
    shot = output_dir / "report-html.png"
    shot.unlink(missing_ok=True)
    done = chromium(["--window-size=900,2600", "--hide-scrollbars", f"--screenshot={shot}",
                     page.as_uri()], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.is_file() and shot.stat().st_size > 50_000
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (900, 2600)
    assert _pixels_like(image, TRACE) > 500  # the inline plots were decoded and drawn
    dom = chromium(["--dump-dom", page.as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "tpforce session report" in dom.stdout
    text = re.sub(r"<[^>]+>", " ", dom.stdout)
    for value in _expected(recorded.data):
        assert value in text
    assert dom.stdout.count("<img") == 1 + sum(len(v.holds) for v in
                                               point_views(recorded.data))


def test_pdf_report_turns_into_pages_that_hold_the_values(recorded: Recorded, tmp_path: Path,
                                                          output_dir: Path) -> None:
    pdftoppm = need("pdftoppm", "poppler-utils")
    pdftotext = need("pdftotext", "poppler-utils")
    pdf = tmp_path / "report.pdf"
    write_report([recorded.data], pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    done = subprocess.run([pdftoppm, "-r", "100", "-png", str(pdf), str(output_dir / "page")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    pages = sorted(output_dir.glob("page*.png"))
    assert len(pages) >= 2
    drawn = sum(_pixels_like(QImage(str(p)), TRACE, tol=90) for p in pages)
    assert drawn > 200  # the plots are on the pages
    assert sum(_pixels_like(QImage(str(p)), BAND, tol=30) for p in pages) > 100
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True,
                          text=True, timeout=120, check=True).stdout
    for value in _expected(recorded.data):
        assert value in text
    for words in ("P-0107", "TPF-0042", "2026-02-20T14:05:00Z", "upper trapezius, right"):
        assert words in text


def test_signal_events_and_an_empty_session_are_reported(tmp_path: Path) -> None:
    import numpy as np

    from tpforce.core import events as ev
    from tpforce.core.samples import empty_batch

    batch = empty_batch(200)
    batch["t_s"] = np.arange(200) / 20
    batch["force_n"][100:] = 5.0  # the first half is unknown (NaN): drawn as a gap
    lost = SessionData(batch, [ev.SignalLost(3.0), ev.SignalRestored(4.5, 1.5),
                               ev.FramesLost(6.0, 12)], {"pseudonym": "P-2"})
    page = render([lost])
    assert "signal lost" in page and "signal back after 1.5 s" in page
    assert "12 frame(s) lost" in page and "no hold on this point" in page
    empty = SessionData(empty_batch(0), [], {"pseudonym": "P-3"})
    for name in ("e.html", "e.pdf"):
        assert write_report([empty], tmp_path / name).stat().st_size > 1000
    assert "date</th><td>unknown" in render([empty])
