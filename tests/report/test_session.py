"""The report's session model: the points rebuilt from events are the ones filed live, and a
recording read back is the session that was recorded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.core import scripted as core_script
from tpforce.core.calibration import Calibration
from tpforce.core.events import HoldScored, Input, OverThreshold
from tpforce.core.processor import Processor
from tpforce.core.replay import Collector
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.report.load import is_recording, load_session
from tpforce.report.session import ReportError, point_views, session_from_events

from .conftest import Recorded


def _points(session: object) -> list[tuple]:
    return [(p.index, p.site, p.side, p.phase, p.marks, p.tolerance_n, p.holds)
            for p in session.points]  # type: ignore[attr-defined]


def test_points_from_events_are_the_live_session(recorded: Recorded) -> None:
    rebuilt, _ = session_from_events(recorded.data.events)
    assert _points(rebuilt) == _points(recorded.proc.session)
    views = point_views(recorded.data)
    assert [v.point.label for v in views] == ["upper trapezius R", "levator scapulae L"]
    first, second = views
    assert first.end_s == pytest.approx(second.start_s)
    # Every scored hold is shown with the band it ran in, its step and the alarms inside it.
    scored = [e.metrics for e in recorded.data.events if isinstance(e, HoldScored)]
    assert [h.metrics for v in views for h in v.holds] == scored
    hold = first.holds[0]
    assert hold.bands and hold.bands[0].t_s <= hold.metrics.start_s
    assert len(hold.steps) == 1 and hold.steps[0].to_ppt_n > hold.steps[0].from_ppt_n
    assert any(not a.silent for a in hold.alarms)  # the scripted slip over the threshold
    assert all(isinstance(a, OverThreshold) for a in hold.alarms)


def test_deleted_and_refiled_trials_are_filed_as_the_tracker_filed_them() -> None:
    batch, treated_s = core_script.session(20.0, 5.0, 22.0)
    raw = batch.copy()
    raw["raw"] = np.rint(batch["force_n"] * 1000).astype(np.int32)
    sink = Collector()
    proc = Processor(Calibration(0.0, 0.001), Tracker(HoldConfig(trials=4)), [sink])
    commands = {treated_s: lambda: proc.set_phase("after"),
                treated_s + 1: lambda: proc.delete_trial(1),
                treated_s + 2: lambda: proc.refile_trial(2, "after")}
    pending = sorted(commands)
    for pos in range(0, len(raw), 37):
        proc.on_batch(raw[pos:pos + 37].copy())
        while pending and pending[0] <= proc.state.t_s:
            commands[pending.pop(0)]()
    proc.close()
    rebuilt, _ = session_from_events(sink.events)
    assert _points(rebuilt) == _points(proc.session)
    marks = rebuilt.points[0].marks
    assert marks[0].deleted and marks[1].kind == "after"


def test_a_recording_reads_back_as_the_session_it_recorded(recorded: Recorded) -> None:
    assert is_recording(recorded.path)
    back = load_session(recorded.path)
    live = recorded.data
    np.testing.assert_array_equal(back.samples["force_n"], live.samples["force_n"])
    np.testing.assert_array_equal(back.samples["t_s"], live.samples["t_s"])
    assert [repr(e) for e in back.events] == [repr(e) for e in live.events]
    assert back.context["pseudonym"] == "P-0107" and back.probe_serial == "TPF-0042"
    assert back.context["calibration"]["date"] == "2026-02-20T14:05:00Z"
    assert any(isinstance(e, Input) for e in back.events)
    assert _points(session_from_events(back.events)[0]) == _points(recorded.proc.session)


def test_a_recording_without_a_date_is_dated_when_it_was_started(tmp_path: Path,
                                                                  recorded: Recorded) -> None:
    copy = tmp_path / "c.tpfrec"
    shutil.copytree(recorded.path, copy)
    doc = json.loads((copy / "context.json").read_text())
    doc["context"].pop("date", None)
    doc["started_unix"] = 1772443800.0
    (copy / "context.json").write_text(json.dumps(doc))
    started = load_session(copy).started
    assert started is not None and started.year == 2026


@pytest.mark.parametrize("damage", ["missing", "file", "no-meta", "bad-json", "newer"])
def test_what_is_not_a_readable_recording_says_so_in_one_line(tmp_path: Path,
                                                              damage: str) -> None:
    path = tmp_path / "x.tpfrec"
    if damage == "file":
        path.write_text("hello")
    elif damage != "missing":
        path.mkdir()
        meta = {"no-meta": None, "bad-json": "{", "newer":
                json.dumps({"format": "tpforce-recording", "version": 99})}[damage]
        if meta is not None:
            (path / "meta.json").write_text(meta)
    with pytest.raises(ReportError) as info:
        load_session(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
