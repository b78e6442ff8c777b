"""The processor's command API, the analyze command and the core's purity."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tpforce.cli import main
from tpforce.core.calibration import Calibration
from tpforce.core.consumer import EventQueue
from tpforce.core.events import (
    HoldEnded,
    HoldScored,
    HoldStarted,
    PointChanged,
    TargetChanged,
    ThresholdMarked,
)
from tpforce.core.processor import Processor
from tpforce.core.samples import empty_batch
from tpforce.core.tracker import HoldConfig, Tracker

from .helpers import analyze_refusal

DATA = Path(__file__).parent.parent / "data"


def raw_batch(t: np.ndarray, force_n: np.ndarray) -> np.ndarray:
    batch = empty_batch(len(t))
    batch["t_s"] = t
    batch["raw"] = np.rint(force_n * 1000).astype(np.int32)
    return batch


def test_processor_commands_emit_events_and_fill_the_session() -> None:
    q = EventQueue()
    proc = Processor(Calibration(0, 0.001), Tracker(HoldConfig(filter_window_s=0)), [q])
    t = np.arange(0, 4.5, 0.01)
    proc.on_batch(raw_batch(t, np.minimum(5 * t, 20.0)))
    proc.mark_threshold()
    assert proc.state.ppt_n == pytest.approx(20.0) and proc.state.trials_n == (20.0,)
    proc.set_target_s(60)
    proc.set_band_preset("hou_p1")
    assert proc.state.band.lo_n == pytest.approx(18.0) and proc.state.target_s == 60
    proc.toggle_hold()  # no hold in a trial phase: refused, with the reason
    assert not proc.state.hold_active and "baseline" in proc.state.refusal
    proc.next_phase()
    assert proc.state.phase == "treatment"
    proc.toggle_hold()
    assert proc.state.hold_active and proc.state.hold_manual
    proc.toggle_hold()
    point = proc.next_point("infraspinatus", "L")
    assert point.label == "infraspinatus L" and proc.session.current is point
    assert len(proc.session.points[0].holds) == 1 and proc.state.band is None
    kinds = [type(e) for e in q.drain()]
    for kind in (ThresholdMarked, TargetChanged, HoldStarted, HoldEnded, HoldScored,
                 PointChanged):
        assert kind in kinds
    proc.close()
    proc.close()


def test_analyze_golden_trace_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["analyze", str(DATA / "trace_two_holds.csv"), "--threshold", "20",
                 "--band", "15:18", "--filter", "0", "--hold-mode", "continuous",
                 "--no-despike", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    h1, h2 = doc["holds"]
    assert (h1["start_s"], h1["end_s"], h1["ended_by"]) == (2.0, 40.0, "left_band")
    assert h1["completed"] and h1["completed_at_s"] == pytest.approx(32.5)
    assert h1["in_band_s"] == pytest.approx(37.5) and h1["excursions"] == 1
    assert h1["over_threshold_count"] == 0 and h1["cv"] >= 0
    assert (h2["start_s"], h2["end_s"], h2["ended_by"]) == (42.0, 50.0, "released")
    assert not h2["completed"] and h2["completed_at_s"] is None
    assert h2["mean_n"] == 16.0 and doc["over_threshold_count"] == 1


@pytest.mark.parametrize(("text", "needle"), [
    ("t_s,force_n\n0,1\n0.1,abc\n", "line 3"),
    ("0,1\n0.2,2\n0.1,3\n", "line 3: time"),
    ("", "no samples"),
    ("t_s,force_n\n", "no samples"),
])
def test_analyze_bad_csv_is_one_line_exit_2(tmp_path: Path, text: str, needle: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert needle in analyze_refusal(tmp_path, text, capsys)


def test_core_imports_no_gui_or_serial() -> None:
    code = ("import sys, tpforce.core.tracker, tpforce.core.processor, tpforce.core.analysis,"
            " tpforce.core.session, tpforce.core.units;"
            " print(sorted(m for m in ('PyQt5', 'pyqtgraph', 'serial') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
