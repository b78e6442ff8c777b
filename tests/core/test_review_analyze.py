"""What a clinician sees from `tpforce analyze`: warnings said, crossings that mean harm."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.core.helpers import steps
from tests.core.scripted import session
from tpforce.cli import main
from tpforce.core.analysis import analyze
from tpforce.core.band import Band
from tpforce.core.events import BandWarning, Input, InputKind, InputRefused, OverThreshold


def _csv(path: Path, t: np.ndarray, f: np.ndarray) -> Path:
    np.savetxt(path, np.c_[t, f], delimiter=",", header="t_s,force_n", comments="",
               fmt="%.5f")
    return path


def test_a_low_threshold_is_warned_about_in_analyze(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """PPT 2.4 N puts the band centre (1.98 N) under contact (2 N): no hold can start, and
    the therapist must be told so, not just shown 'no holds'."""
    t, f = steps(80, [(1.0, 0.0), (10.0, 2.1), (1.0, 0.0)])
    result = analyze(t, f, Band.relative(2.4), None)
    assert any(isinstance(e, BandWarning) for e in result.events)
    path = _csv(tmp_path / "low.csv", t, f)
    assert main(["analyze", str(path), "--threshold", "2.4"]) == 0
    out = capsys.readouterr()
    assert "below contact" in out.err
    assert main(["analyze", str(path), "--threshold", "2.4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert any("below contact" in w for w in doc["warnings"])


def test_trial_ramps_are_not_counted_as_over_threshold_crossings() -> None:
    """A baseline trial ramps past the threshold by design (silent); only the treatment
    overshoot is a crossing the summary reports."""
    pieces = []
    for peak in (21.0, 22.0, 21.5):  # three trials, marked by key at the peak
        pieces += [(1.0, 0.0), (4.0, 20.0), (0.5, peak), (1.0, 0.0)]
    pieces += [(1.0, 0.0), (10.0, 16.0), (0.5, 23.0), (10.0, 16.0), (1.0, 0.0)]
    t, f = steps(80, pieces)
    trial_s = 6.5
    inputs = [Input.make(InputKind.MARK, k * trial_s + 5.4, -1, by="key") for k in range(3)]
    result = analyze(t, f, None, None, inputs)
    crossings = [e for e in result.events if isinstance(e, OverThreshold) and not e.escalation]
    assert any(e.silent for e in crossings)  # the trial ramps were seen, shown only
    assert result.over_threshold_count == 1


def test_analyze_keeps_the_button_marks_of_a_stream_csv(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    """A session recorded with `tpforce stream` carries the patient's button in its flags:
    scored with the phases as inputs, its trials are the button's marks."""
    batch, treated_s = session(20.0, 2.0, 26.0)
    path = tmp_path / "stream.csv"
    with path.open("w") as fh:
        fh.write("t_host_s,t_s,seq,raw,force_n,flags\n")
        fh.write('# {"type": "DeviceInfo", "t_s": 0.0}\n')
        for s in batch:
            fh.write(f"{s['t_s']:.6f},{s['t_s']:.6f},{s['seq']},0,{s['force_n']:.6f},"
                     f"{s['flags']}\n")
    inputs = tmp_path / "inputs.csv"
    inputs.write_text(f"t_s,input,args\n{treated_s:.3f},phase,phase=after\n")
    assert main(["analyze", str(path), "--inputs", str(inputs), "--json"]) == 0
    point = json.loads(capsys.readouterr().out)["session"][0]
    assert len(point["trials_before_n"]) == 3 and len(point["trials_after_n"]) == 3
    assert abs(point["ppt_before_n"] - 20.0) < 0.5 and abs(point["ppt_after_n"] - 26.0) < 0.5


def test_a_tare_among_the_inputs_does_not_crash_analyze(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    """A live session's inputs include its tares; the trace's force already has them, so
    analyze scores the rest and says the tare was not re-applied (no traceback)."""
    t, f = steps(80, [(1.0, 0.0), (4.0, 20.0), (1.0, 0.0)])
    result = analyze(t, f, None, None, [Input.make(InputKind.TARE, 0.5, -1),
                                        Input.make(InputKind.MARK, 4.9, -1, by="key")])
    assert result.session is not None
    assert result.session.points[0].trials_before_n == [20.0]
    refused = [e for e in result.events if isinstance(e, InputRefused)]
    assert [e.kind for e in refused] == [InputKind.TARE]
    path = _csv(tmp_path / "t.csv", t, f)
    inputs = tmp_path / "in.csv"
    inputs.write_text("t_s,input,args\n0.5,tare,\n4.9,mark,by=key\n")
    assert main(["analyze", str(path), "--inputs", str(inputs)]) == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "tare" in out.err
