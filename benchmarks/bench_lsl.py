"""Latency from bytes written to a pty to the sample pushed to LSL, at 80 SPS and 1 kHz.

The same path as `bench_latency` (a writer thread playing the probe on a real pseudo-terminal,
the real `ProbeSource` reading it through pyserial), ending in the processor's calibration
and the `LslOutlet`'s push, with a pylsl inlet in this process pulling the stream so that
liblsl really sends it. The baseline is the same path into a consumer that does nothing,
measured in the same run. liblsl reads tests/lsl/lsl_api.cfg (machine scope, loopback)
unless LSLAPICFG names another file.
"""

from __future__ import annotations

import os
import threading
import time
import tty
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import percentile
from tpforce.core.calibration import Calibration
from tpforce.core.protocol import encode_sample
from tpforce.io.probe import ProbeSource

CFG = Path(__file__).resolve().parent.parent / "tests" / "lsl" / "lsl_api.cfg"


class _Stamp:
    """Calibrates, hands the batch on (to LSL or nowhere), then notes when that returned."""

    def __init__(self, n: int, outlet: Any | None) -> None:
        self.arrived = np.full(n, np.nan)
        self.mapped = np.full(n, np.nan)  # each sample's time as the clock map gives it
        self.outlet = outlet
        self.calibration = Calibration(n_per_count=1e-3)

    def on_batch(self, batch: np.ndarray) -> None:
        self.calibration.apply(batch)
        if self.outlet is not None:
            self.outlet.on_batch(batch)
        now = time.perf_counter()
        seq = batch["seq"]
        keep = seq < len(self.arrived)
        self.arrived[seq[keep]] = now
        self.mapped[seq[keep]] = batch["t_host_s"][keep]

    def on_event(self, event: object) -> None:
        if self.outlet is not None:
            self.outlet.on_event(event)  # type: ignore[arg-type]

    def close(self) -> None:
        pass


def measure(rate_sps: int, seconds: float, outlet: Any | None) -> tuple[np.ndarray, np.ndarray]:
    """Latencies (s) of every sample written at `rate_sps` for `seconds`, and how much later
    than its sampling instant (when its write was due, on time.monotonic) the clock map puts
    each sample."""
    n = int(rate_sps * seconds)
    master, slave = os.openpty()
    tty.setraw(slave)
    frames = [encode_sample(k, int(k * 1e6 / rate_sps), 1000 + k % 50) for k in range(n)]
    written = np.full(n, np.nan)
    due_mono = np.full(n, np.nan)
    stamp = _Stamp(n, outlet)
    try:
        with ProbeSource(os.ttyname(slave), stamp, reconnect=False, greet=False):
            time.sleep(0.2)  # let the reader settle into its read loop
            mono_minus_perf = time.monotonic() - time.perf_counter()
            t0 = time.perf_counter() + 0.05
            for k, frame in enumerate(frames):
                due = t0 + k / rate_sps
                while (left := due - time.perf_counter()) > 0:
                    if left > 0.0006:
                        time.sleep(left - 0.0005)
                written[k] = time.perf_counter()
                due_mono[k] = due + mono_minus_perf
                os.write(master, frame)
            deadline = time.monotonic() + 2.0
            while np.isnan(stamp.arrived[-1]) and time.monotonic() < deadline:
                time.sleep(0.01)
    finally:
        os.close(master)
        os.close(slave)
    lat = stamp.arrived - written
    lag = stamp.mapped - due_mono
    return lat[~np.isnan(lat)], lag[~np.isnan(lag)]


def _pull(inlet: Any, stop: threading.Event, pulled: list[int]) -> None:
    """Read the stream as a recorder would, counting the samples."""
    while not stop.is_set():
        _, ts = inlet.pull_chunk(timeout=0.05)
        pulled[0] += len(ts)


def run(quick: bool) -> list[str]:
    """p50/p99 to the LSL push and to the no-op baseline, as Markdown table rows."""
    os.environ.setdefault("LSLAPICFG", str(CFG))
    import pylsl

    from tpforce.io.lsl import ForceStreamInfo, LslOutlet

    lines = ["| rate | path | samples | p50 | p99 | max | p99 < 5 ms |",
             "|---|---|---|---|---|---|---|"]
    for rate, seconds in ((80, 3.0 if quick else 20.0), (1000, 2.0 if quick else 10.0)):
        outlet = LslOutlet(f"tpforce-bench-{rate}", ForceStreamInfo(rate_hz=rate))
        inlet = pylsl.StreamInlet(pylsl.resolve_byprop("name", outlet.name, 1, 10.0)[0])
        inlet.open_stream(timeout=10.0)
        pulled = [0]
        stop = threading.Event()

        puller = threading.Thread(target=_pull, args=(inlet, stop, pulled), daemon=True)
        puller.start()
        results = {}
        lags: list[np.ndarray] = []
        for path, consumer in (("no-op consumer (baseline)", None), ("LSL push", outlet)):
            lat, lag = measure(rate, seconds, consumer)
            results[path] = lat * 1e3
            lags.append(lag * 1e3)
        stop.set()
        puller.join()
        outlet.close()
        inlet.close_stream()
        for path, lat in results.items():
            values = lat.tolist()
            p50, p99 = percentile(values, 50), percentile(values, 99)
            lines.append(f"| {rate} Hz | {path} | {len(values)} | {p50:.2f} ms | "
                         f"{p99:.2f} ms | {max(values):.2f} ms | {'yes' if p99 < 5 else 'no'} |")
        base = percentile(results["no-op consumer (baseline)"].tolist(), 99)
        lsl = percentile(results["LSL push"].tolist(), 99)
        lines.append(f"| {rate} Hz | LSL p99 - baseline p99 | | | {lsl - base:+.3f} ms | | |")
        lag = np.concatenate(lags)
        lines.append(f"<!-- {rate} Hz: the inlet pulled {pulled[0]} samples; mapped time - "
                     f"sampling instant: min {lag.min():+.3f} ms, median {np.median(lag):+.3f} ms, "
                     f"max {lag.max():+.3f} ms -->")
    return lines
