"""Recompute a session from its samples and its operator inputs: the same code as live.

Inputs carry the sample they followed (`Input.sample`), so feeding the samples up to each
input, applying it, and going on gives every event the live path gave, whatever the live
batching was. Inputs from elsewhere (a CSV of `t_s, input, args`) carry only a time: they
apply after the last sample at or before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from tpforce.core.band import Band
from tpforce.core.calibration import Calibration
from tpforce.core.events import Event, Input, InputKind, InputRefused
from tpforce.core.processor import Processor
from tpforce.core.tracker import HoldConfig, Tracker


class Collector:
    """A consumer that keeps every event it is given (and counts samples)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.samples = 0

    def on_batch(self, batch: np.ndarray) -> None:
        """Count the samples."""
        self.samples += len(batch)

    def on_event(self, event: Event) -> None:
        """Keep the event."""
        self.events.append(event)

    def close(self) -> None:
        """Nothing to release."""


def positions(t_s: np.ndarray, inputs: Iterable[Input]) -> list[tuple[int, Input]]:
    """Each input with the number of samples it follows (from `sample`, else from `t_s`)."""
    out = []
    for inp in inputs:
        after = inp.sample + 1 if inp.sample >= 0 else int(
            np.searchsorted(t_s, inp.t_s, side="right"))
        out.append((after, inp))
    out.sort(key=lambda pair: pair[0])  # stable: inputs at one sample keep their order
    return out


def recompute(raw: np.ndarray, inputs: Sequence[Input], calibration: Calibration,
              config: HoldConfig | None = None, band: Band | None = None) -> list[Event]:
    """Every event of a live session from its raw samples (SAMPLE_DTYPE) and inputs."""
    sink = Collector()
    proc = Processor(calibration, Tracker(config, band), [sink])
    pos = 0
    for after, inp in positions(raw["t_s"], inputs):
        if after > pos:
            proc.on_batch(raw[pos:after].copy())
            pos = after
        proc.apply(inp)
    if pos < len(raw):
        proc.on_batch(raw[pos:].copy())
    return sink.events


def track(batch: np.ndarray, inputs: Sequence[Input], tracker: Tracker) -> list[Event]:
    """Run a calibrated batch through `tracker` with inputs applied at their positions (a
    tare is listed, refused: the calibrated force already includes it)."""
    events: list[Event] = []
    pos = 0
    for after, inp in positions(batch["t_s"], inputs):
        if after > pos:
            events += tracker.process(batch[pos:after])
            pos = after
        t = float(batch["t_s"][pos - 1]) if pos else inp.t_s
        stamped = Input(t, inp.kind, pos - 1, inp.args)
        if inp.kind in (InputKind.TARE, InputKind.TARE_ANYWAY):
            # A calibrated trace already has its tares in it: said, not applied twice.
            events += [stamped, InputRefused(t, inp.kind, "not re-applied: the force in "
                                                          "the trace already includes it")]
            continue
        events += tracker.apply(stamped)
    if pos < len(batch):
        events += tracker.process(batch[pos:])
    return events + tracker.finish()
