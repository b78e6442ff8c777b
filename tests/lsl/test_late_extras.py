"""The wiring's late-extras hook (what `--lsl` builds its outlet with) and `lsl:` port checks.

No liblsl starts here: these run in the ordinary test process.
"""

from __future__ import annotations

import queue
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from tests.lsl.conftest import HERE
from tpforce.cli.wiring import open_pipeline, start_pipeline
from tpforce.core.calibration import Calibration
from tpforce.core.consumer import Consumer
from tpforce.core.events import Event
from tpforce.core.samples import empty_batch
from tpforce.core.source import Device, HeldSink, Sink, Source, SourceHealth, SourceOpenError
from tpforce.io.lsl import inlet_for_port


class EagerSource:
    """Delivers its first batches from inside `open()`, before the wiring can release them."""

    def __init__(self) -> None:
        self.sink: Sink = HeldSink()
        self.stale_s = 0.25
        self.opened = False
        self.closed = False

    @property
    def device(self) -> Device | None:
        return Device("eager", "E1", 50.0, where="memory") if self.opened else None

    @property
    def nominal_rate_sps(self) -> float:
        return 50.0

    @property
    def calibration(self) -> Calibration | None:
        return Calibration(0.0, 0.5, serial="E1")

    def open(self) -> EagerSource:
        self.opened = True
        for k in range(3):
            b = empty_batch(2)
            b["seq"] = [2 * k, 2 * k + 1]
            b["t_s"] = b["seq"] / 50.0
            b["raw"] = b["seq"] * 10
            self.sink.on_batch(b)
        return self

    def close(self) -> None:
        self.closed = True

    def health(self) -> SourceHealth:
        return SourceHealth(6, 6, 0, 0, 0, 0, 0, 0, 0, True, True)

    def __enter__(self) -> EagerSource:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


class Tap:
    """Queues copies of what it is handed; notes whether it was closed."""

    def __init__(self) -> None:
        self.batches: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
        self.closed = False

    def on_batch(self, batch: np.ndarray) -> None:
        self.batches.put(batch.copy())

    def on_event(self, event: Event) -> None:
        """Events are not looked at here."""

    def close(self) -> None:
        self.closed = True

    def seqs(self, n: int) -> list[int]:
        """The first `n` sequence numbers received (waits for them)."""
        out: list[int] = []
        while len(out) < n:
            out += self.batches.get(timeout=10.0)["seq"].tolist()
        return out[:n]


def test_late_extras_see_the_open_device_and_the_chosen_calibration_and_every_sample() -> None:
    source = EagerSource()
    late = Tap()
    seen: list[tuple[Device | None, Calibration]] = []
    chosen = Calibration(0.0, 0.25, serial="E1")

    def make(src: Source, cal: Calibration) -> Sequence[Consumer]:
        seen.append((src.device, cal))
        return [late]

    pipeline = start_pipeline(source, choose=lambda s: chosen, late_extras=make)
    try:
        assert seen == [(Device("eager", "E1", 50.0, where="memory"), chosen)]
        assert late in pipeline.extras
        # delivered inside open(), so before the hook ran: held, then released to it too
        got = [late.batches.get(timeout=5.0) for _ in range(3)]
        assert np.concatenate(got)["seq"].tolist() == [0, 1, 2, 3, 4, 5]
        assert np.concatenate(got)["force_n"].tolist() == [0.0, 2.5, 5.0, 7.5, 10.0, 12.5]
    finally:
        pipeline.close()
    assert late.closed  # closed with the processor


def test_a_failure_after_the_late_extras_closes_the_source_and_what_they_made(
        tmp_path: Path) -> None:
    source = EagerSource()
    made = Tap()
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(OSError):
        start_pipeline(source, late_extras=lambda s, c: [made], record=blocked / "rec")
    assert source.closed and made.closed

    def boom(src: Source, cal: Calibration) -> Sequence[Consumer]:
        raise SourceOpenError("outlet refused")

    source = EagerSource()
    with pytest.raises(SourceOpenError, match="outlet refused"):
        start_pipeline(source, late_extras=boom)
    assert source.closed


def test_a_late_extra_on_the_simulated_probe_gets_what_an_early_one_gets() -> None:
    early, late = Tap(), Tap()
    with open_pipeline("sim", extras=[early], late_extras=lambda s, c: [late]):
        assert late.seqs(200) == early.seqs(200)


def test_lsl_ports_refuse_options_they_have_no_use_for() -> None:
    with pytest.raises(SourceOpenError, match="--baud, --unit: for serial ports"):
        inlet_for_port("lsl:x", baudrate=9600, unit="N", pattern=None)
    with pytest.raises(SourceOpenError, match="leave --driver out"):
        inlet_for_port("lsl:x", "mark10")
    with pytest.raises(SourceOpenError, match="needs the stream's name"):
        inlet_for_port("lsl:")
    inlet = inlet_for_port("lsl:x", reconnect=False, pattern=None)
    assert inlet.url == "lsl:x" and not inlet.recover and inlet.device is None


@pytest.mark.parametrize("args", [
    ["stream", "--port", "lsl:x", "--baud", "9600"],
    ["stream", "--port", "lsl:x", "--calibration", "cal.json"],
    ["stream", "--port", "lsl:", "--duration", "0"],
])
def test_bad_lsl_port_options_are_one_line_and_exit_2(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "tpforce", *args], capture_output=True,
                          text=True, timeout=60, cwd=HERE.parent.parent)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stdout == ""
