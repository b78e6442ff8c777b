"""The bench recovers a simulated cell's true parameters (tolerances: calibration/README.md).

Samples are injected straight into the procedure from the cell model, so a 90 s creep test
takes no wall time; the same procedure runs over a real pty in test_bench_cli.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from benchhelp import Bench

from tpforce.core.calbench import G_STANDARD, BenchError, fit_readings, verdict
from tpforce.io.sim.cell import CellParams

MASSES = [1.0, 2.0, 5.0, 8.0, 10.0]  # 5 kg is half the capacity: where the bows peak
TYPICAL = CellParams(zero_counts=-12_345, counts_per_n=-38_500.0, capacity_kg=10.0,
                     non_linearity_pct=0.05, hysteresis_pct=0.05, noise_counts=40.0,
                     creep_pct_30min=0.1, creep_tau_s=300.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("params", [
    TYPICAL,
    CellParams(non_linearity_pct=0.2, hysteresis_pct=0.1, noise_counts=60.0),
    CellParams(),  # ideal: every bow is 0
], ids=["typical-tension", "poor", "ideal"])
def test_scale_offset_nonlinearity_hysteresis_are_recovered(params: CellParams,
                                                            seed: int) -> None:
    bench = Bench(params, seed=seed)
    bench.ladder(MASSES)
    res = bench.result()
    # the cell's sensitivity (tare to full scale) whatever its bow
    assert abs(res.sensitivity_counts_per_n / params.counts_per_n - 1.0) < 0.0005  # 0.05 %
    if params.non_linearity_pct <= 0.05:  # a best-fit line departs from it by ~0.6 NL
        assert abs(1.0 / res.n_per_count / params.counts_per_n - 1.0) < 0.0005
    assert abs(res.zero_counts - params.zero_counts) < params.noise_counts  # within the noise
    assert abs(res.non_linearity_pct_fs - params.non_linearity_pct) < 0.02
    assert abs(res.hysteresis_pct_fs - params.hysteresis_pct) < 0.02
    assert res.noise_n == pytest.approx(params.noise_counts / abs(params.counts_per_n),
                                        rel=0.1)
    assert res.full_scale_n == pytest.approx(10.0 * G_STANDARD)
    assert res.repeatability_pct_fs is None  # one cycle cannot say


def test_poor_cell_is_caught_by_the_typical_figures_but_accepted() -> None:
    bench = Bench(CellParams(non_linearity_pct=0.2, hysteresis_pct=0.1))
    bench.ladder(MASSES)
    v = verdict(bench.result())
    assert v.accepted
    typical = {c.name: c.passed for c in v.typical}
    assert typical == {"non-linearity": False, "hysteresis": False}


def test_bad_cell_is_rejected_with_advice() -> None:
    bench = Bench(CellParams(non_linearity_pct=2.0, hysteresis_pct=1.5))
    bench.ladder(MASSES)
    v = verdict(bench.result())
    assert not v.accepted
    failed = [c for c in v.acceptance if not c.passed]
    assert {c.name for c in failed} == {"fit error", "hysteresis"}
    assert all("re-seat" in c.advice or "mass" in c.advice for c in failed)


def test_quadratic_fit_follows_a_bowed_cell() -> None:
    bench = Bench(CellParams(non_linearity_pct=1.0, noise_counts=10.0))
    bench.ladder(MASSES)
    line = bench.result()
    proc = bench.proc
    assert proc.tare is not None
    quad = fit_readings(proc.readings, proc.tare, proc.noise_counts, 10 * G_STANDARD,
                        quadratic=True)  # the same readings, fitted again
    assert line.fit_error_pct_fs > 0.3
    assert quad.fit_error_pct_fs < 0.1 * line.fit_error_pct_fs
    assert quad.non_linearity_pct_fs == pytest.approx(1.0, abs=0.02)  # the cell, not the fit


def test_repeatability_comes_from_repeated_cycles() -> None:
    bench = Bench(CellParams(noise_counts=40.0))
    bench.ladder(MASSES, cycles=2)
    res = bench.result()
    assert res.repeatability_pct_fs is not None
    # an ideal cell repeats within its noise: 40 counts of 4.1 M at full scale
    assert res.repeatability_pct_fs < 0.005


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("creep_pct, tau_s", [(0.3, 300.0), (0.1, 120.0), (0.3, 900.0)])
def test_creep_is_recovered_within_10_percent(creep_pct: float, tau_s: float,
                                               seed: int) -> None:
    params = CellParams(creep_pct_30min=creep_pct, creep_tau_s=tau_s, hysteresis_pct=0.03,
                        non_linearity_pct=0.03)
    bench = Bench(params, seed=seed)
    bench.ladder(MASSES)
    creep = bench.creep(5.0, 90.0)
    half = bench.proc.window_s / 2
    true_n = (bench.twin_mean(creep.t_last_s, half) - bench.twin_mean(creep.t_first_s, half)) \
        / params.counts_per_n
    assert true_n > 0
    assert creep.drift_n == pytest.approx(true_n, rel=0.10)
    assert 85.0 < creep.duration_s < 90.0
    res = bench.result()
    assert res.creep is creep
    assert creep.pct_per_30min == pytest.approx(creep.drift_pct * 1800 / creep.duration_s)


def test_creep_of_a_fresh_cell_matches_the_model_formula() -> None:
    params = CellParams(creep_pct_30min=0.5, creep_tau_s=300.0)
    bench = Bench(params, warmup_s=0.0)
    bench.ladder(MASSES)
    rest = bench.place(0.0)  # the ladder's creep dies away before the test
    for _ in range(int(3000 * 80 / 40)):
        bench.chunk()
    t_on = bench.t
    creep = bench.creep(5.0, 90.0)
    load = 5.0 * G_STANDARD
    model = params.creep_n(load, creep.t_last_s - t_on) - params.creep_n(load,
                                                                         creep.t_first_s - t_on)
    assert rest < t_on
    assert creep.drift_n == pytest.approx(model, rel=0.10)


def test_warmup_measures_zero_wander_and_refuses_a_drifting_zero() -> None:
    bench = Bench(CellParams())
    w = bench.run_step()
    assert w.stable and w.wander_counts < 40  # 1 s means of 40-count noise
    assert w.noise_counts == pytest.approx(40.0, rel=0.1)

    drifting = Bench(CellParams())
    orig = drifting.chunk

    def drift_chunk(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
        ts, x = orig(n)
        return ts, x + 30.0 * ts  # 30 counts/s: 1800 counts in a minute, the limit is 824

    drifting.chunk = drift_chunk  # type: ignore[method-assign]
    with pytest.raises(BenchError, match=r"zero moved \d+ counts in 60 s .* warm up longer"):
        drifting.run_step()
