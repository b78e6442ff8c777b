"""Trainee progress in the history store: blocks by date, a retention block due later, CSV,
the SVG plot, and the command line."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tpforce.cli import main
from tpforce.history.trainees import progress_svg, record_session, write_csv

from .practice import DAY1, LATER, outcome, practice_then_retention


def test_retention_scheduled_for_a_later_day_and_shown_with_practice(tmp_path: Path) -> None:
    db = str(tmp_path / "h.sqlite")
    rows = practice_then_retention(db, "tr-01", 70.0, 55.0)
    out = tmp_path / "p.csv"
    write_csv(rows, out)
    table = list(csv.DictReader(out.open()))
    assert [r["block"] for r in table] == ["practice", "retention"]
    svg = ET.fromstring(progress_svg(rows, "tr-01"))
    circles = svg.findall(".//{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 2
    with pytest.raises(ValueError, match="an ID, not a name"):
        record_session(db, "Jane Doe", outcome({"practice": 1.0}), LATER, DAY1)


def test_cli_trainee_run_then_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    db = str(tmp_path / "h.sqlite")
    f = tmp_path / "d.json"
    f.write_text(json.dumps({"target_n": 20, "trials": 1, "hold_s": 4, "rest_s": 1,
                             "retention": {"trials": 1}}))
    assert main(["train", "--port", "sim", "--preset", str(f), "--headless", "--speed", "20",
                 "--trainee", "tr-02", "--db", db]) == 0
    assert "practice block" in capsys.readouterr().out
    plot, table = tmp_path / "p.svg", tmp_path / "p.csv"
    assert main(["train", "--progress", "tr-02", "--db", db, "--csv", str(table),
                 "--plot", str(plot)]) == 0
    text = capsys.readouterr().out
    assert "practice" in text and "retention" in text
    assert plot.read_text().startswith("<svg") and table.read_text().count("\n") == 3
    assert main(["train", "--progress", "nobody", "--db", db]) == 2
    assert "no practice kept for trainee 'nobody'" in capsys.readouterr().err
