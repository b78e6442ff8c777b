"""The simulated trainee through the real pipeline: skill levels order the scores, and blind
retention costs the novice most (the sag and misjudgement it cannot correct unseen)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tpforce.cli import main
from tpforce.cli.train import run_headless
from tpforce.train.drill import drill_from_dict
from tpforce.train.schedule import PRACTICE, RETENTION

DRILL = {"target_n": 20, "band_pct": 10, "hold_s": 12, "rest_s": 2, "trials": 3,
         "feedback": {"schedule": "concurrent"}, "retention": {"trials": 3}}


def _run(level: str, drill: dict[str, Any] = DRILL, seed: int = 3) -> dict[str, Any]:
    args = argparse.Namespace(port="sim", hand=level, partner_ppt=25.0, seed=seed,
                              speed=20.0, surface="pad")
    d = drill_from_dict(drill, "test", "test")
    return run_headless(args, d, (PRACTICE, RETENTION) if d.retention_trials else (PRACTICE,))


@pytest.fixture(scope="module")
def outcomes() -> dict[str, dict[str, Any]]:
    return {level: _run(level) for level in ("novice", "trained", "expert")}


def test_scores_order_by_skill_under_concurrent_feedback(
        outcomes: dict[str, dict[str, Any]]) -> None:
    p = {k: v["blocks"]["practice"] for k, v in outcomes.items()}
    assert all(v["complete"] for v in outcomes.values())
    assert p["novice"]["time_in_band_pct"] < p["trained"]["time_in_band_pct"] \
        <= p["expert"]["time_in_band_pct"]
    assert p["novice"]["rmse_n"] > p["trained"]["rmse_n"] > p["expert"]["rmse_n"]


def test_feedback_vs_blind_gap_is_largest_for_the_novice(
        outcomes: dict[str, dict[str, Any]]) -> None:
    gap = {k: v["blocks"]["retention"]["rmse_n"] - v["blocks"]["practice"]["rmse_n"]
           for k, v in outcomes.items()}
    assert gap["novice"] > gap["trained"] and gap["novice"] > gap["expert"]
    assert gap["novice"] > 0


def test_self_controlled_asks_are_logged_and_shown() -> None:
    out = _run("novice", {**DRILL, "trials": 2, "feedback": {"schedule": "self", "ask_s": 2},
                          "retention": {"trials": 0}})
    asks = out["asks"]
    assert len(asks) >= 4  # the novice asks about every 4 s of a 16 s trial
    assert {a["trial"] for a in asks} == {1, 2} and all(a["block"] == "practice" for a in asks)
    assert all(0 <= a["t_s"] <= 16 for a in asks)


def test_headless_json_from_the_command_line(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "short.json"
    f.write_text(json.dumps({**DRILL, "trials": 1, "hold_s": 5, "retention": {"trials": 1}}))
    assert main(["train", "--port", "sim", "--preset", str(f), "--hand", "expert",
                 "--headless", "--json", "--speed", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [t["block"] for t in out["trials"]] == ["practice", "retention"]
    assert [t["feedback"] for t in out["trials"]] == ["concurrent", "blind"]
    assert out["simulated_hand"] == "expert" and out["complete"]
    assert out["trials"][0]["time_in_band_pct"] > 50


def test_blind_rater_drill_measures_the_partner_and_scores_the_ramp() -> None:
    rater = {"kind": "ramp", "target_pct_ppt": 100, "ramp_n_per_s": 5.0, "band_pct": 20,
             "rest_s": 2, "trials": 3, "feedback": {"schedule": "blind"}}
    out = {level: _run(level, rater) for level in ("novice", "expert")}
    for o in out.values():
        assert o["complete"] and o["ppt_n"] == pytest.approx(25.0, abs=1.5)
        assert [t["feedback"] for t in o["trials"]] == ["blind"] * 3
    err = {k: v["blocks"]["practice"]["rate_abs_error_pct"] for k, v in out.items()}
    assert err["expert"] < err["novice"]
    assert out["expert"]["blocks"]["practice"]["ramp_rate_n_per_s"] == pytest.approx(5.0,
                                                                                    rel=0.2)


def test_a_lost_probe_ends_the_drill_keeping_the_trials_so_far() -> None:
    from tpforce.cli.train import open_drill

    d = drill_from_dict({**DRILL, "trials": 3, "hold_s": 3, "retention": {"trials": 0}},
                        "t", "t")
    args = argparse.Namespace(port="sim", hand="expert", partner_ppt=25.0, seed=1,
                              surface="pad")
    run, pipeline = open_drill(args, d, (PRACTICE,), 10.0)
    try:
        sim = pipeline.owned[0]
        deadline = time.monotonic() + 60
        while not run.results and time.monotonic() < deadline:
            run.wait_seen(run._now + 1.0, 1.0)
        assert run.results, "the first trial was never scored"
        sim.unplug(for_s=30.0)
        assert run.done.wait(30.0)
    finally:
        pipeline.close()
    out = run.outcome()
    assert not out["complete"] and "disconnected" in out["error"]
    assert 1 <= len(out["trials"]) < 3
