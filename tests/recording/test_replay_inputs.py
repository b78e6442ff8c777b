"""An input made by a consumer from inside a delivery (the demo's simulated therapist tares
that way) is recorded before that batch reaches the recorder; verify and the player put it
back after the sample it names, so such a recording recomputes equal."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.collector import Collector
from tpforce.cli.wiring import open_pipeline, start_pipeline
from tpforce.core.events import Input, InputKind
from tpforce.core.processor import Processor
from tpforce.io.player import PlayerSource, verify
from tpforce.io.recorder import RecordingReader


class TaresFromInside:
    """A consumer that tares from inside the processor's delivery once 40 samples came."""

    def __init__(self) -> None:
        self.processor: Processor | None = None
        self.seen = 0
        self.done = False

    def on_batch(self, batch: np.ndarray) -> None:
        self.seen += len(batch)
        if self.processor is not None and not self.done and self.seen >= 40:
            self.done = True
            self.processor.tare()

    def on_event(self, event: object) -> None:
        pass

    def close(self) -> None:
        pass


def test_an_input_made_inside_a_delivery_recomputes_equal(tmp_path: Path) -> None:
    path = tmp_path / "inside.tpfrec"
    tarer, tap = TaresFromInside(), Collector()
    with open_pipeline("sim", sim_options={"speed": 4.0}, record=path,
                       extras=[tarer, tap]) as pipe:
        tarer.processor = pipe.processor
        assert tap.wait_samples(200)
    recorded = RecordingReader(path).events()
    at, tare = next((at, e) for at, e in recorded
                    if isinstance(e, Input) and e.kind is InputKind.TARE)
    assert isinstance(tare, Input) and at <= tare.sample  # recorded before its own batch
    assert verify(path) == (None, [])
    player = PlayerSource(path)
    got = Collector()

    with start_pipeline(player, choose=lambda s: player.calibration, hold=player.config,
                        extras=[got]) as pipeline:
        player.attach(pipeline.processor, play=False)
        player.seek(player.end_t)
    assert [repr(e) for e in got.seen] == [repr(e) for _, e in recorded]
