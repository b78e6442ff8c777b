"""Starts over a noisy link: how many of N opens stream with the probe's own calibration.

The simulated probe corrupts 1 % of its bytes, as `tpforce sim --corrupt 0.01` does; each
start goes through the one wiring (`open_pipeline`, what `tpforce stream` and `live` use),
waits for samples, and checks the processor calibrates with the record from the probe's
EEPROM. A start that raises, or that falls back to raw counts, is a failure.
"""

from __future__ import annotations

import queue
import statistics
import time
from dataclasses import dataclass

import numpy as np

from tpforce.cli.wiring import open_pipeline
from tpforce.core.events import Event
from tpforce.core.protocol import CalRecord
from tpforce.io.calibration import record_calibration
from tpforce.io.sim.faults import Faults
from tpforce.io.sim.probe import SimProbe


@dataclass
class Starts:
    """The outcome of N starts."""

    n: int
    streamed_with_record: int
    failures: list[str]
    retries: list[int]
    open_s: list[float]


class _Samples:
    """Signals when the processor has handed on calibrated samples."""

    def __init__(self) -> None:
        self.batches: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()

    def on_batch(self, batch: np.ndarray) -> None:
        self.batches.put(batch.copy())

    def on_event(self, event: Event) -> None:
        """Events are not counted here."""

    def close(self) -> None:
        """Nothing to release."""


def run_starts(n: int, corrupt: float = 0.01, rate_sps: int = 1000) -> Starts:
    """Open the pipeline `n` times on one noisy simulated probe; count the good starts."""
    out = Starts(n, 0, [], [], [])
    with SimProbe(rate_sps=rate_sps, faults=Faults(corrupt=corrupt), seed=7) as probe:
        assert probe.cal is not None
        want = record_calibration(CalRecord.unpack(probe.cal.pack()) or probe.cal)  # as sent
        for i in range(n):
            tap = _Samples()
            t0 = time.perf_counter()
            try:
                pipeline = open_pipeline(probe.port, extras=[tap], lister=probe.ports)
            except Exception as exc:  # a failed start is the figure, not a crash
                out.failures.append(f"start {i}: {exc}")
                continue
            out.open_s.append(time.perf_counter() - t0)
            with pipeline:
                out.retries.append(getattr(pipeline.source, "handshake_retries", 0))
                try:
                    batch = tap.batches.get(timeout=5.0)
                except queue.Empty:
                    out.failures.append(f"start {i}: no samples in 5 s")
                    continue
                good = pipeline.processor.calibration == want
                forces = batch["force_n"][np.isfinite(batch["force_n"])]
                if good and np.allclose(forces, want.force_n(batch["raw"])[
                        np.isfinite(batch["force_n"])]):
                    out.streamed_with_record += 1
                else:
                    out.failures.append(f"start {i}: calibrated with "
                                        f"{pipeline.processor.calibration}")
    return out


def run(quick: bool = False) -> list[str]:
    """50 starts (10 with --quick) at 1 % corrupted bytes."""
    n = 10 if quick else 50
    s = run_starts(n)
    lines = [f"| starts through a link corrupting 1 % of bytes | {n} |",
             f"| streamed with the probe's own calibration | {s.streamed_with_record} |",
             f"| aborted or fell back to raw counts | {len(s.failures)} |"]
    if s.open_s:
        median_ms = 1000 * statistics.median(s.open_s)
        lines.append(f"| open to calibrated stream, median | {median_ms:.0f} ms |")
        lines.append(f"| starts that needed a request sent again | "
                     f"{sum(1 for r in s.retries if r > 0)} (max {max(s.retries)} resends) |")
    lines += [f"| failure | {f} |" for f in s.failures]
    return lines
