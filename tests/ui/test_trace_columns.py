"""The trace draws each pixel column's lowest and highest force, whatever the rate, and is set
again only when its picture changes; a brief peak is never decimated away."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt5 import QtWidgets

from tpforce.core.ringbuffer import SampleRing
from tpforce.core.samples import empty_batch
from tpforce.ui.trace import PixelColumns, TracePlot

pytestmark = pytest.mark.gui


def _columns_by_hand(t: np.ndarray, f: np.ndarray, dt: float) -> dict[int, tuple[float, float]]:
    out: dict[int, tuple[float, float]] = {}
    for ti, fi in zip(t, f, strict=True):
        c = int(np.floor(ti / dt))
        if np.isnan(fi):
            out.setdefault(c, (np.nan, np.nan))
            continue
        lo, hi = out.get(c, (np.nan, np.nan))
        out[c] = (fi if np.isnan(lo) else min(lo, fi), fi if np.isnan(hi) else max(hi, fi))
    return out


def test_columns_fed_in_any_cuts_match_a_column_by_column_count() -> None:
    rng = np.random.default_rng(7)
    t = np.cumsum(rng.uniform(0.0005, 0.002, 5000)) + 100.0
    f = rng.normal(15.0, 3.0, len(t))
    f[rng.choice(len(t), 200, replace=False)] = np.nan  # readings without a force
    f[1000:1100] = np.nan  # a whole stretch of them
    columns = PixelColumns(capacity=4096)
    columns.reset(0.037)
    i = 0
    while i < len(t):
        n = int(rng.integers(1, 40))
        columns.add(t[i:i + n], f[i:i + n])
        i += n
    cols, lo, hi = columns.since(-10**9)
    want = _columns_by_hand(t, f, 0.037)
    assert list(cols) == sorted(want)
    np.testing.assert_array_equal(lo, [want[c][0] for c in cols])
    np.testing.assert_array_equal(hi, [want[c][1] for c in cols])
    # Time going back (a new stream) starts the columns again.
    columns.add(np.array([1.0, 1.01]), np.array([3.0, 4.0]))
    cols, lo, hi = columns.since(-10**9)
    assert list(cols) == [27] and (lo[0], hi[0]) == (3.0, 4.0)


def test_more_columns_than_capacity_keep_the_newest() -> None:
    columns = PixelColumns(capacity=100)
    columns.reset(1.0)
    for k in range(10):
        t = np.arange(k * 60, (k + 1) * 60, dtype=float) + 0.5
        columns.add(t, t)
    cols, lo, _ = columns.since(540)
    assert list(cols) == list(range(540, 600)) and list(lo) == [c + 0.5 for c in cols]


def _feed(ring: SampleRing, t0: float, force: np.ndarray, rate: float) -> float:
    batch = empty_batch(len(force))
    batch["t_s"] = t0 + np.arange(1, len(force) + 1) / rate
    batch["force_n"] = force
    ring.write(batch)
    return float(batch["t_s"][-1])


def test_the_curve_is_set_again_only_when_a_pixel_changes(qapp: object) -> None:
    trace = TracePlot(window_s=30.0, max_rate_sps=1000.0)
    trace.resize(800, 300)
    trace.show()
    QtWidgets.QApplication.processEvents()
    ring = SampleRing(60_000)
    t = _feed(ring, 0.0, np.full(20_000, 5.0), 1000.0)  # 20 s at 5 N
    trace.refresh(ring)
    _, y = trace.curve.getData()
    drawn = trace.drawn_range
    assert drawn == (0, 20_000)
    # One more sample at the same force, in the newest column: nothing to draw.
    dt = trace.columns.dt
    assert np.floor((t + 0.0001) / dt) == np.floor(t / dt)
    batch = empty_batch(1)
    batch["t_s"], batch["force_n"] = t + 0.0001, 5.0
    ring.write(batch)
    assert trace.refresh(ring) == 1
    assert trace.drawn_range == drawn and trace.curve.getData()[1] is y
    # A 1 ms spike to 9 N: drawn at once, and the column keeps it whatever the rate.
    t = _feed(ring, t + 0.0001, np.array([9.0]), 1000.0)
    trace.refresh(ring)
    assert trace.drawn_range == (20_001, 20_002)
    _, y = trace.curve.getData()
    assert np.nanmax(y[: (len(y) - 1) // 2]) == 9.0
    assert len(y) <= 4 * 800 + 1  # two points per pixel column, twice: never 20,000
    trace.close()
