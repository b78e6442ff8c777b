"""The player source: a recording played through the pipeline makes the recorded decisions
again; pause, step and seek move through it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.collector import Collector
from tpforce.cli.wiring import start_pipeline
from tpforce.core.events import Input
from tpforce.io.player import PlayerSource
from tpforce.io.recorder import SOURCE_EVENTS, RecordingReader


def test_a_played_recording_makes_the_recorded_decisions_again(scripted: Path) -> None:
    player = PlayerSource(scripted, speed=8.0)
    tap = Collector()
    pipeline = start_pipeline(player, choose=lambda s: player.calibration,
                              hold=player.config, extras=[tap])
    with pipeline:
        player.attach(pipeline.processor, play=False)
        assert player.paused and tap.count == 0
        player.step(10)
        assert tap.wait_samples(10) and tap.count == 10
        player.seek(float(player.samples["t_s"][-1]))  # the rest, every decision on the way
        assert player.finished.is_set()
    recorded = [repr(e) for _, e in RecordingReader(scripted).events()]
    played = [repr(e) for e in tap.seen]
    assert played == recorded
    assert sum(isinstance(e, Input) for e in tap.seen) > 3
    assert not any(type(e).__name__ in SOURCE_EVENTS - {"DeviceInfo"} for e in tap.seen)


def test_speed_is_limited_to_a_quarter_to_eight_times(scripted: Path) -> None:
    player = PlayerSource(scripted)
    player.speed = 0.25
    player.speed = 8
    with pytest.raises(ValueError):
        player.speed = 16
