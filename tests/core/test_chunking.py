"""Any chunking of the same samples gives identical events and metrics (live = replay)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tpforce.core.hold import HOLD_MODES
from tpforce.core.samples import SampleFlag
from tpforce.core.tracker import HoldConfig

from .helpers import BAND, run

LEVELS = [0.0, 1.0, 2.0, 10.0, 14.99, 15.0, 16.0, 18.0, 18.01, 19.0, 20.0, 21.0, float("nan")]

pieces = st.lists(
    st.tuples(st.integers(1, 40) | st.integers(300, 700), st.sampled_from(LEVELS),
              st.booleans(), st.booleans()),
    min_size=1, max_size=25,
)


def build(spec: list[tuple[int, float, bool, bool]], seed: int):
    """A trace at 20 SPS from (samples, level, gap before, button) pieces plus noise."""
    rng = np.random.default_rng(seed)
    t: list[float] = []
    f: list[float] = []
    flags: list[int] = []
    now = 0.0
    for count, level, gap, button in spec:
        if gap:
            now += float(rng.choice([0.3, 1.7]))
        for i in range(count):
            t.append(now)
            f.append(level + (float(rng.normal(0, 0.3)) if seed % 2 else 0.0))
            bits = SampleFlag.GAP_BEFORE if (gap and i == 0) else 0
            if button and i < 3:
                bits |= SampleFlag.BUTTON
            flags.append(int(bits))
            now += 0.05
    return np.array(t), np.array(f), np.array(flags, dtype=np.uint16)


def signature(tracker, events) -> tuple[list[str], list[str]]:
    """Comparable text of the events and the per-hold metrics (NaN-safe)."""
    return [repr(e) for e in events], [repr(h) for h in tracker.holds]


@settings(max_examples=120, deadline=None)
@given(spec=pieces, seed=st.integers(0, 3), cuts=st.lists(st.floats(0, 1), max_size=8),
       window=st.sampled_from([0.0, 0.04, 0.2]), mode=st.sampled_from(HOLD_MODES),
       despike=st.booleans())
def test_chunking_never_changes_events_or_metrics(spec, seed, cuts, window, mode,
                                                  despike) -> None:
    # Pieces of up to 700 samples (35 s) make batches longer than every history window.
    t, f, flags = build(spec, seed)
    config = HoldConfig(filter_window_s=window, grace_s=1.0, target_s=2.0, mode=mode,
                        despike=despike)
    whole = signature(*run(t, f, BAND, config, flags))
    chunks = sorted({int(c * len(t)) for c in cuts} - {0, len(t)})
    assert signature(*run(t, f, BAND, config, flags, chunks)) == whole
    if len(t) < 3000:
        singles = list(range(1, len(t)))
        assert signature(*run(t, f, BAND, config, flags, singles)) == whole


def test_a_mark_late_in_a_batch_longer_than_the_history_sees_its_own_ramp() -> None:
    # An 80 s trace in one 80 s batch vs 1 s batches: a step marked at 65 s after a ramp.
    t = np.arange(0, 80, 0.0125)
    f = np.where(t < 60, np.minimum(5 * t, 16.0), np.minimum(16 + 2 * (t - 60), 21.0))
    flags = np.where((t >= 66) & (t < 66.1), SampleFlag.BUTTON, 0).astype(np.uint16)
    config = HoldConfig()
    whole = run(t, f, BAND, config, flags)
    small = run(t, f, BAND, config, flags, list(range(80, len(t), 80)))
    assert signature(*whole) == signature(*small)
    steps = [e for e in whole[1] if type(e).__name__ == "PressureStep"]
    assert [round(e.to_ppt_n, 1) for e in steps] == [21.0]
