"""The live display: frame time, GUI CPU, pty-to-paint latency, NO SIGNAL time, memory.

- frame time: `refresh()` plus processing the paint events it posts, offscreen, with a
  60 s trace window full of 80 Hz or 1 kHz data and 1/60 s of new samples per frame;
- CPU: `tpforce live` in its own process on a simulated probe (in this process) at 80 Hz
  and 1 kHz, sampled from /proc after warm-up (whole process and its main thread), set
  against the same acquisition (reader thread, core, ring) without a window, so that the
  display's own share shows, and against the old code when TPFORCE_BENCH_BASELINE names a
  source tree of it; the three interleaved, three rounds; and the reader thread's own CPU
  inside `Processor.on_batch`;
- latency: a feeder process writes probe frames to a pty and notes when; this process reads
  them through ProbeSource and the core, and the trace reports each painted frame: latency
  is paint time minus the write time of the oldest sample new in that frame;
- NO SIGNAL: time from the last sample's arrival to the readout going grey;
- memory: a 2-hour 1 kHz session pushed through processor and window faster than real time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import make_recording, percentile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
FRAME_S = 1.0 / 60.0
WINDOW_S = 60.0


_APP: list[object] = []  # keeps the QApplication alive for the whole run


def _app() -> object:
    from PyQt5 import QtWidgets

    if not _APP:
        _APP.append(QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1]))
    return _APP[0]


def _window(rate_sps: int, ring_s: float = 120.0):
    """A window on a processor fed directly (no port): the GUI's cost alone."""
    from tpforce.core.calibration import Calibration
    from tpforce.core.consumer import EventQueue
    from tpforce.core.processor import Processor
    from tpforce.core.ringbuffer import SampleRing
    from tpforce.core.tracker import HoldConfig, Tracker
    from tpforce.ui.settings import LiveSettings
    from tpforce.ui.sound import SoundPlayer
    from tpforce.ui.window import LiveWindow

    _app()
    ring, events = SampleRing(int(ring_s * rate_sps)), EventQueue()
    processor = Processor(Calibration(8400, 1 / 42000), Tracker(HoldConfig()), [ring, events])
    player = SoundPlayer(folder=Path(tempfile.gettempdir()) / "tpforce-bench-sounds",
                         enable_audio=False)
    window = LiveWindow(processor, ring, events, LiveSettings(window_s=WINDOW_S),
                        player=player, max_rate_sps=rate_sps)
    window.timer.stop()  # the benchmark drives the frames
    window.show()
    return window, processor


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def frame_times(rate_sps: int, frames: int) -> list[float]:
    """Milliseconds per frame (refresh + the painting it causes) with a full 60 s window."""
    window, processor = _window(rate_sps)
    rec = make_recording(WINDOW_S * 2, rate_sps)
    per_frame = max(1, round(rate_sps * FRAME_S))
    processor.on_batch(rec[: int(WINDOW_S * rate_sps)].copy())
    app = _app()
    window.refresh()
    app.processEvents()
    pos, out = int(WINDOW_S * rate_sps), []
    for _ in range(frames):
        if pos + per_frame > len(rec):
            pos = int(WINDOW_S * rate_sps)
        chunk = rec[pos:pos + per_frame].copy()
        chunk["t_s"] += processor.state.t_s - chunk["t_s"][0] + 1.0 / rate_sps
        processor.on_batch(chunk)
        pos += per_frame
        t0 = time.perf_counter()
        window.refresh()
        app.processEvents()  # the paint events the refresh posted: the real painting
        out.append((time.perf_counter() - t0) * 1000)
    window.close()
    return out


ACQUISITION_ONLY = """
import sys, time
from tpforce.cli.wiring import open_pipeline
pipeline = open_pipeline(sys.argv[1])
time.sleep(float(sys.argv[2]))
pipeline.close()
"""


def process_cpu(rate_sps: int, seconds: float, window: bool = True,
                tree: str | None = None) -> tuple[float, float]:
    """Percent of one core used by `tpforce live` (or the same wiring without a window)
    on a simulated probe running in this process, sampled from /proc after warm-up:
    (whole process, its main thread). `tree` runs another source tree's `tpforce`."""
    from tpforce.io.sim.probe import SimProbe

    with SimProbe(rate_sps=rate_sps) as probe, tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        if tree:
            env["PYTHONPATH"] = tree
        args = ["-m", "tpforce", "live", "--port", probe.port, "--duration",
                str(seconds + 6), "--settings", str(Path(tmp) / "s.ini")] if window \
            else ["-c", ACQUISITION_ONLY, probe.port, str(seconds + 6)]
        proc = subprocess.Popen([sys.executable, *args], env=env, cwd=tree or None,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(4.0)  # imports, window, first frames
            ticks0, main0, t0 = _cpu_ticks(proc.pid), _cpu_ticks(proc.pid, proc.pid), \
                time.monotonic()
            time.sleep(seconds)
            ticks1, main1, t1 = _cpu_ticks(proc.pid), _cpu_ticks(proc.pid, proc.pid), \
                time.monotonic()
        finally:
            proc.wait(timeout=60)
    per_s = os.sysconf("SC_CLK_TCK") * (t1 - t0) / 100.0
    return (ticks1 - ticks0) / per_s, (main1 - main0) / per_s


def _cpu_ticks(pid: int, tid: int | None = None) -> int:
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def cpu_rounds(rate_sps: int, seconds: float, rounds: int, baseline: str | None
               ) -> dict[str, list[tuple[float, float]]]:
    """CPU of this code, the baseline tree (if any) and the acquisition alone, interleaved
    round by round so that a change in the machine's load falls on all of them alike."""
    out: dict[str, list[tuple[float, float]]] = {"live": [], "baseline": [], "acquisition": []}
    for _ in range(rounds):
        out["live"].append(process_cpu(rate_sps, seconds))
        if baseline:
            out["baseline"].append(process_cpu(rate_sps, seconds, tree=baseline))
        out["acquisition"].append(process_cpu(rate_sps, seconds, window=False))
    return out


def feed(rate_sps: int, seconds: float, out: str) -> None:
    """Feeder process: stream probe frames into a pty, noting each sample's write time."""
    from tpforce.core.protocol import encode_sample

    master, slave = os.openpty()
    import tty

    tty.setraw(slave)
    print(os.ttyname(slave), flush=True)
    sys.stdin.readline()  # the reader is open: go
    n = int(rate_sps * seconds)
    written = np.zeros(n)
    t0 = time.monotonic()
    k = 0
    while k < n:
        due = min(n, int((time.monotonic() - t0) * rate_sps) + 1)
        if due > k:
            frames = b"".join(encode_sample(i, round(i * 1e6 / rate_sps), 8400 + 420_000, 0)
                              for i in range(k, due))
            now = time.monotonic()
            os.write(master, frames)
            written[k:due] = now
            k = due
        time.sleep(0.0005)
    np.save(out, written)
    sys.stdin.readline()  # keep the pty open until told
    os.close(master)


def latency(rate_sps: int, seconds: float) -> tuple[list[float], list[float], float]:
    """Pty write -> painted frame (ms, oldest and newest new sample), and NO SIGNAL time."""
    from PyQt5 import QtCore

    from tpforce.io.probe import ProbeSource

    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "written.npy")
        feeder = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_display", "feed",
                                   str(rate_sps), str(seconds), out],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert feeder.stdin is not None and feeder.stdout is not None
        port = feeder.stdout.readline().strip()
        window, processor = _window(rate_sps)
        # the feeder only writes sample frames: no probe to greet
        source = ProbeSource(port, processor, reconnect=False, greet=False).open()
        paints: list[tuple[float, int, int]] = []
        last_seen = [0]

        def painted(_: float) -> None:
            # The samples the last redraw first showed; samples that fell on pixels already
            # drawn needed no paint (the picture already held them) and are not counted.
            first, seen = window.trace.drawn_range
            if seen > last_seen[0]:
                paints.append((time.monotonic(), max(first, last_seen[0]), seen))
                last_seen[0] = seen

        window.trace.on_painted = painted
        window.timer.start()
        feeder.stdin.write("go\n")
        feeder.stdin.flush()
        loop = QtCore.QEventLoop()
        stale_at: list[float] = []

        def check() -> None:  # runs after each refresh: the same timer, connected later
            if stale_at or not Path(out).exists():
                return
            if window.stale:
                stale_at.append(time.monotonic())
                loop.quit()

        window.timer.timeout.connect(check)
        QtCore.QTimer.singleShot(int((seconds + 10) * 1000), loop.quit)
        loop.exec_()
        written = np.load(out)
        last_arrival = float(window.ring.latest(1)["t_host_s"][0])
        stale_ms = ((stale_at[0] if stale_at else time.monotonic()) - last_arrival) * 1000
        feeder.stdin.write("done\n")
        feeder.stdin.flush()
        feeder.wait(timeout=10)
        source.close()
        window.close()
    warm = [p for p in paints if p[1] > rate_sps]  # skip the first second
    oldest = [(t - written[a]) * 1000 for t, a, b in warm if b <= len(written)]
    newest = [(t - written[b - 1]) * 1000 for t, a, b in warm if b <= len(written)]
    return oldest, newest, stale_ms


def memory_growth(hours: float, rate_sps: int = 1000) -> tuple[float, float, float]:
    """RSS after 10 simulated minutes and at the end (MB), and seconds taken."""
    window, processor = _window(rate_sps)
    loop = make_recording(600, rate_sps)
    chunk_n = rate_sps  # 1 s of data per frame: 60x faster than real time
    total = int(hours * 3600)
    warm_mb = 0.0
    start = time.perf_counter()
    for s in range(total):
        i = (s * chunk_n) % len(loop)
        chunk = loop[i:i + chunk_n].copy()
        chunk["t_s"] = s + np.arange(chunk_n) / rate_sps
        chunk["seq"] = s * chunk_n + np.arange(chunk_n)
        processor.on_batch(chunk)
        window.refresh()
        if s % 30 == 0:
            _app().processEvents()
        if s == 600:
            warm_mb = _rss_mb()
    end_mb = _rss_mb()
    window.close()
    return warm_mb, end_mb, time.perf_counter() - start


def reader_share(rate_sps: int, seconds: float) -> tuple[float, float, float]:
    """The reader thread's CPU inside `Processor.on_batch` (the core and its consumers) with
    the window open on a simulated probe: (% of one core, batches a second, us a batch)."""
    from PyQt5 import QtCore

    from tpforce.cli.wiring import open_pipeline
    from tpforce.io.sim.probe import SimProbe
    from tpforce.ui.settings import LiveSettings
    from tpforce.ui.sound import SoundPlayer
    from tpforce.ui.window import LiveWindow

    _app()
    probe = SimProbe(rate_sps=rate_sps)
    probe.start()
    pipeline = open_pipeline(probe.port)
    processor = pipeline.processor
    spent = [0.0, 0]
    inner = processor.on_batch

    def timed(batch: np.ndarray) -> None:  # runs on the reader thread: its own CPU clock
        t0 = time.thread_time()
        inner(batch)
        spent[0] += time.thread_time() - t0
        spent[1] += 1

    processor.on_batch = timed  # type: ignore[method-assign]
    player = SoundPlayer(folder=Path(tempfile.gettempdir()) / "tpforce-bench-sounds",
                         enable_audio=False)
    window = LiveWindow(processor, pipeline.ring, pipeline.events, LiveSettings(),
                        player=player, max_rate_sps=rate_sps)
    window.show()
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(3000, loop.quit)  # warm-up
    loop.exec_()
    spent[:] = [0.0, 0]
    t0 = time.monotonic()
    QtCore.QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec_()
    took = time.monotonic() - t0
    used, calls = spent[0], int(spent[1])
    window.close()
    pipeline.close()
    probe.stop()
    return 100.0 * used / took, calls / took, 1e6 * used / max(1, calls)


def run(quick: bool = False) -> list[str]:
    """All display figures as lines for docs/benchmarks.md."""
    lines = []
    frames = 200 if quick else 1200
    for rate in (80, 1000):
        ms = frame_times(rate, frames)
        lines.append(f"frame time, {rate} Hz input, 60 s window: median "
                     f"{percentile(ms, 50):.2f} ms, p99 {percentile(ms, 99):.2f} ms "
                     f"({frames} frames, offscreen)")
    cpu_s = 5.0 if quick else 15.0
    baseline = os.environ.get("TPFORCE_BENCH_BASELINE")  # a source tree of the old code
    for rate in (80, 1000):
        runs = cpu_rounds(rate, cpu_s, 1 if quick else 3, baseline)
        for name, values in runs.items():
            if values:
                total = sorted(v[0] for v in values)
                main = sorted(v[1] for v in values)
                lines.append(
                    f"CPU, {rate} Hz, {name}: {percentile(total, 50):.1f} % of one core "
                    f"({', '.join(f'{v:.1f}' for v in total)}); main thread "
                    f"{percentile(main, 50):.1f} %, other threads "
                    f"{percentile(total, 50) - percentile(main, 50):.1f} % "
                    f"({len(values)} x {cpu_s:.0f} s after warm-up)")
    for rate in (80, 1000):
        share, per_s, us = reader_share(rate, cpu_s)
        lines.append(f"reader thread inside Processor.on_batch, {rate} Hz, window open: "
                     f"{share:.1f} % of one core ({per_s:.0f} batches/s, {us:.0f} us each)")
    lat_s = 5.0 if quick else 20.0
    for rate in (80, 1000):
        oldest, newest, stale_ms = latency(rate, lat_s)
        lines.append(f"pty write -> painted frame, {rate} Hz: p99 {percentile(oldest, 99):.1f} ms"
                     f" (median {percentile(oldest, 50):.1f}) for the oldest new sample, p99 "
                     f"{percentile(newest, 99):.1f} ms for the newest ({len(oldest)} frames)")
        lines.append(f"last sample -> NO SIGNAL shown, {rate} Hz: {stale_ms:.0f} ms")
    hours = 0.25 if quick else 2.0
    warm, end, took = memory_growth(hours)
    lines.append(f"memory, {hours:g} h session at 1 kHz (run in {took:.0f} s): RSS "
                 f"{warm:.1f} MB after 10 min, {end:.1f} MB at the end, growth "
                 f"{end - warm:+.1f} MB")
    return lines


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "feed":
        feed(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
    else:
        print("\n".join(run(quick="--quick" in sys.argv)))
