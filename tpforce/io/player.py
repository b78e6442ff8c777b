"""Plays a recording back: a headless recompute of its decisions (`recompute_recording`,
`verify`) and a re-timed source for the live window (`PlayerSource`).

A recompute feeds the raw samples, the operator's inputs and the source's events (signal
lost, resets) into a fresh Processor at the sample positions where they happened, with the
calibration and settings from the recording's context: the same code as live, so every
decision comes out the same unless the recording or the code changed.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tpforce.core.band import Band
from tpforce.core.calibration import Calibration
from tpforce.core.events import Event, Input
from tpforce.core.processor import Processor
from tpforce.core.replay import Collector
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.io.recorder import SOURCE_EVENTS, RecordingError, RecordingReader


def _fields(cls: type, data: Any) -> dict[str, Any]:
    """The entries of `data` that are fields of dataclass `cls` (lists made tuples)."""
    if not isinstance(data, dict):
        return {}
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}


def settings_of(reader: RecordingReader) -> tuple[Calibration, HoldConfig, Band | None]:
    """The calibration, hold settings and band the recording started with."""
    ctx = reader.context
    if reader.version < 2 or "calibration" not in ctx:
        raise RecordingError(f"{reader.path}: a version-1 recording carries no calibration "
                             "or settings; it can be read and exported, not recomputed")
    try:
        cal = Calibration(**_fields(Calibration, ctx["calibration"]))
        config = HoldConfig(**_fields(HoldConfig, ctx.get("hold_config")))
        band_doc = ctx.get("band")
        band = Band(**_fields(Band, band_doc)) if isinstance(band_doc, dict) else None
    except (TypeError, ValueError) as exc:
        raise RecordingError(f"{reader.path}: damaged context ({exc})") from None
    return cal, config, band


@dataclass
class Recompute:
    """The decisions recomputed from a recording, next to the recorded ones."""

    recorded: list[tuple[int, Event]]
    recomputed: list[tuple[int, Event]]
    force_equal: bool
    first_force_difference: int  # sample index, -1 if none
    complete: bool  # the recording was closed cleanly (else only its prefix is compared)
    session: Any = None  # the session as recomputed (points, holds)
    holds: list[Any] = dataclasses.field(default_factory=list)


class _Positioned(Collector):
    """A collector that notes the sample count before each event, and the forces."""

    def __init__(self) -> None:
        super().__init__()
        self.at: list[int] = []
        self.force: list[np.ndarray] = []

    def on_batch(self, batch: np.ndarray) -> None:
        super().on_batch(batch)
        self.force.append(batch["force_n"].copy())

    def on_event(self, event: Event) -> None:
        super().on_event(event)
        self.at.append(self.samples)


def recompute_recording(reader: RecordingReader, config: HoldConfig | None = None,
                        band: Band | None = None,
                        inputs: Callable[[Input], Input | None] | None = None) -> Recompute:
    """Run the recording's samples, inputs and source events through a fresh Processor.

    `config`/`band` replace the recorded settings (a what-if); `inputs` may rewrite or drop
    (None) each recorded input. The recorded decisions are only read, never changed."""
    if reader.context.get("from_first_sample") is False:
        raise RecordingError(f"{reader.path}: started mid-session (after "
                             f"{reader.context.get('samples_before', '?')} samples); its "
                             "decisions cannot be recomputed from it alone")
    cal, rec_config, rec_band = settings_of(reader)
    sink = _Positioned()
    proc = Processor(cal, Tracker(config or rec_config, band if band is not None else rec_band),
                     [sink])
    samples = reader.samples()
    recorded = reader.events()
    pos = 0
    for at, event in recorded:
        is_input = isinstance(event, Input)
        if not is_input and type(event).__name__ not in SOURCE_EVENTS:
            continue  # a decision: recomputed, not fed
        if at > pos:
            proc.on_batch(np.array(samples[pos:at]))
            pos = at
        if isinstance(event, Input):
            inp = inputs(event) if inputs is not None else event
            if inp is not None:
                proc.apply(inp)
        else:
            proc.on_event(event)
    if pos < len(samples):
        proc.on_batch(np.array(samples[pos:]))
    complete = "ended_unix" in reader.context
    if complete:
        proc.close()
    force = np.concatenate(sink.force) if sink.force else np.zeros(0)
    diff = np.flatnonzero(~((force == samples["force_n"]) |
                            (np.isnan(force) & np.isnan(samples["force_n"]))))
    return Recompute(recorded, list(zip(sink.at, sink.events, strict=True)),
                     len(diff) == 0, int(diff[0]) if len(diff) else -1, complete,
                     proc.session, list(proc.tracker.holds))


def _same(a: Event, b: Event) -> bool:
    return repr(a) == repr(b)  # repr: NaN fields compare equal


def first_difference(result: Recompute) -> str | None:
    """The first place the recompute and the recording part, in words, or None if equal."""
    rec, got = result.recorded, result.recomputed
    n = len(rec) if result.complete else min(len(rec), len(got))
    for k in range(n):
        if k >= len(got):
            at, e = rec[k]
            return f"event {k + 1} (after sample {at}): recorded {e!r}, recomputed nothing"
        (at_r, e_r), (_, e_g) = rec[k], got[k]
        # Positions of decisions follow the live batching; the events' own times do not.
        if not _same(e_r, e_g):
            return f"event {k + 1} (after sample {at_r}): recorded {e_r!r}, recomputed {e_g!r}"
    if result.complete and len(got) > len(rec):
        at, e = got[len(rec)]
        return f"event {len(rec) + 1} (after sample {at}): recomputed {e!r}, recorded nothing"
    if not result.force_equal:
        return (f"sample {result.first_force_difference}: the recorded force differs from "
                "the force recomputed from raw counts")
    return None


def verify(path: str | os.PathLike[str]) -> tuple[str | None, list[str]]:
    """Recompute a recording: the first difference (None if equal) and the reader's warnings."""
    reader = RecordingReader(Path(path))
    result = recompute_recording(reader)
    warnings = list(reader.warnings)
    if not result.complete:
        warnings.append(f"{reader.path}: not closed cleanly; compared up to its last event")
    return first_difference(result), warnings
