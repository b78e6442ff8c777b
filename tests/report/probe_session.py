"""A scripted session on the simulated probe through the real pipeline: the probe on a pty,
pyserial, the processor, the recorder; a scripted therapist presses the keys on time."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tpforce.cli.wiring import Pipeline, open_pipeline
from tpforce.core.tracker import HoldConfig
from tpforce.io.sim.hand import ScriptedIntent
from tpforce.report.scripted import ScriptedTherapist, ScriptPoint, hand, script

LEAD_S = 30.0  # rest before the script: the probe's clock runs from its start, before streaming


class Therapist(ScriptedTherapist):
    """The scripted keys, and an Event set once the samples pass the end of the script."""

    def __init__(self, points: tuple[ScriptPoint, ...]) -> None:
        steps, commands = script(points, LEAD_S)
        super().__init__(commands)
        self.intent = ScriptedIntent(steps, loop=False)
        self.end_s = self.intent.period_s
        self.done = threading.Event()
        self.first_t: float | None = None  # the first sample's time: the script is whole if
        # it came before the script's first push (LEAD_S)

    def on_batch(self, batch: np.ndarray) -> None:
        """Press what is due; say when the script is over."""
        if self.first_t is None and len(batch):
            self.first_t = float(batch["t_s"][0])
        super().on_batch(batch)
        if self.t_s >= self.end_s and not self.pending:
            self.done.set()


@dataclass
class ProbeSession:
    """The running pipeline and its therapist."""

    pipeline: Pipeline
    therapist: Therapist


def start(points: tuple[ScriptPoint, ...], patient: str, record: Path | None = None,
          operator: str = "therapist A", speed: float = 12.0, seed: int = 1,
          history_db: str | None = None, target_s: float = 15.0) -> ProbeSession:
    """Start the script on a fresh simulated probe (recorded into `record` if given)."""
    therapist = Therapist(points)
    pipeline = open_pipeline("sim", sim_options={"rate_sps": 80, "speed": speed, "seed": seed,
                                                 "intent": therapist.intent,
                                                 "hand": hand(seed)},
                             hold=HoldConfig(target_s=target_s), extras=[therapist],
                             record=record, patient=patient, operator=operator)
    pipeline.history_db = history_db
    therapist.processor = pipeline.processor
    return ProbeSession(pipeline, therapist)
