"""The reader against a misbehaving link: corruption, dropped bytes, resets, a raising sink."""

from __future__ import annotations

import numpy as np
import pytest

from tests.collector import Collector
from tpforce.core.events import SignalLost
from tpforce.core.samples import SampleFlag
from tpforce.io.probe import ProbeSource
from tpforce.io.sim.faults import Faults
from tpforce.io.sim.probe import SimProbe


def _check_against_truth(got: np.ndarray, truth: np.ndarray) -> int:
    """Every accepted sample equals what the device sent; returns the exact number missing."""
    seq = got["seq"].astype(np.int64)
    assert np.all(np.diff(seq) > 0), "duplicated or reordered samples"
    sent = truth[seq - truth["seq"][0]]
    assert np.array_equal(sent["seq"], seq)
    assert np.array_equal(sent["raw"], got["raw"]), "a corrupted sample was accepted"
    assert np.allclose(got["t_s"], sent["t_us"] * 1e-6, rtol=0, atol=1e-9)
    return int(seq[-1] - seq[0] + 1 - len(seq))


@pytest.mark.parametrize(("corrupt", "drop"), [(0.01, 0.0), (0.0, 0.002)])
def test_no_damaged_sample_accepted_and_losses_exact(corrupt: float, drop: float) -> None:
    """1 % of bytes corrupted (or 0.2 % dropped) over 100,000 frames, unpaced."""
    n = 100_000
    sink = Collector()
    faults = Faults(corrupt=corrupt, drop=drop)
    # Unpaced, the probe sends its frames in a few seconds; samples read while greeting it
    # are not streamed (they precede the session), so the reader under test skips the
    # greeting and sees the whole stream.
    with SimProbe(rate_sps=1000, speed=0, faults=faults, max_samples=n, keep_history=True,
                  seed=7) as probe, \
            ProbeSource(probe.port, sink, stale_s=5.0, greet=False) as source:
        sink.wait_for(SignalLost, timeout=90.0)  # the probe has sent everything
        health = source.health()
    got = sink.samples()
    truth = probe.history_array()
    assert len(truth) == n
    missing = _check_against_truth(got, truth)
    assert health.lost_frames == missing  # exact, from sequence numbers
    assert health.samples == len(got)
    assert len(got) > 0.7 * n and missing > 0
    assert health.crc_errors + health.framing_errors > 0
    assert health.resets == 0
    print(f"\n{corrupt=} {drop=}: sent {n}, accepted {len(got)}, lost {missing} (exact), "
          f"crc {health.crc_errors}, framing {health.framing_errors}, "
          f"resyncs {health.resyncs}, rejected {source.assembler.stats.rejected}")
    flagged = got["flags"] & SampleFlag.GAP_BEFORE != 0
    assert flagged.sum() == np.count_nonzero(np.diff(got["seq"]) > 1)
