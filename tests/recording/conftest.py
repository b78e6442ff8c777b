"""Shared fixture: one scripted session recorded through the pipeline on the simulated probe."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.collector import Collector
from tpforce.cli.wiring import open_pipeline
from tpforce.core.events import HoldScored, HoldStarted, ThresholdMarked
from tpforce.core.tracker import HoldConfig
from tpforce.io.sim.hand import ScriptedIntent, Step, threshold_ramp_script


def record_scripted_session(path: Path) -> None:
    """The simulated probe's demo script at 10x: the patient's marks by button, the
    therapist's inputs by the processor's commands (what the keys call)."""
    steps = threshold_ramp_script(20.0) * 3 + [Step(1.0, 0.0), Step(3.0, 14.0),
                                               Step(12.0, 14.0), Step(1.0, 0.0), Step(3.0, 0.0)]
    intent = ScriptedIntent(steps)
    tap = Collector()
    with open_pipeline("sim", sim_options={"speed": 10.0, "intent": intent},
                       hold=HoldConfig(target_s=5.0), record=path, extras=[tap]) as pipe:
        proc = pipe.processor
        assert tap.wait_samples(40)
        proc.tare()
        for _ in range(3):
            tap.wait_for(ThresholdMarked, timeout=30.0)
        proc.set_phase("treatment")
        proc.set_band_custom(70, 85, "%")
        proc.set_target_s(4.0)
        tap.wait_for(HoldStarted, timeout=30.0)
        tap.wait_for(HoldScored, timeout=30.0)
        proc.set_grace_s(1.5)
        proc.next_point("upper trapezius", "left")
        assert tap.wait_samples(tap.count + 40)


@pytest.fixture(scope="session")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("verify") / "scripted.tpfrec"
    record_scripted_session(path)
    return path


