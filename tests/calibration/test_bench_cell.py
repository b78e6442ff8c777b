"""The simulated cell itself: each true parameter shows in its counts as documented."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tpforce.io.sim.cell import CellParams, G, SimCell

HALF_N = 5.0 * G  # half of the 10 kg capacity


def counts_at(cell: SimCell, t0: float, n: int = 400, seed: int = 0) -> np.ndarray:
    t = t0 + np.arange(n) / 80
    return cell.counts(np.zeros(n), np.random.default_rng(seed), t)


def test_nonlinearity_and_hysteresis_peak_at_half_capacity() -> None:
    p = CellParams(non_linearity_pct=0.1, hysteresis_pct=0.06, noise_counts=0.0)
    cell = SimCell(p, bench=True)
    fs_counts = p.capacity_n * p.counts_per_n
    cell.place(5.0)
    up = counts_at(cell, 0.0)[-80:].mean()
    cell.place(10.0)
    counts_at(cell, 5.0)
    cell.place(5.0)
    down = counts_at(cell, 10.0)[-80:].mean()
    straight = p.zero_counts + HALF_N * p.counts_per_n
    # up branch: +NL - H/2; down branch: +NL + H/2 (in % of capacity)
    assert (up - straight) / fs_counts * 100 == pytest.approx(0.1 - 0.03, abs=1e-4)
    assert (down - straight) / fs_counts * 100 == pytest.approx(0.1 + 0.03, abs=1e-4)
    cell.place(10.0)
    top = counts_at(cell, 15.0)[-80:].mean()
    assert top == pytest.approx(p.zero_counts + p.capacity_n * p.counts_per_n, abs=1)


def test_creep_follows_the_load_with_its_time_constant() -> None:
    p = CellParams(noise_counts=0.0, creep_pct_30min=0.5, creep_tau_s=300.0)
    cell = SimCell(p, bench=True)
    cell.place(5.0)
    t = np.arange(0, 1800 * 80) / 80
    x = cell.counts(np.zeros(len(t)), np.random.default_rng(0), t)
    load_counts = HALF_N * p.counts_per_n
    at = lambda s: x[int(s * 80)] - p.zero_counts - load_counts  # noqa: E731
    assert at(1799.99) / load_counts * 100 == pytest.approx(0.5, rel=0.01)
    assert at(300) / load_counts == pytest.approx(p.creep_n(HALF_N, 300) / HALF_N, rel=0.01)
    # a restarted device clock (t back to 0) does not undo the creep
    again = counts_at(cell, 0.0, 8)
    assert again[0] - p.zero_counts - load_counts == pytest.approx(at(1799.99), rel=0.01)


def test_placed_mass_rings_then_settles_and_noise_is_as_set() -> None:
    cell = SimCell(CellParams(noise_counts=40.0), bench=True)
    ticket = cell.place(2.0)
    x = counts_at(cell, 3.0, 800)
    assert cell.wait_placed(ticket) == 3.0
    assert np.ptp(x[:20]) > 0.02 * 2 * G * 42_000  # the ring at first
    assert np.std(x[-400:]) == pytest.approx(40.0, rel=0.15)


def test_hand_mode_ignores_placed_masses_and_place_is_thread_safe() -> None:
    cell = SimCell(CellParams(noise_counts=0.0))
    threads = [threading.Thread(target=cell.place, args=(float(m),)) for m in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    force = np.full(10, 3.0)
    x = cell.counts(force, np.random.default_rng(0), np.arange(10) / 80)
    assert np.all(x == 8_400 + 3.0 * 42_000)
    assert cell.wait_placed(8, timeout=1.0) == 0.0
    with pytest.raises(TimeoutError, match="made no samples"):
        cell.wait_placed(9, timeout=0.05)
