"""Calibration records: the fit, the acceptance checks and the `tpforce calibration` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tpforce.core.calfit import CalPoint, fit_linear
from tpforce.io.calibration import RecordError, load_record
from tpforce.io.sim.probe import LoadCell

ROOT = Path(__file__).resolve().parents[2]
SIM_RECORD = ROOT / "calibration" / "records" / "SIM00001.json"


def _points(zero: float, cpn: float, bend: float = 0.0, lag: float = 0.0) -> list[CalPoint]:
    """A load-up, load-down series with optional curvature and hysteresis (in counts)."""
    forces = [0.0, 10.0, 20.0, 50.0, 80.0]
    up = [CalPoint(f, zero + f * cpn + bend * (f / 80) ** 2 * 80 * cpn) for f in forces]
    down = [CalPoint(f, zero + f * cpn + lag * cpn * (0 < f < 80), "down")
            for f in reversed(forces[:-1])]
    return up + down


def test_exact_points_give_back_the_line() -> None:
    fit = fit_linear(_points(8400, 42000))
    assert fit.zero_counts == pytest.approx(8400, abs=1e-6)
    assert fit.n_per_count == pytest.approx(1 / 42000, rel=1e-12)
    assert fit.problems == []


def test_a_bent_cell_fails_non_linearity() -> None:
    fit = fit_linear(_points(0, 1000, bend=0.02))
    assert fit.non_linearity_pct_fs > 0.5
    assert any("non-linearity" in p for p in fit.problems)


def test_hysteresis_is_measured_between_up_and_down() -> None:
    fit = fit_linear(_points(0, 1000, lag=0.8))  # 0.8 N lag on the way down, 1 % of 80 N
    assert fit.hysteresis_pct_fs == pytest.approx(1.0, rel=1e-3)
    assert any("hysteresis" in p for p in fit.problems)


def test_too_few_points_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least two points"):
        fit_linear([CalPoint(0.0, 100.0)])


def test_simulated_probe_record_matches_the_simulated_cell() -> None:
    record = load_record(SIM_RECORD)
    cell = LoadCell()
    assert record.calibration.zero_counts == cell.zero_counts
    assert record.calibration.n_per_count == pytest.approx(1 / cell.counts_per_n)
    assert record.calibration.tip_area_cm2 == 1.0
    fit = record.refit()
    assert fit.problems == []
    assert np.isclose(fit.n_per_count, record.calibration.n_per_count)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tpforce", "calibration", *args],
                          capture_output=True, text=True, timeout=60)


def test_check_command_passes_a_good_record() -> None:
    out = _cli("check", str(SIM_RECORD))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("PASS")


def test_check_command_fails_a_tampered_record(tmp_path: Path) -> None:
    data = json.loads(SIM_RECORD.read_text())
    data["n_per_count"] *= 1.01  # stored slope no longer matches the points
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    out = _cli("check", str(bad))
    assert out.returncode == 1
    assert "FAIL: stored slope differs" in out.stdout


@pytest.mark.parametrize("content", ["{not json", '{"serial": "X"}', ""])
def test_broken_record_is_one_line_exit_2(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text(content)
    out = _cli("check", str(bad))
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    with pytest.raises(RecordError):
        load_record(bad)


def test_missing_record_is_one_line_exit_2(tmp_path: Path) -> None:
    out = _cli("check", str(tmp_path / "nope.json"))
    assert out.returncode == 2 and "no such calibration record" in out.stderr
