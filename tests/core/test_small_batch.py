"""The small-batch path (a few samples stepped over as Python lists) gives the same floats,
events and state as the array path, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from tpforce.core.filters import Despike, MovingAverage
from tpforce.core.samples import SampleFlag, batch_from_force
from tpforce.core.tracker import SMALL_BATCH, HoldConfig, Tracker

from .helpers import BAND

RESTART = int(SampleFlag.GAP_BEFORE | SampleFlag.RESET_BEFORE)


def _sizes(n: int, seed: int) -> list[int]:
    """Random batch sizes from 1 to SMALL_BATCH covering n samples."""
    rng = np.random.default_rng(seed)
    sizes: list[int] = []
    while sum(sizes) < n:
        sizes.append(int(rng.integers(1, SMALL_BATCH + 1)))
    return sizes


def _values(n: int, seed: int) -> np.ndarray:
    """Forces with noise, NaN, infinities, repeats and zeros of both signs."""
    rng = np.random.default_rng(seed)
    x = rng.normal(10.0, 3.0, n)
    pick = rng.random(n)
    x[pick < 0.05] = 0.0
    x[(pick >= 0.05) & (pick < 0.1)] = -0.0
    x[(pick >= 0.1) & (pick < 0.12)] = np.nan
    x[(pick >= 0.12) & (pick < 0.13)] = np.inf
    x[(pick >= 0.13) & (pick < 0.2)] = 7.25
    return x


def _flags(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    flags = np.zeros(n, dtype=np.uint16)
    flags[rng.random(n) < 0.03] |= int(SampleFlag.GAP_BEFORE)
    flags[rng.random(n) < 0.01] |= int(SampleFlag.RESET_BEFORE)
    return flags


@pytest.mark.parametrize("seed", range(6))
def test_despike_lists_match_arrays_bit_for_bit(seed: int) -> None:
    n = 3000
    x, flags = _values(n, seed), _flags(n, seed)
    whole = Despike().process(x, flags)
    part, out, i = Despike(), [], 0
    for size in _sizes(n, seed):
        xs, fs = x[i:i + size], flags[i:i + size]
        got = part.process_list(xs.tolist(), ((fs & RESTART) != 0).tolist())
        out.append(np.array(got) if got is not None else part.process(xs, fs))
        i += size
    assert np.concatenate(out).tobytes() == whole.tobytes()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("window", [0.0, 0.004, 0.04, 0.2])
def test_moving_average_lists_match_arrays_bit_for_bit(seed: int, window: float) -> None:
    n = 3000
    rng = np.random.default_rng(seed + 7)
    t = np.cumsum(rng.choice([0.001, 0.001, 0.0125, 0.3], n))
    x, flags = _values(n, seed), _flags(n, seed)
    whole = MovingAverage(window).process(t, x, flags)
    part, out, i = MovingAverage(window), [], 0
    for size in _sizes(n, seed):
        ts, xs, fs = t[i:i + size], x[i:i + size], flags[i:i + size]
        got = part.process_list(ts.tolist(), xs.tolist(), ((fs & RESTART) != 0).tolist())
        out.append(np.array(got) if got is not None else part.process(ts, xs, fs))
        i += size
    assert np.concatenate(out).tobytes() == whole.tobytes()


def test_moving_average_lists_refuse_times_that_do_not_increase() -> None:
    ma = MovingAverage(0.04)
    assert ma.process_list([0.0, 0.001], [1.0, 2.0], [False, False]) == [1.0, 1.5]
    assert ma.process_list([0.002, 0.002], [1.0, 2.0], [False, False]) is None
    assert ma.process_list([float("nan")], [1.0], [False]) is None
    assert ma.process_list([0.002], [3.0], [False]) == [2.0]


def _trace(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 1 kHz trace: ramps into and out of the band, over threshold, release, spikes,
    NaN, gaps, repeated times and button presses."""
    rng = np.random.default_rng(seed)
    levels = rng.choice([0.0, 1.0, 5.0, 16.0, 16.5, 17.0, 19.0, 21.0, 25.0], 40)
    f = np.repeat(levels, rng.integers(200, 3000, 40))
    f = np.convolve(f, np.ones(300) / 300, mode="same") + rng.normal(0, 0.2, len(f))
    n = len(f)
    f[rng.random(n) < 0.003] += 15.0
    f[rng.random(n) < 0.002] = np.nan
    f[rng.random(n) < 0.01] = 0.0
    t = np.arange(n) * 0.001
    t += np.cumsum(rng.random(n) < 0.0005) * 0.7  # gaps longer than the limit
    back = rng.random(n) < 0.001
    t[back] -= 0.003  # time that does not increase: refused
    flags = np.zeros(n, dtype=np.uint16)
    flags[rng.random(n) < 0.0005] |= int(SampleFlag.GAP_BEFORE)
    for start in rng.integers(0, n, 6):
        flags[start:start + int(rng.integers(1, 120))] |= int(SampleFlag.BUTTON)
    return t, f, flags


def _feed(config: HoldConfig, t: np.ndarray, f: np.ndarray, flags: np.ndarray,
          sizes: list[int]) -> tuple[list[str], bytes, list[str], str]:
    tracker = Tracker(config, BAND)
    batch = batch_from_force(t, f, flags)
    events: list[str] = []
    filtered: list[np.ndarray] = []
    i = 0
    for size in sizes:
        seen = tracker.samples_seen
        events += [repr(e) for e in tracker.process(batch[i:i + size].copy())]
        if tracker.samples_seen > seen:  # else every sample was refused: nothing filtered
            filtered.append(tracker.filtered_n.copy())
        i += size
    events += [repr(e) for e in tracker.finish()]
    return (events, np.concatenate(filtered).tobytes(), [repr(h) for h in tracker.holds],
            repr(tracker.state))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("config", [HoldConfig(), HoldConfig(mode="continuous"),
                                    HoldConfig(despike=False), HoldConfig(filter_window_s=0.0)])
def test_small_batches_give_the_events_values_and_state_of_the_array_path(
        seed: int, config: HoldConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same batches twice: once as they come, once with the list path turned off.
    t, f, flags = _trace(seed)
    sizes = _sizes(len(t), seed)
    small = _feed(config, t, f, flags, sizes)
    monkeypatch.setattr(Tracker, "_process_small", lambda self, batch: None)
    arrays = _feed(config, t, f, flags, sizes)
    assert small[0] == arrays[0]
    assert small[1] == arrays[1]
    assert small[2:] == arrays[2:]
    assert any("TimeRefused" in e for e in small[0])
    assert any("HoldScored" in e for e in small[0])
