"""Trial scores on known traces."""

from __future__ import annotations

import numpy as np
import pytest

from tpforce.train.scores import score_hold, score_ramp, summarise


def test_hold_scores_on_a_known_trace() -> None:
    t = np.arange(0, 14, 0.0125)
    f = np.where(t < 2, 10 * t, 20.0)
    f = np.where((t >= 6) & (t < 7), 23.0, f)  # one excursion 1 N above the 18-22 band
    s = score_hold(t, f, 0.0, (4.0, 14.0), 20.0, (18.0, 22.0))
    assert s["time_in_band_pct"] == pytest.approx(90.0, abs=0.2)
    assert s["rmse_n"] == pytest.approx(np.sqrt(0.1 * 9), abs=0.02)
    assert s["time_to_band_s"] == pytest.approx(1.8, abs=0.02)
    assert s["overshoots"] == 1 and s["largest_overshoot_n"] == pytest.approx(1.0)
    chatter = np.where((t >= 6) & (t < 7) & (np.arange(t.size) % 4 < 2), 22.5, f)
    s3 = score_hold(t, chatter, 0.0, (4.0, 14.0), 20.0, (18.0, 22.0))
    assert s3["overshoots"] == 1  # tremor chattering on the edge is one overshoot
    twice = np.where((t >= 10) & (t < 11), 23.0, f)
    assert score_hold(t, twice, 0.0, (4.0, 14.0), 20.0, (18.0, 22.0))["overshoots"] == 2
    sag = score_hold(t, 20 - 0.1 * t, 0.0, (4.0, 14.0), 20.0, (18.0, 22.0))
    assert sag["drift_n_per_s"] == pytest.approx(-0.1, abs=1e-6)


def test_ramp_rate_and_steadiness() -> None:
    t = np.arange(0, 10, 0.0125)
    steady = np.clip((t - 1) * 5.0, 0, 30)
    s = score_ramp(t, steady, 0.0, 10.0, 5.0, 20.0)
    assert s["ramp_rate_n_per_s"] == pytest.approx(5.0, abs=0.01)
    assert s["steadiness_cv_pct"] == pytest.approx(0.0, abs=0.5)
    assert s["time_in_band_pct"] == pytest.approx(100.0)
    shaky = np.clip((t - 1) * 5.0 + 1.5 * np.sin(2 * np.pi * 1.5 * t), 0, 30)
    s2 = score_ramp(t, np.maximum.accumulate(shaky), 0.0, 10.0, 5.0, 20.0)
    assert s2["steadiness_cv_pct"] > 20
    summary = summarise([s, {**s, "ramp_rate_n_per_s": 6.0, "rate_error_pct": 20.0}])
    assert summary["rate_consistency_cv_pct"] == pytest.approx(100 * 0.5 / 5.5, abs=0.01)
    assert summary["rate_abs_error_pct"] == pytest.approx(10.0, abs=0.1)
