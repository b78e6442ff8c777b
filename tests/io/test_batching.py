"""The reader hands a fast stream on in batches, and a slow one sample by sample."""

from __future__ import annotations

import queue

import numpy as np

from tpforce.core.events import Event
from tpforce.io.serial_source import SerialSource
from tpforce.io.sim.probe import SimProbe


class Sizes:
    """Records each batch's size; the test waits on the queue for enough samples."""

    def __init__(self) -> None:
        self.sizes: queue.Queue[int] = queue.Queue()

    def on_batch(self, batch: np.ndarray) -> None:
        self.sizes.put(len(batch))

    def on_event(self, event: Event) -> None:
        pass

    def close(self) -> None:
        pass


def _batch_sizes(rate_sps: int, samples: int) -> list[int]:
    sink = Sizes()
    got: list[int] = []
    with SimProbe(rate_sps=rate_sps) as probe, SerialSource(probe.port, sink) as source:
        source.hello()
        while sum(got) < samples:
            got.append(sink.sizes.get(timeout=10.0))
    return got[1:]  # the first read may hold what queued before the port opened


def test_a_fast_stream_is_handed_on_several_samples_at_a_time() -> None:
    sizes = _batch_sizes(1000, 600)
    assert float(np.median(sizes)) >= 2  # one hand-off per 3 ms at most


def test_a_slow_stream_is_handed_on_sample_by_sample() -> None:
    sizes = _batch_sizes(80, 40)
    assert float(np.median(sizes)) == 1  # nothing held back at 80 SPS
