"""Fixtures for the live display: a simulated probe on a real pty, and a silent sound log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PyQt5 import QtCore

from tpforce.cli.wiring import Pipeline, open_pipeline
from tpforce.core.tracker import HoldConfig
from tpforce.io.sim.hand import Hand, ScriptedIntent, Step
from tpforce.io.sim.probe import LoadCell, SimProbe
from tpforce.ui.settings import LiveSettings, open_store
from tpforce.ui.sound import SoundPlayer


@pytest.fixture
def store(tmp_path: Path) -> QtCore.QSettings:
    """Settings in a temporary INI file, never the user's."""
    return open_store(tmp_path / "tpforce-live.ini")


@pytest.fixture
def player(qapp: object, tmp_path: Path) -> SoundPlayer:
    """A player that logs cues and plays nothing (no sound card here either way)."""
    return SoundPlayer(folder=tmp_path / "sounds", enable_audio=False)


@dataclass
class Rig:
    """A simulated probe streaming through pyserial into the one wiring (`open_pipeline`)."""

    probe: SimProbe
    pipeline: Pipeline

    @property
    def session(self) -> Pipeline:
        """The pipeline, under the name the UI tests use."""
        return self.pipeline


def steady_hand() -> Hand:
    """A hand without wander or lag, so that a scripted flow gives the same zones every run."""
    return Hand(seed=1, cv=0.0, tremor_frac=0.0, reaction_tau_s=0.01)


@pytest.fixture
def rig_factory() -> Iterator[object]:
    """Builds rigs from a script; closes them after the test."""
    made: list[Rig] = []

    def make(steps: list[Step], speed: float = 2.0, rate_sps: int = 80,
             target_s: float = 30.0) -> Rig:
        probe = SimProbe(rate_sps=rate_sps, intent=ScriptedIntent(steps, loop=False),
                         hand=steady_hand(), cell=LoadCell(noise_counts=0.0), speed=speed)
        probe.start()
        # The lister lets the source find the probe again on its new pty after an unplug;
        # the calibration is the probe's own EEPROM record, read at open.
        pipeline = open_pipeline(probe.port, lister=probe.ports,
                                 hold=HoldConfig(target_s=target_s), ring_s=60.0)
        rig = Rig(probe, pipeline)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        rig.pipeline.close()
        rig.probe.stop()


@pytest.fixture
def quiet_settings() -> LiveSettings:
    """Default settings (sounds on: they are logged, not heard)."""
    return LiveSettings()
