"""Latency from bytes written to a pty to the batch handed to a consumer, at 80 Hz and 1 kHz.

A writer thread plays the probe on the master side of a real pseudo-terminal, writing one
SAMPLE frame at a time on schedule and noting the time just before each write; the real
`ProbeSource` reads the slave side through pyserial, and a consumer notes when each sample
arrives. Figures are percentiles over every sample of the run.
"""

from __future__ import annotations

import os
import threading
import time
import tty

import numpy as np

from benchmarks.common import percentile
from tpforce.core.protocol import encode_sample
from tpforce.io.probe import ProbeSource


class _Stamp:
    """Notes the arrival time of every sample's sequence number."""

    def __init__(self, n: int) -> None:
        self.arrived = np.full(n, np.nan)

    def on_batch(self, batch: np.ndarray) -> None:
        now = time.perf_counter()
        seq = batch["seq"]
        self.arrived[seq[seq < len(self.arrived)]] = now

    def on_event(self, event: object) -> None:
        pass

    def close(self) -> None:
        pass


def measure(rate_sps: int, seconds: float) -> np.ndarray:
    """Latencies (s) of every sample written at `rate_sps` for `seconds`."""
    n = int(rate_sps * seconds)
    master, slave = os.openpty()
    tty.setraw(slave)
    frames = [encode_sample(k, int(k * 1e6 / rate_sps), 1000 + k % 50) for k in range(n)]
    written = np.full(n, np.nan)
    stamp = _Stamp(n)
    try:
        with ProbeSource(os.ttyname(slave), stamp, reconnect=False, greet=False):
            time.sleep(0.2)  # let the reader settle into its read loop

            def write() -> None:
                t0 = time.perf_counter() + 0.05
                for k, frame in enumerate(frames):
                    due = t0 + k / rate_sps
                    while (left := due - time.perf_counter()) > 0:
                        if left > 0.0006:
                            time.sleep(left - 0.0005)
                    written[k] = time.perf_counter()
                    os.write(master, frame)

            writer = threading.Thread(target=write)
            writer.start()
            writer.join()
            deadline = time.monotonic() + 2.0
            while np.isnan(stamp.arrived[-1]) and time.monotonic() < deadline:
                time.sleep(0.01)
    finally:
        os.close(master)
        os.close(slave)
    lat = stamp.arrived - written
    return lat[~np.isnan(lat)]


def run(quick: bool) -> list[str]:
    """p50/p99/max latency at 80 Hz and 1 kHz, as Markdown table rows."""
    lines = ["| rate | samples | p50 | p99 | max | p99 < 5 ms |", "|---|---|---|---|---|---|"]
    for rate, seconds in ((80, 3.0 if quick else 20.0), (1000, 2.0 if quick else 10.0)):
        lat = measure(rate, seconds) * 1e3
        values = lat.tolist()
        p50, p99 = percentile(values, 50), percentile(values, 99)
        lines.append(f"| {rate} Hz | {len(values)} | {p50:.2f} ms | {p99:.2f} ms | "
                     f"{max(values):.2f} ms | {'yes' if p99 < 5 else 'no'} |")
    return lines
