"""Inputs are data: the live command path and a recompute from samples + inputs agree."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tpforce.cli import main
from tpforce.core.calibration import Calibration
from tpforce.core.events import Input, InputKind, InputRefused, Tared
from tpforce.core.processor import Processor
from tpforce.core.replay import Collector, recompute
from tpforce.core.samples import SampleFlag, empty_batch
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.io.recorder import event_from_dict, event_to_dict

from . import scripted

CAL = Calibration(0.0, 0.001)


def _raw(batch: np.ndarray, offset_n: float = 0.0) -> np.ndarray:
    raw = empty_batch(len(batch))
    raw["t_s"] = batch["t_s"]
    raw["flags"] = batch["flags"]
    raw["raw"] = np.rint((batch["force_n"] + offset_n) * 1000).astype(np.int32)
    return raw


def test_live_commands_and_recompute_from_samples_and_inputs_give_the_same_events() -> None:
    session, treated_s = scripted.session(20.0, 5.0, 22.0)
    raw = _raw(session, offset_n=0.4)  # the probe reads 0.4 N at rest until tared
    sink = Collector()
    proc = Processor(CAL, Tracker(HoldConfig(trials=4)), [sink])
    rng = np.random.default_rng(7)
    commands = {0.5: lambda: proc.tare(), 4.0: lambda: proc.tare(),  # at rest; then loaded
                20.0: lambda: proc.mark_threshold("key"),
                22.0: lambda: proc.next_phase(), 50.0: lambda: proc.toggle_hold(),
                treated_s: lambda: proc.set_phase("after"),
                treated_s + 1: lambda: proc.delete_trial(1),
                treated_s + 2: lambda: proc.set_band_custom(70, 85, "%")}
    pending = sorted(commands)
    pos = 0
    while pos < len(raw):
        n = int(rng.integers(1, 30)) if pos < 400 else int(rng.integers(1, 400))
        proc.on_batch(raw[pos:pos + n].copy())
        pos += n
        while pending and pending[0] <= proc.state.t_s:
            commands[pending.pop(0)]()
    inputs = [e for e in sink.events if isinstance(e, Input)]
    assert len(inputs) == len(commands)
    assert any(isinstance(e, InputRefused) and e.kind is InputKind.TARE for e in sink.events)
    assert len([e for e in sink.events if isinstance(e, Tared)]) == 1
    again = recompute(raw, inputs, CAL, HoldConfig(trials=4))
    assert [repr(e) for e in again] == [repr(e) for e in sink.events]
    # Through a recording's JSON lines and back, the inputs still recompute the session.
    stored = [event_from_dict(json.loads(json.dumps(event_to_dict(e)))) for e in inputs]
    assert stored == inputs
    assert [repr(e) for e in recompute(raw, stored, CAL, HoldConfig(trials=4))] == \
        [repr(e) for e in sink.events]


def test_tare_is_refused_under_load_or_unsteady_and_tare_anyway_takes_it() -> None:
    sink = Collector()
    proc = Processor(CAL, Tracker(HoldConfig()), [sink])
    t = np.arange(0, 2, 0.0125)
    batch = empty_batch(len(t))
    batch["t_s"] = t
    batch["raw"] = 18000  # 18 N on the probe
    proc.on_batch(batch.copy())
    proc.tare()
    assert "18.0 N on the probe" in proc.state.refusal
    proc.tare_anyway()
    (tared,) = [e for e in sink.events if isinstance(e, Tared)]
    assert tared.anyway and proc.calibration.zero_counts == 18000
    shaky = batch.copy()
    shaky["t_s"] = t + 2
    shaky["raw"] = 18000 + np.where(np.arange(len(t)) % 2, 1500, -1500)  # +-1.5 N, "at rest"
    shaky["flags"] = 0
    proc.on_batch(shaky)
    proc.tare()
    assert "not steady" in proc.state.refusal


def test_analyze_with_inputs_scores_the_session(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    session, treated_s = scripted.session(40.0, 2.0, 44.0)
    trace = tmp_path / "trace.csv"
    marks = np.flatnonzero(np.diff((session["flags"] & SampleFlag.BUTTON) != 0,
                                   prepend=False) & ((session["flags"] & SampleFlag.BUTTON) != 0))
    lines = ["t_s,force_n"] + [f"{t:.4f},{f:.4f}" for t, f in
                               zip(session["t_s"], session["force_n"], strict=True)]
    trace.write_text("\n".join(lines) + "\n")
    rows = ["t_s,input,args"] + [f"{session['t_s'][k]:.4f},mark,by=button" for k in marks]
    rows.insert(5, f"{treated_s:.4f},phase,phase=after")  # after 3 trials and the step
    inputs = tmp_path / "inputs.csv"
    inputs.write_text("\n".join(rows) + "\n")
    assert main(["analyze", str(trace), "--inputs", str(inputs), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (point,) = doc["session"]
    assert [m["filed"] for m in point["marks"]] == ["baseline"] * 3 + ["step"] + ["after"] * 3
    assert point["ppt_before_n"] == pytest.approx(40.0, abs=0.5)
    assert point["ppt_after_n"] == pytest.approx(44.0, abs=0.5)
    assert point["mdc"] == "within_mdc" and point["mdc_source"] == "generic"
    assert doc["hold_mode"] == "cumulative" and len(doc["holds"]) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("1.0,squeeze\n")
    assert main(["analyze", str(trace), "--inputs", str(bad)]) == 2
    assert "line 1" in capsys.readouterr().err


def test_analyze_refuses_a_band_above_the_threshold(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text("0,1\n0.1,2\n")
    assert main(["analyze", str(trace), "--threshold", "20", "--band", "18:22"]) == 2
    assert "75%:90%" in capsys.readouterr().err
