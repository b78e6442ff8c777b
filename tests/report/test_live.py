"""`save_report` at the end of a live session: from a kept session or its recording."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tpforce.report import ReportError
from tpforce.report.live import SessionKeeper, save_report
from tpforce.report.scripted import context, run_script
from tpforce.report.session import point_views

from .conftest import Recorded, need


def test_a_kept_live_session_saves_the_report_of_what_happened(tmp_path: Path) -> None:
    keeper = SessionKeeper()
    data, proc = run_script(consumers=[keeper])
    kept = keeper.session(context(pseudonym="P-0200"))
    np.testing.assert_array_equal(kept.samples["force_n"], data.samples["force_n"])
    assert [repr(e) for e in kept.events] == [repr(e) for e in data.events]
    out = save_report(keeper, tmp_path / "end.html", context(pseudonym="P-0200"))
    page = out.read_text()
    assert "P-0200" in page
    for view in point_views(kept):
        assert f"{view.point.outcome().ppt_after_n:.1f}" in page
    assert [p.trials_after_n for p in proc.session.points][-1] == \
        point_views(kept)[-1].point.trials_after_n
    with pytest.raises(ReportError, match="pseudonym"):
        save_report(keeper, tmp_path / "x.html", {"pseudonym": "Jane Doe"})
    with pytest.raises(ReportError, match=r"\.html or \.pdf"):
        save_report(keeper, tmp_path / "x.txt", context())


def test_a_recorded_session_saves_its_report_as_pdf(recorded: Recorded, tmp_path: Path) -> None:
    pdftotext = need("pdftotext", "poppler-utils")
    out = save_report(recorded.path, tmp_path / "end.pdf", {"operator": "therapist B"})
    text = subprocess.run([pdftotext, str(out), "-"], capture_output=True, text=True,
                          timeout=120, check=True).stdout
    assert "therapist B" in text and "P-0107" in text
