"""The reader hands a fast stream on in batches, and a slow one sample by sample."""

from __future__ import annotations

import numpy as np

from tests.collector import Collector
from tpforce.io.probe import ProbeSource
from tpforce.io.sim.probe import SimProbe


def _batch_sizes(rate_sps: int, samples: int) -> list[int]:
    sink = Collector()
    with SimProbe(rate_sps=rate_sps) as probe, ProbeSource(probe.port, sink) as source:
        source.hello()
        assert sink.wait_samples(samples, timeout=10.0)
    return [len(b) for b in sink.batches[1:]]  # the first may hold what queued before open


def test_a_fast_stream_is_handed_on_several_samples_at_a_time() -> None:
    sizes = _batch_sizes(1000, 600)
    assert float(np.median(sizes)) >= 2  # one hand-off per 3 ms at most


def test_a_slow_stream_is_handed_on_sample_by_sample() -> None:
    sizes = _batch_sizes(80, 40)
    assert float(np.median(sizes)) == 1  # nothing held back at 80 SPS
