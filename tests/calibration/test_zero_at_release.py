"""The zero check at release on the simulated probe, through its port and the one wiring:
recorded with the hold, recomputed equal by `replay --verify`, and said in words."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchhelp import Tap

from tpforce.cli import main
from tpforce.cli.demo import event_words
from tpforce.cli.wiring import start_pipeline
from tpforce.core.events import HoldScored, ZeroChecked
from tpforce.core.processor import Processor
from tpforce.core.protocol import CalRecord
from tpforce.core.tracker import HoldConfig
from tpforce.io.drivers import make_source
from tpforce.io.player import verify
from tpforce.io.recorder import RecordingReader
from tpforce.io.sim.cell import CellParams, SimCell
from tpforce.io.sim.hand import ScriptedIntent, Step
from tpforce.io.sim.probe import SimProbe

STEPS = [Step(2.0, 0.0), Step(3.0, 15.0), Step(6.0, 15.0), Step(0.3, 0.0), Step(60.0, 0.0)]


def session(path: Path, zero_moved_n: float, tare: bool
            ) -> tuple[list[ZeroChecked], Processor]:
    """One hold on a simulated cell whose zero is `zero_moved_n` away from the probe's
    record (it drifted since the calibration), recorded; the zero checks it recorded."""
    params = CellParams()
    cell = SimCell(CellParams(zero_counts=params.zero_counts
                              + round(zero_moved_n * params.counts_per_n)))
    probe = SimProbe(cell=cell, speed=10.0, intent=ScriptedIntent(STEPS, loop=False))
    probe.cal = CalRecord(1, params.zero_counts, 1.0 / params.counts_per_n, 100, 0,
                          probe.serial, 0)  # the record made before the zero moved
    probe.start()
    tap = Tap()
    source = make_source(probe.port, "probe", None, reconnect=False)
    with start_pipeline(source, hold=HoldConfig(target_s=4.0), record=path, extras=[tap],
                        owned=[probe]) as pipe:
        proc = pipe.processor
        assert tap.wait_samples(60)
        if tare:
            proc.tare()
        proc.set_band_custom(12.0, 18.0, "N")
        proc.set_phase("treatment")
        tap.wait_for(HoldScored, timeout=30.0)
        tap.wait_for(ZeroChecked, timeout=30.0)
        state = proc.state
    z = [e for e in tap.seen if isinstance(e, ZeroChecked)]
    assert state.zero_drift == (z[0].message if z[0].exceeded else "")
    return z, proc


def test_a_zero_moved_past_the_limit_is_recorded_and_recomputes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "moved.tpfrec"
    [z], proc = session(path, 1.4, tare=False)
    assert z.checked and z.exceeded and not z.tared
    assert z.drift_n == pytest.approx(1.4, abs=0.03)
    recorded = [e for _, e in RecordingReader(path).events() if isinstance(e, ZeroChecked)]
    assert [repr(e) for e in recorded] == [repr(z)]
    assert verify(path) == (None, [])
    assert main(["replay", "--verify", str(path)]) == 0
    assert "every decision recomputes equal" in capsys.readouterr().out
    words = event_words(z, proc)
    assert words.startswith("ZERO DRIFTED: zero moved +1.4") and "re-tare" in words
    html = tmp_path / "report.html"  # the report for the file flags the hold
    assert main(["report", str(path), "-o", str(html)]) == 0
    page = html.read_text()
    assert '<td class="warn">moved +1.4' in page and "forces carry that error" in page
    assert "the probe's zero had moved beyond its limit after hold 1 (+1.4" in page


def test_a_tared_zero_that_held_is_within_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "held.tpfrec"
    [z], proc = session(path, 1.4, tare=True)
    assert z.checked and not z.exceeded and z.tared
    assert abs(z.drift_n) < 0.05
    assert verify(path) == (None, [])
    assert event_words(z, proc).startswith("zero checked after hold 1: zero within")
    html = tmp_path / "report.html"
    assert main(["report", str(path), "-o", str(html)]) == 0
    page = html.read_text()
    assert "<td>within 0.98 N (" in page and 'class="warn"' not in page


def test_the_demo_session_checks_its_zero_after_the_hold_and_says_so() -> None:
    from tpforce.cli.demo import demo_pipeline

    tap = Tap()
    with demo_pipeline(80, 20.0, 30.0) as pipe:
        pipe.processor.add_consumer(tap)
        z = tap.wait_for(ZeroChecked, timeout=60.0)
        words = event_words(z, pipe.processor)  # type: ignore[arg-type]
    assert isinstance(z, ZeroChecked) and z.checked and z.tared and not z.exceeded
    assert abs(z.drift_n or 0.0) < 0.05
    assert words.startswith("zero checked after hold 1: zero within 0.98 N")
