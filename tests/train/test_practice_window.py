"""The Practice window on a real simulated pipeline: blind trials show nothing live and no
tone; the result comes afterwards."""

from __future__ import annotations

import argparse
import gc
from pathlib import Path
from typing import Any

import pytest

from tpforce.cli.train import open_drill
from tpforce.train.drill import drill_from_dict
from tpforce.train.schedule import PRACTICE, RETENTION

pytestmark = pytest.mark.gui


@pytest.mark.session_first
def test_blind_trial_hides_everything_and_shows_the_result_after(
        qtbot: Any, tmp_path: Path) -> None:
    from tpforce.ui.practice import PracticeWindow
    from tpforce.ui.sound import SoundPlayer

    drill = drill_from_dict({"target_n": 20, "band_pct": 10, "hold_s": 4, "rest_s": 2,
                             "trials": 2, "feedback": {"schedule": "faded", "start_share": 1.0,
                                                       "end_share": 0.0},
                             "retention": {"trials": 1}}, "w", "w")
    args = argparse.Namespace(port="sim", hand="trained", partner_ppt=25.0, seed=2,
                              surface="pad")
    run, pipeline = open_drill(args, drill, (PRACTICE, RETENTION), 4.0)
    player = SoundPlayer(folder=tmp_path / "sounds", enable_audio=False)
    win = PracticeWindow(run, player)
    qtbot.addWidget(win)
    win.show()
    seen: list[tuple[str, str, bool, bool, bool, int, str]] = []

    def record() -> None:
        d = run.display
        schedule = d.slot.schedule if d.slot is not None else ""
        seen.append((d.phase, schedule, win.readout.isVisible(), win.trace.isVisible(),
                     win.result_box.isVisible(), len(player.log), win.result_text.text()))

    win.timer.timeout.connect(record)
    try:
        qtbot.waitUntil(run.done.is_set, timeout=60_000)
    finally:
        pipeline.close()
        win.timer.stop()
    plan = [s.schedule for s in run.plan.slots]
    assert plan == ["faded", "blind", "blind"]  # faded 1 -> 0 over two trials
    live = [s for s in seen if s[0] == "go" and s[1] == "faded"]
    blind = [s for s in seen if s[0] == "go" and s[1] == "blind"]
    assert live and blind
    assert any(s[2] and s[3] for s in live)  # the number and trace show with feedback
    assert not any(s[2] or s[3] for s in blind)  # and never in a blind trial
    assert not win.readout.isVisible() or run.display.visible
    # No tone in a blind trial: the sound log does not grow during one.
    blind_idx = [i for i, s in enumerate(seen) if s[0] == "go" and s[1] == "blind"]
    assert all(seen[i][5] == seen[blind_idx[0]][5] for i in blind_idx)
    assert player.log  # the band-entry tone did play in the trial with feedback
    # After the blind practice trial its result (trace against band, scores) is shown.
    after = [s for s in seen if s[0] == "rest" and s[4] and "trial 2 (blind)" in s[6]]
    assert after and "in band" in after[0][6]
    win.close()
    gc.collect()  # Qt objects die here, in the GUI thread, not in a later test's thread


def test_train_without_headless_opens_the_window_and_keeps_the_scores(
        qapp: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tpforce.cli import main

    f = tmp_path / "d.json"
    f.write_text(json.dumps({"target_n": 20, "trials": 1, "hold_s": 3, "rest_s": 1,
                             "retention": {"trials": 0}}))
    db = str(tmp_path / "h.sqlite")
    assert main(["train", "--port", "sim", "--preset", str(f), "--speed", "10",
                 "--trainee", "tr-03", "--db", db, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["complete"] and [t["block"] for t in out["trials"]] == ["practice"]
    assert main(["train", "--progress", "tr-03", "--db", db]) == 0
    assert "practice" in capsys.readouterr().out
    gc.collect()
