"""Units, calibration, filter, band presets, threshold capture and the session model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tpforce.core.band import Band, BandPreset, band_for
from tpforce.core.calibration import Calibration
from tpforce.core.filters import MovingAverage, group_delay_s
from tpforce.core.samples import SampleFlag, empty_batch
from tpforce.core.session import MDC_KPA, Mark, MdcVerdict, Point, Session, Side, ppt_mean
from tpforce.core.units import Unit, convert, to_newtons


@pytest.mark.parametrize(("unit", "value"), [
    (Unit.N, 9.80665), (Unit.KGF, 1.0), (Unit.LBF, 9.80665 / 4.4482216152605),
    (Unit.KPA, 98.0665), (Unit.KGF_CM2, 1.0),
])
def test_units_from_one_kgf_on_one_cm2(unit: Unit, value: float) -> None:
    assert convert(9.80665, unit, 1.0) == pytest.approx(value)
    assert to_newtons(value, unit, 1.0) == pytest.approx(9.80665)


def test_pressure_depends_on_tip_area() -> None:
    assert convert(5.0, Unit.KPA, 0.5) == pytest.approx(100.0)
    assert Unit.parse("kgf/cm2") is Unit.KGF_CM2 and Unit.parse("KPA") is Unit.KPA


def test_calibration_linear_tare_and_saturation() -> None:
    batch = empty_batch(3)
    batch["raw"] = [8400, 50400, 92400]
    batch["flags"] = [0, 0, SampleFlag.SATURATED]
    cal = Calibration(8400, 1 / 42000)
    cal.apply(batch)
    assert batch["force_n"][:2].tolist() == pytest.approx([0.0, 1.0])
    assert math.isnan(batch["force_n"][2])
    assert cal.tared(np.array([8500, 8700])).zero_counts == 8600


def test_calibration_fit_linear_and_polynomial() -> None:
    counts = np.array([1000.0, 2000, 4000, 8000, 12000])
    lin = Calibration.fit(counts, (counts - 1000) * 0.01)
    assert lin.zero_counts == pytest.approx(1000) and lin.n_per_count == pytest.approx(0.01)
    d = counts - 1000
    quad = Calibration.fit(counts, 0.01 * d + 1e-7 * d * d, degree=2)
    assert quad.force_n(np.array([6000]))[0] == pytest.approx(0.01 * 5000 + 1e-7 * 25e6,
                                                              rel=1e-6)


def test_filter_delay_figures_and_gap_reset() -> None:
    assert group_delay_s(0.04, 80) == pytest.approx(0.01875)
    assert group_delay_s(0.04, 1000) == pytest.approx(0.0195)
    assert group_delay_s(0.04, 10) == 0.0
    t = np.arange(8) / 80
    x = np.array([0, 0, 0, 0, 8, 8, 8, 8.0])
    flags = np.zeros(8, dtype=np.uint16)
    flags[4] = SampleFlag.GAP_BEFORE
    y = MovingAverage(0.04).process(t, x, flags)
    assert y.tolist() == [0, 0, 0, 0, 8, 8, 8, 8]  # no mixing across the gap
    y2 = MovingAverage(0.04).process(t, x)
    assert y2[4:].tolist() == [2, 4, 6, 8]


def test_band_presets() -> None:
    assert band_for("below_threshold", 20) == Band(15, 18, 20)
    p1 = band_for(BandPreset.HOU_P1, 20)
    assert (p1.lo_n, p1.hi_n, p1.over_n) == (18, 20, 20)
    p2 = band_for("Hou P2", 20, tolerance_n=30)
    assert (p2.lo_n, p2.hi_n, p2.over_n) == (24, 26, 30)
    assert band_for("hou_p2", 20) is None
    assert band_for("custom", 20, absolute_n=(5, 6)) == Band(5, 6, 20)
    with pytest.raises(ValueError):
        BandPreset.parse("firm")


def test_session_ppt_change_against_mdc() -> None:
    s = Session()
    p = s.current
    p.marks += [Mark(i, v, "baseline") for i, v in enumerate((30.0, 26.0, 28.0))]
    p.marks += [Mark(9 + i, v, "after") for i, v in enumerate((33.0, 34.0, 35.0))]
    assert p.ppt_before_n() == 28.0 and p.ppt_before_n(drop_first=True) == 27.0
    assert p.change_pct() == pytest.approx(100 * 6 / 28)
    assert p.change_kpa(1.0) == pytest.approx(60.0)
    # An unnamed site is judged against the generic MDC (174 kPa), and says so.
    assert p.mdc_verdict(1.0) is MdcVerdict.WITHIN and p.outcome().mdc_source == "generic"
    assert p.mdc_verdict(0.25) is MdcVerdict.RISE_BEYOND
    q = s.next_point("upper trapezius", "r")
    assert q.side is Side.RIGHT and q.label == "upper trapezius R" and s.current is q
    assert q.mdc_verdict() is None and math.isnan(ppt_mean([]))
    assert MDC_KPA[0] == pytest.approx(44.13, abs=0.01)
    assert s.summary()[0]["mdc"] == "within_mdc"
    assert Point(3).label == "point 3"
