"""Hardware in the loop without hardware: the real firmware ELF on a simulated ATmega328P.

`firmware/build/tpforce_sim` (libsimavr) runs the firmware with a modelled HX711 fed from a
waveform file and bridges its UART to a pty; tpforce's own `ProbeSource` reads that pty
through pyserial, exactly as it reads a probe on USB. Tests wait on queues with timeouts;
the simulation runs faster than real time and is never slept on.
"""

from __future__ import annotations

import contextlib
import queue
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from tpforce.core.events import DeviceInfo, Event
from tpforce.io.probe import ProbeSource

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
BUILD = FIRMWARE / "build"
ELF = BUILD / "tpforce_probe.elf"
SIM = BUILD / "tpforce_sim"
ARDUINO_CORE = Path("/usr/share/arduino/hardware/arduino/avr/cores/arduino")
PACKAGES = ("make gcc gcc-avr avr-libc binutils-avr arduino-core-avr simavr libsimavr-dev "
            "libelf-dev pkg-config")
WAIT_S = 30.0  # generous: the simulation runs about 5x faster than real time


def _missing_toolchain() -> str | None:
    """What is missing to build and simulate the firmware, or None."""
    for tool in ("make", "cc", "avr-gcc", "avr-objcopy", "pkg-config"):
        if shutil.which(tool) is None:
            return tool
    if not ARDUINO_CORE.is_dir():
        return str(ARDUINO_CORE)
    if subprocess.run(["pkg-config", "--exists", "simavr"]).returncode != 0:
        return "libsimavr (pkg-config simavr)"
    return None


@pytest.fixture(scope="session")
def firmware_build() -> tuple[Path, Path]:
    """Build the firmware ELF and the simulator host once per session (make is incremental)."""
    missing = _missing_toolchain()
    if missing:
        pytest.skip(f"firmware tests need {missing}; on Debian: apt install {PACKAGES}")
    run = subprocess.run(["make", "-s", "-C", str(FIRMWARE), "firmware", "sim"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"firmware build failed:\n{run.stdout}\n{run.stderr}"
    return ELF, SIM


class Recorder:
    """The sink under test: queues every batch and event the reader delivers."""

    def __init__(self) -> None:
        self.batches: queue.Queue[np.ndarray] = queue.Queue()
        self.events: queue.Queue[Event] = queue.Queue()

    def on_batch(self, batch: np.ndarray) -> None:
        """Keep a copy: the reader may reuse its arrays."""
        self.batches.put(batch.copy())

    def on_event(self, event: Event) -> None:
        """Queue the event for the test thread."""
        self.events.put(event)

    def close(self) -> None:
        """Nothing to release."""


SUMMARY = re.compile(r"hx711 produced (\d+) read (\d+) overwritten (\d+) collisions (\d+) "
                     r"power_downs (\d+) stray_pulses (\d+) short_reads (\d+)")
LED = re.compile(r"led toggles (\d+), led (on|off)")
SPEED = re.compile(r"simulated ([\d.]+) s in ([\d.]+) s wall \(([\d.]+)x")


class SimulatedProbe:
    """The simulator host process, and a ProbeSource reading the firmware over its pty."""

    def __init__(self, elf: Path, sim: Path, waveform: Path, log: Path,
                 options: Sequence[str] = ()) -> None:
        self.log = log
        self._log_file = log.open("w")
        self.proc = subprocess.Popen(
            [str(sim), *options, "-w", str(waveform), str(elf)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._log_file, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("pty "), f"simulator said {line!r}; see {log}"
        self.port = line.split()[1]
        self.recorder = Recorder()
        self.source = ProbeSource(self.port, sink=self.recorder, identify_timeout_s=WAIT_S / 2)
        self._samples: list[np.ndarray] = []
        self._count = 0
        self.summary: dict[str, float] = {}

    def start(self) -> SimulatedProbe:
        """Open the pty and greet the firmware while the MCU starts to run; `open()` returns
        once the firmware answered HELLO and READ_CAL."""
        failed: list[BaseException] = []

        def open_source() -> None:
            try:
                self.source.open()
            except BaseException as exc:  # handed to the test thread below
                failed.append(exc)

        opener = threading.Thread(target=open_source, daemon=True)
        opener.start()
        self.control("run")
        opener.join(WAIT_S)
        assert not opener.is_alive(), f"the greeting did not end; see {self.log}"
        if failed:
            raise failed[0]
        self.wait_event(DeviceInfo)
        return self

    def control(self, command: str) -> None:
        """A line to the simulator host: run, reset or quit."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def wait_event(self, kind: type[Event], timeout: float = WAIT_S) -> Event:
        """The next event of `kind` (others are skipped), or fail after `timeout`."""
        while True:
            try:
                event = self.recorder.events.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no {kind.__name__} within {timeout} s; see {self.log}")
            if isinstance(event, kind):
                return event

    def drain_events(self) -> None:
        """Forget the events received so far, so that a wait sees only what follows."""
        with contextlib.suppress(queue.Empty):
            while True:
                self.recorder.events.get_nowait()

    def samples(self, n: int, timeout: float = WAIT_S) -> np.ndarray:
        """All samples received so far, waiting until there are at least `n`."""
        while self._count < n:
            try:
                batch = self.recorder.batches.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"{self._count} of {n} samples within {timeout} s; see {self.log}")
            self._samples.append(batch)
            self._count += len(batch)
        return np.concatenate(self._samples) if self._samples else np.zeros(0)

    def more_samples(self, n: int, timeout: float = WAIT_S) -> np.ndarray:
        """Wait for `n` samples beyond those already received; returns all of them."""
        self.drain()
        return self.samples(self._count + n, timeout)

    def drain(self) -> np.ndarray:
        """Take whatever batches have arrived, without waiting."""
        with contextlib.suppress(queue.Empty):
            while True:
                batch = self.recorder.batches.get_nowait()
                self._samples.append(batch)
                self._count += len(batch)
        return np.concatenate(self._samples) if self._samples else np.zeros(0)

    def stop(self) -> dict[str, float]:
        """Close the reader, end the simulation and return its summary counters."""
        if self.proc.poll() is None:
            self.source.close()
            with contextlib.suppress(BrokenPipeError):
                self.control("quit")
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self._log_file.close()
            text = self.log.read_text()
            if m := SUMMARY.search(text):
                keys = ("produced", "read", "overwritten", "collisions", "power_downs",
                        "stray_pulses", "short_reads")
                self.summary.update(zip(keys, map(int, m.groups()), strict=True))
            if m := LED.search(text):
                self.summary.update(led_toggles=int(m[1]), led_on=int(m[2] == "on"))
            if m := SPEED.search(text):
                self.summary.update(sim_s=float(m[1]), wall_s=float(m[2]), speed=float(m[3]))
            self.summary["returncode"] = self.proc.returncode
        return self.summary


def write_waveform(path: Path, counts: Sequence[int], button: Sequence[int] | None = None) -> Path:
    """A waveform file: one conversion per line, counts and button (1 = pressed)."""
    pressed = button if button is not None else [0] * len(counts)
    lines = [f"{int(c)} {int(b)}" for c, b in zip(counts, pressed, strict=True)]
    path.write_text("# counts button\n" + "\n".join(lines) + "\n")
    return path


@pytest.fixture
def sim_probe(firmware_build: tuple[Path, Path], tmp_path: Path) -> Iterator:
    """A factory: sim_probe(counts, button, options) boots a simulated probe on that waveform
    (options go to the simulator host, e.g. ["-S", "-s", "10"])."""
    started: list[SimulatedProbe] = []

    def boot(counts: Sequence[int], button: Sequence[int] | None = None,
             options: Sequence[str] = ()) -> SimulatedProbe:
        n = len(started)
        wave = write_waveform(tmp_path / f"waveform{n}.txt", counts, button)
        probe = SimulatedProbe(*firmware_build, wave, tmp_path / f"sim{n}.log", options)
        started.append(probe)
        return probe.start()

    yield boot
    for probe in started:
        probe.stop()

