"""Drill files: the shipped presets load; a bad file is one line that says what to fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tpforce.cli import main
from tpforce.train.drill import DrillError, load_drill, preset_names


def test_shipped_presets_load() -> None:
    names = preset_names()
    assert {"hold-20n", "hold-40n", "ramp-5nps", "rater-blind"} <= set(names)
    d = load_drill("hold-40n")
    assert (d.target_n, d.band_pct, d.hold_s) == (40.0, 5.0, 30.0)
    assert d.band_for(40.0) == (38.0, 42.0)
    r = load_drill("rater-blind")
    assert r.kind == "ramp" and r.feedback.schedule == "blind" and r.needs_ppt


@pytest.mark.parametrize(("content", "says"), [
    ("{not json", "not valid JSON"),
    ('{"target_n": 20, "target_pct_ppt": 80}', "exactly one of"),
    ('{"target_n": -3}', "'target_n' must be above 0"),
    ('{"target_n": 20, "feedback": {"schedule": "sometimes"}}', "must be one of"),
    ('{"target_n": 20, "trials": 2.5}', "'trials' must be a whole number"),
    ('{"target_n": 20, "colour": "red"}', "unknown field 'colour'"),
    ("[1, 2]", "one JSON object"),
])
def test_bad_drill_file_is_one_line(tmp_path: Path, content: str, says: str) -> None:
    p = tmp_path / "mine.json"
    p.write_text(content)
    with pytest.raises(DrillError, match=says) as exc:
        load_drill(str(p))
    assert "\n" not in str(exc.value)


def test_cli_bad_preset_exits_2_with_one_line(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({"target_n": 20, "band_pct": "wide"}))
    assert main(["train", "--port", "sim", "--preset", str(p), "--headless"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'band_pct' must be a number" in err
    assert main(["train", "--port", "sim", "--preset", "nosuch", "--headless"]) == 2
    assert "no preset named 'nosuch'" in capsys.readouterr().err
