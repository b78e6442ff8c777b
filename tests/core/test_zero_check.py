"""The zero check after a hold: the simulated hand presses, lets go and the probe rests; a
cell whose zero moved during the hold is caught, one that stayed is passed, a press before
the probe settles is never judged, and the decisions are the same however the stream is cut."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tpforce.core.band import Band
from tpforce.core.calibration import Calibration
from tpforce.core.events import Event, Input, InputKind, ZeroChecked
from tpforce.core.processor import Processor
from tpforce.core.replay import Collector
from tpforce.core.samples import SAMPLE_DTYPE
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.io.sim.hand import Hand, ScriptedIntent, Step
from tpforce.io.sim.probe import LoadCell

SPS = 80
CELL = LoadCell()  # the built-in probe's 10 kg cell: 42,000 counts/N, 40 counts RMS noise
CAL = Calibration(CELL.zero_counts, 1.0 / CELL.counts_per_n)
BAND = Band(14.0, 18.0, 20.0)


def trace(drift_n: float, steps: list[Step], seed: int = 3) -> np.ndarray:
    """Raw samples of the simulated hand on the cell, whose zero moves by `drift_n` over the
    hold (warming up under the therapist's hand) and stays there."""
    intent = ScriptedIntent(steps, loop=False)
    t = np.arange(0.0, intent.period_s, 1.0 / SPS)
    want, _ = intent.at(t)
    force = Hand(seed=seed).apply(t, want)
    hold = (t >= 2.0) & (t <= 2.0 + steps[1].duration_s + steps[2].duration_s)
    zero_shift = np.cumsum(hold) / max(int(hold.sum()), 1) * drift_n
    raw = CELL.counts(force + zero_shift, np.random.default_rng(seed))
    batch = np.zeros(len(t), SAMPLE_DTYPE)
    batch["t_s"], batch["t_host_s"], batch["seq"] = t, t, np.arange(len(t))
    batch["raw"], batch["force_n"] = raw, np.nan
    return batch


HOLD = [Step(2.0, 0.0), Step(3.2, 16.0), Step(15.0, 16.0), Step(0.3, 0.0), Step(8.0, 0.0)]


def run(batch: np.ndarray, chunks: list[int] | None = None, tare_at: int | None = 40
        ) -> list[Event]:
    """The samples through a processor in treatment (band given), tared at rest at sample
    `tare_at`, cut into batches at `chunks`."""
    sink = Collector()
    proc = Processor(CAL, Tracker(HoldConfig(), BAND), [sink])
    cuts = sorted({0, len(batch), *(chunks or []), *([tare_at] if tare_at else [])})
    for a, b in itertools.pairwise(cuts):
        proc.on_batch(batch[a:b].copy())
        if b == tare_at:
            proc.apply(Input.make(InputKind.TARE))
    proc.close()
    return sink.events


def checks(events: list[Event]) -> list[ZeroChecked]:
    return [e for e in events if isinstance(e, ZeroChecked)]


def test_a_zero_that_stayed_is_within_the_limit() -> None:
    events = run(trace(0.2, HOLD))
    [z] = checks(events)
    assert z.checked and not z.exceeded and z.tared and z.index == 1
    assert z.drift_n == pytest.approx(0.2, abs=0.03)
    assert z.limit_n == pytest.approx(0.980665)
    assert "zero within 0.98 N" in z.message
    release = next(e.t_s for e in events if type(e).__name__ == "HoldEnded")
    assert release + 2.0 <= z.t_s <= release + 6.0  # settled first, then a 1 s window


def test_a_zero_that_moved_asks_for_a_re_tare_until_one_is_taken() -> None:
    batch = trace(1.5, HOLD)
    sink = Collector()
    proc = Processor(CAL, Tracker(HoldConfig(), BAND), [sink])
    proc.on_batch(batch[:40].copy())
    proc.tare()
    proc.on_batch(batch[40:].copy())
    [z] = checks(sink.events)
    assert z.checked and z.exceeded
    assert z.drift_n == pytest.approx(1.5, abs=0.03)
    assert z.message.startswith("zero moved +1.5") and "from the tare" in z.message
    assert "re-tare" in z.message and proc.state.zero_drift == z.message
    proc.tare()
    assert proc.state.zero_drift == ""


def test_without_a_tare_the_message_says_what_the_zero_is() -> None:
    [z] = checks(run(trace(1.5, HOLD), tare_at=None))
    assert z.exceeded and not z.tared and "the calibration's zero (not tared)" in z.message


def test_a_press_before_the_probe_settles_is_not_judged() -> None:
    steps = [*HOLD[:4], Step(0.8, 0.0), Step(1.0, 10.0), Step(2.0, 10.0), Step(0.3, 0.0),
             Step(0.5, 0.0)]
    zs = checks(run(trace(1.5, steps)))
    assert zs and not zs[0].checked and zs[0].drift_n is None and not zs[0].exceeded
    assert "pressed again before it had settled" in zs[0].message


def test_a_probe_that_never_rests_is_reported_unchecked() -> None:
    batch = trace(0.0, [*HOLD[:4], Step(14.0, 0.0)])
    rest = batch["t_s"] > 21.0  # after the release the cell is shaken (e.g. carried about)
    batch["raw"][rest] += (np.sin(batch["t_s"][rest] * 2.0) * 0.5 * CELL.counts_per_n
                           ).astype(np.int64)
    [z] = checks(run(batch))
    assert not z.checked and "not at rest within 10 s" in z.message


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_decisions_do_not_depend_on_how_the_stream_is_cut(seed: int) -> None:
    batch = trace(1.5, HOLD)
    whole = run(batch)
    rng = np.random.default_rng(seed)
    cuts = sorted(set(rng.integers(1, len(batch) - 1, 120).tolist()))
    assert [repr(e) for e in run(batch, cuts)] == [repr(e) for e in whole]
    assert len(checks(whole)) == 1


def test_a_slow_gauge_gets_a_longer_window_not_an_unchecked_zero() -> None:
    batch = trace(1.5, HOLD)[::16]  # 5 readings a second, as a polled gauge gives
    [z] = checks(run(batch, tare_at=3))
    assert z.checked and z.exceeded and z.drift_n == pytest.approx(1.5, abs=0.05)
