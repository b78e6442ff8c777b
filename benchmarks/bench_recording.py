"""Recordings: loading, `replay --verify`, seeking back in a replay, and the recorder's CPU.

A 1-hour 1 kHz recording is made in a temporary folder from the simulated hand (the demo
script looping: PPT trials, then holds with excursions) through the Processor and the
Recorder, exactly as live records it. Timed, medians, each against a baseline in the same
run:

- loading it (`RecordingReader`: context, every sample, every event) against
  `pandas.read_csv` of its CSV export (`tpforce export --csv`);
- `tpforce replay --verify` of it (`io.player.verify`) against one numpy pass over the same
  samples (counts to newtons and a comparison with the recorded force);
- a replay's seek back to near the end (the processor run again from the first sample)
  against a seek forward over the same stretch;
- the recorder's CPU: process CPU time (all threads, the writer included) of the live path
  at 1 kHz in 3-sample hand-offs with and without a Recorder, per second of recording; and
  `tpforce live` on a simulated 1 kHz probe with recording on against `--no-record`,
  interleaved, from /proc.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import make_recording, median_time
from tpforce.core.calibration import Calibration
from tpforce.core.processor import Processor
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.io.recorder import Recorder, RecordingReader

RATE = 1000
CAL = Calibration(zero_counts=8400.0, n_per_count=1.0 / 42000.0)


def context(rate: int = RATE) -> dict[str, object]:
    """What `Pipeline.recording_context` gives a recording, for the benchmark's device."""
    return {"app": "tpforce", "patient": "P-BENCH", "operator": "bench",
            "calibration": dataclasses.asdict(CAL),
            "hold_config": dataclasses.asdict(HoldConfig()), "band": None,
            "nominal_rate_sps": float(rate), "from_first_sample": True, "samples_before": 0}


def write_recording(path: Path, seconds: float, rate: int = RATE) -> int:
    """Record `seconds` of the simulated hand at `rate` through Processor and Recorder;
    returns the number of events recorded."""
    raw = make_recording(seconds, rate)
    proc = Processor(CAL, Tracker(HoldConfig()))
    recorder = Recorder(path, context(rate))
    proc.add_consumer(recorder)
    proc.on_batch(raw[:300].copy())
    proc.tare()  # at rest, as the therapist does first
    for k in range(300, len(raw), 1000):
        proc.on_batch(raw[k:k + 1000].copy())
    proc.close()  # ends a running hold, closes the recorder (end time and count)
    return len(RecordingReader(path).events())


def record_demo(path: str | os.PathLike[str], speed: float = 8.0, rate: int = 80,
                target_s: float = 30.0, timeout_s: float = 120.0) -> Path:
    """Record `tpforce demo`'s whole session (the simulated therapist: tare, three trials, a
    hold, after-trials, the cable pulled once) from its first sample into `path`; returns
    it once the session has reached NO SIGNAL and come back."""
    from tpforce.cli.demo import DemoTherapist, screen_view
    from tpforce.cli.wiring import SIM_PORT, open_pipeline
    from tpforce.core.consumer import EventQueue
    from tpforce.core.events import SignalRestored
    from tpforce.io.sim.hand import Hand, SeeingIntent, Seen

    holder: list[Processor] = []
    therapist = DemoTherapist()
    events = EventQueue()
    intent = SeeingIntent(lambda: screen_view(holder[0]) if holder else Seen())
    hand = Hand(cv=0.03, tremor_hz=10.0, reaction_tau_s=0.22, correction_tau_s=1.0)
    with open_pipeline(SIM_PORT, sim_options={"rate_sps": rate, "speed": speed,
                                              "intent": intent, "hand": hand},
                       hold=HoldConfig(target_s=target_s), extras=[therapist, events],
                       record=path, patient="P017", operator="op3") as pipeline:
        holder.append(pipeline.processor)
        therapist.processor = pipeline.processor
        probe = pipeline.owned[0]
        therapist.unplug = lambda for_s: probe.unplug(for_s=for_s, reset=False)
        end = time.monotonic() + timeout_s
        while not any(isinstance(e, SignalRestored) for e in events.drain()):
            if time.monotonic() > end:
                raise RuntimeError("the demo session did not finish")
            time.sleep(0.05)
        time.sleep(2.0 / speed)  # a little after the signal came back
    return Path(path)


def _load(path: Path, how: str) -> float:
    """Open a recording: "map" only (the samples memory-mapped, read lazily), "pass" and
    read every field of every sample once, "copy" them into memory, "all" copy them and
    decode every event."""
    reader = RecordingReader(path)
    samples = reader.samples()
    if how == "map":
        return float(len(samples))
    if how == "pass":
        return float(sum(np.sum(samples[name]) for name in samples.dtype.names or ()))
    copied = reader.load_samples()
    return float(len(copied) + (len(reader.events()) if how == "all" else 0))


def _numpy_pass(path: Path) -> bool:
    samples = np.fromfile(path / "samples.bin", dtype=RecordingReader(path).samples().dtype)
    force = (samples["raw"] - CAL.zero_counts) * CAL.n_per_count
    return bool(np.array_equal(force, samples["force_n"]))


def _seek(path: Path, back: bool) -> float:
    """Seconds for one seek to 1 s before the end: back from the end, or forward from 1 s
    after the start (the same stretch, minus the first second)."""
    from tpforce.io.player import PlayerSource

    player = PlayerSource(path)
    proc = Processor(player.calibration, Tracker(player.config))
    player.sink = proc
    player.attach(proc, play=False)
    target = player.end_t - 1.0
    player.seek(player.end_t if back else player.start_t + 1.0)
    t0 = time.perf_counter()
    player.seek(target)
    return time.perf_counter() - t0


def recorder_cpu(seconds: float, rate: int = RATE, record: bool = True) -> float:
    """Process CPU seconds of the live path (3-sample hand-offs) over `seconds` of samples
    at `rate`, with or without a Recorder (closed, so its writer has written everything)."""
    raw = make_recording(seconds, rate)
    chunks = [raw[k:k + 3].copy() for k in range(0, len(raw), 3)]
    with tempfile.TemporaryDirectory() as tmp:
        proc = Processor(CAL, Tracker(HoldConfig()))
        recorder = Recorder(Path(tmp) / "r.tpfrec", context(rate)) if record else None
        if recorder is not None:
            proc.add_consumer(recorder)
        t0 = time.process_time()
        for chunk in chunks:
            proc.on_batch(chunk)
        proc.close()
        return time.process_time() - t0


def live_cpu(record: bool, seconds: float, tmp: Path) -> float:
    """Percent of a core used by `tpforce live` on a simulated 1 kHz probe, recording into
    `tmp` (the per-user data folder) or with --no-record."""
    from benchmarks.bench_display import _cpu_ticks
    from tpforce.io.sim.probe import SimProbe

    with SimProbe(rate_sps=RATE) as probe:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TPFORCE_DATA_DIR=str(tmp))
        args = [sys.executable, "-m", "tpforce", "live", "--port", probe.port, "--duration",
                str(seconds + 6), "--settings", str(tmp / "s.ini")]
        if not record:
            args.append("--no-record")
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            time.sleep(4.0)  # imports, window, first frames
            ticks0, t0 = _cpu_ticks(proc.pid), time.monotonic()
            time.sleep(seconds)
            ticks1, t1 = _cpu_ticks(proc.pid), time.monotonic()
        finally:
            proc.wait(timeout=60)
    return 100.0 * (ticks1 - ticks0) / os.sysconf("SC_CLK_TCK") / (t1 - t0)


def run(quick: bool = False) -> list[str]:
    """Every figure of the recording section of docs/benchmarks.md."""
    import pandas as pd

    from tpforce.cli import main
    from tpforce.io.player import verify

    seconds = 120.0 if quick else 3600.0
    repeats = 3 if quick else 5
    out: list[str] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        rec = tmp / "hour.tpfrec"
        t0 = time.perf_counter()
        write_recording(rec, seconds)
        reader = RecordingReader(rec)
        n, n_events = reader.sample_count, len(reader.events())
        size = sum(f.stat().st_size for f in rec.iterdir())
        out.append(f"recording: {seconds / 60:.0f} min at {RATE} SPS, {n} samples, "
                   f"{n_events} events, {size / 1e6:.1f} MB (made in "
                   f"{time.perf_counter() - t0:.0f} s)")
        csv = tmp / "hour.csv"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            if main(["export", str(rec), "--csv", "-o", str(csv)]) != 0:
                raise RuntimeError("tpforce export --csv failed")
        pandas = median_time(lambda: pd.read_csv(csv), repeats)
        for how, what in (("map", "open, the samples memory-mapped (read lazily)"),
                          ("pass", "open and read every field of every sample once"),
                          ("copy", "open and copy every sample into memory"),
                          ("all", f"open, copy every sample and decode the {n_events} "
                                  "events")):
            took = median_time(lambda how=how: _load(rec, how), repeats)
            out.append(f"| load: {what} | {took * 1e3:.1f} ms | pandas.read_csv of its CSV "
                       f"export (samples only): {pandas * 1e3:.0f} ms | "
                       f"{pandas / took:.1f}x faster | >= 10x |")
        difference, _ = verify(rec)
        if difference is not None:
            raise RuntimeError(f"the benchmark recording does not verify: {difference}")
        ver = median_time(lambda: verify(rec), repeats)
        npass = median_time(lambda: _numpy_pass(rec), repeats)
        out.append(f"| replay --verify | {ver * 1e3:.0f} ms | one numpy pass over the same "
                   f"samples: {npass * 1e3:.0f} ms | {ver / npass:.1f}x the numpy pass | "
                   "<= 1 s |")
        back = statistics.median(_seek(rec, True) for _ in range(3))
        fwd = statistics.median(_seek(rec, False) for _ in range(3))
        out.append(f"| replay seek back to 1 s before the end | {back * 1e3:.0f} ms | a seek "
                   f"forward over the same stretch: {fwd * 1e3:.0f} ms | "
                   f"{back / fwd:.2f}x | |")
    cpu_s = 10.0 if quick else 60.0
    with_rec = statistics.median(recorder_cpu(cpu_s) for _ in range(3))
    without = statistics.median(recorder_cpu(cpu_s, record=False) for _ in range(3))
    share = 100.0 * (with_rec - without) / cpu_s
    out.append(f"| live path at 1 kHz, 3-sample hand-offs, CPU per second recorded | "
               f"{with_rec / cpu_s * 100:.2f} % with the Recorder | "
               f"{without / cpu_s * 100:.2f} % without | recorder {share:.2f} % of a core | "
               "<= 2 % |")
    rounds = 1 if quick else 3
    live_s = 4.0 if quick else 8.0
    on: list[float] = []
    off: list[float] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        for _ in range(rounds):
            on.append(live_cpu(True, live_s, Path(tmp_name)))
            off.append(live_cpu(False, live_s, Path(tmp_name)))
    out.append(f"| `tpforce live` on a 1 kHz simulated probe, {live_s:g} s, "
               f"{rounds} round(s) | {statistics.median(on):.1f} % recording "
               f"({', '.join(f'{v:.1f}' for v in on)}) | {statistics.median(off):.1f} % "
               f"--no-record ({', '.join(f'{v:.1f}' for v in off)}) | difference "
               f"{statistics.median(on) - statistics.median(off):+.1f} % of a core | |")
    return out
