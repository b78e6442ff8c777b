"""The one source interface: every port driver satisfies it, and a producer written from its
docstring alone (no port, no pyserial) runs through the one wiring like the probe does."""

from __future__ import annotations

import queue
import threading

import numpy as np
import pytest

from tpforce.cli.wiring import start_pipeline
from tpforce.core.calibration import Calibration
from tpforce.core.events import Event, SignalLost, SignalRestored
from tpforce.core.samples import empty_batch
from tpforce.core.source import (
    Device,
    HeldSink,
    Sink,
    Source,
    SourceHealth,
    SourceOpenError,
    StaleWatch,
)
from tpforce.io.drivers import DRIVERS, make_source


class ListSource:
    """A producer of fixed batches from its own thread, as a recording player would be."""

    def __init__(self, batches: list[np.ndarray], calibration: Calibration | None) -> None:
        self.sink: Sink = HeldSink()
        self.stale_s = 0.25
        self._batches = batches
        self._calibration = calibration
        self._device: Device | None = None
        self._thread: threading.Thread | None = None
        self.go = threading.Event()  # the test decides when delivery starts
        self.sent = 0

    @property
    def device(self) -> Device | None:
        return self._device

    @property
    def nominal_rate_sps(self) -> float:
        return 100.0

    @property
    def calibration(self) -> Calibration | None:
        return self._calibration

    def open(self) -> ListSource:
        if self._calibration is None:
            raise SourceOpenError("list: nothing to play; give it batches")
        self._device = Device("list player", "L1", 100.0, where="memory")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        self.go.wait(5.0)
        for batch in self._batches:
            self.sink.on_batch(batch)
            self.sent += len(batch)

    def close(self) -> None:
        if self._thread is not None:
            self.go.set()
            self._thread.join(5.0)
            self._thread = None

    def health(self) -> SourceHealth:
        return SourceHealth(self.sent, self.sent, 0, 0, 0, 0, 0, 0, 0, True, True)

    def __enter__(self) -> ListSource:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _batch(t0: float, raws: list[int]) -> np.ndarray:
    b = empty_batch(len(raws))
    b["t_s"] = t0 + 0.01 * np.arange(len(raws))
    b["seq"] = np.arange(len(raws))
    b["raw"] = raws
    return b


class _Tap:
    def __init__(self) -> None:
        self.batches: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()

    def on_batch(self, batch: np.ndarray) -> None:
        self.batches.put(batch.copy())

    def on_event(self, event: Event) -> None:
        """Events are not looked at here."""

    def close(self) -> None:
        """Nothing to release."""


def test_every_port_driver_is_a_source() -> None:
    for name in DRIVERS:
        assert isinstance(make_source("loop://", name), Source), name
    assert isinstance(ListSource([], Calibration()), Source)


def test_a_new_producer_runs_through_the_one_wiring_with_its_own_calibration() -> None:
    cal = Calibration(100.0, 0.5, serial="L1")
    source = ListSource([_batch(0.0, [100, 102, 104]), _batch(0.03, [110])], cal)
    tap = _Tap()
    pipeline = start_pipeline(source, extras=[tap])
    try:
        assert pipeline.processor.calibration == cal
        assert pipeline.device_label == "list player L1 on memory"
        source.go.set()
        first, second = tap.batches.get(timeout=5.0), tap.batches.get(timeout=5.0)
        assert first["force_n"].tolist() == [0.0, 1.0, 2.0] and second["force_n"][0] == 5.0
    finally:
        pipeline.close()


def test_a_source_that_cannot_open_leaves_nothing_running() -> None:
    with pytest.raises(SourceOpenError, match="nothing to play"):
        start_pipeline(ListSource([], None))


def test_held_sink_delivers_what_came_before_release_first_and_in_order() -> None:
    held = HeldSink()
    seen: list[object] = []

    class Into:
        def on_batch(self, batch: np.ndarray) -> None:
            seen.append(int(batch["raw"][0]))

        def on_event(self, event: Event) -> None:
            seen.append(type(event).__name__)

    held.on_batch(_batch(0.0, [1]))
    held.on_event(SignalLost(0.0))
    held.on_batch(_batch(0.1, [2]))
    assert seen == []  # nothing passes before the calibration is chosen
    held.release(Into())
    held.on_batch(_batch(0.2, [3]))
    assert seen == [1, "SignalLost", 2, 3]


def test_stale_watch_says_lost_once_and_restored_with_the_gap() -> None:
    watch = StaleWatch(0.25)
    assert watch.check(10.0) is None  # nothing seen yet: not stale
    assert watch.batch(_batch(1.0, [5]), now=10.0) is None
    assert watch.check(10.2) is None
    lost = watch.check(10.3)
    assert isinstance(lost, SignalLost) and lost.t_s == 1.0
    assert watch.check(10.5) is None  # said once
    restored = watch.batch(_batch(1.5, [6]), now=10.6)
    assert isinstance(restored, SignalRestored) and restored.gap_s == pytest.approx(0.5)
