"""Fixed cost per hand-off: assembling and processing small batches, as a fast stream gives.

The reader hands a 1 kHz stream on about 3 samples at a time; what each hand-off costs,
whatever its size, sets the CPU of the live path. Baseline: the same work on 1000-sample
batches, measured in the same run, as the cost per sample without that overhead.
"""

from __future__ import annotations

import time

import numpy as np

from tpforce.core.band import Band
from tpforce.core.calibration import Calibration
from tpforce.core.consumer import EventQueue
from tpforce.core.processor import Processor
from tpforce.core.protocol import SAMPLE_WIRE_DTYPE
from tpforce.core.ringbuffer import SampleRing
from tpforce.core.stream import StreamAssembler
from tpforce.core.tracker import HoldConfig, Tracker

RATE_SPS = 1000


def _wire(n_batches: int, size: int) -> list[np.ndarray]:
    """Wire rows of a steady in-band hold with tremor, cut into batches of `size`."""
    n = n_batches * size
    k = np.arange(n)
    rows = np.zeros(n, dtype=SAMPLE_WIRE_DTYPE)
    rows["seq"] = k
    rows["t_us"] = k * (1_000_000 // RATE_SPS)
    rows["raw"] = np.rint(16.0 + 0.3 * np.sin(k * 0.06)).astype(np.int32)
    return [rows[i : i + size] for i in range(0, n, size)]


def per_batch_us(size: int, n_batches: int) -> tuple[float, float]:
    """Median microseconds per batch for assembling and for processing (5 repeats)."""
    assemble, process = [], []
    for _ in range(5):
        assembler = StreamAssembler()
        processor = Processor(Calibration(0.0, 1.0),
                              Tracker(HoldConfig(), Band(15.0, 18.0, 20.0)),
                              [SampleRing(120_000), EventQueue()])
        wire = _wire(n_batches, size)
        host = 0.0
        t0 = time.perf_counter()
        batches = []
        for rows in wire:
            host += size / RATE_SPS
            batches.append(assembler.assemble(rows, host)[0])
        t1 = time.perf_counter()
        for batch in batches:
            processor.on_batch(batch)
        t2 = time.perf_counter()
        assemble.append((t1 - t0) / n_batches * 1e6)
        process.append((t2 - t1) / n_batches * 1e6)
    return float(np.median(assemble)), float(np.median(process))


def run(quick: bool = False) -> list[str]:
    """Per-batch cost at 1 and 3 samples, against per-sample cost at 1000."""
    n = 500 if quick else 3000
    lines = ["| batch size | assemble, us/batch | process, us/batch | us per sample |",
             "|---|---|---|---|"]
    big_a, big_p = per_batch_us(1000, max(n // 300, 3))
    for size in (1, 3):
        a, p = per_batch_us(size, n)
        lines.append(f"| {size} | {a:.0f} | {p:.0f} | {(a + p) / size:.1f} |")
    lines.append(f"| 1000 (baseline) | {big_a:.0f} | {big_p:.0f} | "
                 f"{(big_a + big_p) / 1000:.2f} |")
    return lines
