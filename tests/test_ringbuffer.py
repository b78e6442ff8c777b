"""The display's ring buffer keeps the newest samples in order, whatever the batch sizes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tpforce.core.ringbuffer import SampleRing
from tpforce.core.samples import empty_batch


def _batch(start: int, n: int) -> np.ndarray:
    b = empty_batch(n)
    b["seq"] = np.arange(start, start + n)
    return b


@settings(max_examples=100, deadline=None)
@given(capacity=st.integers(1, 50), sizes=st.lists(st.integers(0, 120), max_size=20))
def test_latest_is_the_newest_samples_in_order(capacity: int, sizes: list[int]) -> None:
    ring = SampleRing(capacity)
    written = 0
    for n in sizes:
        ring.write(_batch(written, n))
        written += n
    assert ring.count == written
    held = ring.latest()
    expected = np.arange(max(0, written - capacity), written)
    assert held["seq"].tolist() == expected.tolist()
    assert ring.latest(3)["seq"].tolist() == expected[-3:].tolist()


def test_empty_ring_gives_empty_array() -> None:
    ring = SampleRing(10)
    assert len(ring.latest()) == 0
