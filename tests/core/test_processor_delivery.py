"""How the processor delivers: alarms do not wait for slow consumers, commands never interleave."""

from __future__ import annotations

import threading

import numpy as np

from tpforce.core.band import Band
from tpforce.core.calibration import Calibration
from tpforce.core.consumer import EventQueue
from tpforce.core.events import Event, HoldEnded, HoldStarted
from tpforce.core.processor import Processor
from tpforce.core.samples import batch_from_force
from tpforce.core.tracker import HoldConfig, Tracker


class Logged:
    """Writes what it receives into a shared log."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def on_batch(self, batch: np.ndarray) -> None:
        self.log.append(f"{self.name}:batch")

    def on_event(self, event: Event) -> None:
        self.log.append(f"{self.name}:{type(event).__name__}")

    def close(self) -> None:
        pass


class Blocking(Logged):
    """A consumer stuck in on_batch (a recorder on a slow disk) until released."""

    def __init__(self, name: str, log: list[str]) -> None:
        super().__init__(name, log)
        self.entered = threading.Event()
        self.release = threading.Event()

    def on_batch(self, batch: np.ndarray) -> None:
        self.entered.set()
        assert self.release.wait(10.0)
        super().on_batch(batch)


def _processor(consumers: list) -> Processor:
    tracker = Tracker(HoldConfig(filter_window_s=0.0), Band(15.0, 18.0, 20.0))
    return Processor(Calibration(0.0, 1.0), tracker, consumers)


def _batch(force_n: float, n: int = 10) -> np.ndarray:
    batch = batch_from_force(np.arange(n) * 0.1, np.full(n, force_n))
    batch["raw"] = int(force_n)
    return batch


def test_an_alarm_reaches_the_first_consumer_before_later_ones_take_the_batch() -> None:
    log: list[str] = []
    processor = _processor([Logged("display", log), Logged("recorder", log)])
    processor.on_batch(_batch(25.0))  # over the 20 N threshold
    assert log.index("display:OverThreshold") < log.index("recorder:batch")
    assert log.index("recorder:batch") < log.index("recorder:OverThreshold")


def test_a_command_waits_for_the_batch_being_delivered() -> None:
    log: list[str] = []
    slow = Blocking("slow", log)
    queue = EventQueue()
    processor = _processor([slow, queue])
    reader = threading.Thread(target=processor.on_batch, args=(_batch(16.0),))
    reader.start()
    assert slow.entered.wait(10.0)
    gui = threading.Thread(target=processor.stop_hold)  # the H key, mid-delivery
    gui.start()
    gui.join(0.5)
    assert gui.is_alive()  # it waits for the delivery instead of overtaking it
    slow.release.set()
    reader.join(10.0)
    gui.join(10.0)
    kinds = [type(e) for e in queue.drain() if isinstance(e, HoldStarted | HoldEnded)]
    assert kinds == [HoldStarted, HoldEnded]


def test_tare_ignores_saturated_samples() -> None:
    processor = _processor([])
    batch = _batch(0.0, 20)
    batch["raw"][:10] = 100
    batch["raw"][10:] = (1 << 23) - 1
    batch["flags"][10:] = 1 << 1  # SATURATED
    processor.on_batch(batch)
    processor.tare()
    assert processor.calibration.zero_counts == 100.0
