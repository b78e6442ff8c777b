"""Each gauge driver against its emulator on a real pty: every reading exact, in newtons."""

from __future__ import annotations

import numpy as np
import pytest

from tests.collector import Collector
from tpforce.core.events import SignalLost, SignalRestored
from tpforce.core.units import unit_factor
from tpforce.io.drivers import DRIVER_CALIBRATION, make_source
from tpforce.io.sim.gauges import GaugeEmulator

KGF, LBF = 9.80665, 4.4482216152605
EXPECTED_FACTOR = {"N": 1.0, "lbF": LBF, "LB": LBF, "lbf": LBF, "kgf": KGF, "KG": KGF,
                   "gF": KGF / 1000, "ozF": LBF / 16, "mN": 1e-3, "MN": 1e-3, "kN": 1e3}
READINGS = [("4.285", "N"), ("-18.78", "lbF"), ("1.250", "kgf"), ("250.0", "gF"),
            ("-3.5", "ozF"), ("812", "mN"), ("0.012", "kN"), ("0.00", "LB"), ("2.5", "KG")]


def expected(readings: list[tuple[str, str]]) -> np.ndarray:
    return np.array([float(v) * EXPECTED_FACTOR[u] for v, u in readings])


def run(model: str, driver: str, readings: list[tuple[str, str]], n: int,
        **options: object) -> tuple[np.ndarray, object, GaugeEmulator]:
    sink = Collector()
    with GaugeEmulator(model, readings, rate_hz=100.0) as gauge, \
            make_source(gauge.port, driver, sink, **options) as source:  # type: ignore[arg-type]
        assert sink.wait_samples(n, timeout=20.0)
        health = source.health()
    return sink.samples(), health, gauge


def test_units_to_newtons() -> None:
    for label, factor in EXPECTED_FACTOR.items():
        assert unit_factor(label) == factor
    with pytest.raises(ValueError, match="unknown force unit"):
        unit_factor("stone")


@pytest.mark.parametrize(("model", "driver"), [("mark10", "mark10"), ("wagner", "wagner")])
def test_polled_gauges_read_every_value_exactly(model: str, driver: str) -> None:
    n = 2 * len(READINGS)
    got, health, gauge = run(model, driver, READINGS, n, rate_hz=100.0)
    want = np.tile(expected(READINGS), 3)[: len(got)]
    assert np.array_equal(got["force_n"], want)  # in order from the first reply, bit-exact
    assert np.array_equal(got["raw"], np.rint(want * 1e6).astype(np.int32))
    assert np.all(np.diff(got["seq"]) == 1) and np.all(np.diff(got["t_s"]) > 0)
    assert health.framing_errors == 0
    assert gauge.commands[0] == b"?"


def test_driver_calibration_gives_back_the_newtons() -> None:
    got, _, _ = run("mark10", "mark10", READINGS, len(READINGS), rate_hz=100.0)
    batch = got.copy()
    DRIVER_CALIBRATION.apply(batch)
    assert np.allclose(batch["force_n"], got["force_n"], rtol=0, atol=0.5e-6 + 1e-12)


def _find_offset(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    k0 = int(np.flatnonzero(want == got["force_n"][0])[0])
    return np.tile(want, len(got) // len(want) + 2)[k0 : k0 + len(got)]


def test_fdix_is_armed_and_rearmed_after_a_power_cycle() -> None:
    sink = Collector()
    readings = [("12.34", "lbf"), ("-0.56", "lbf"), ("7", "N")]
    with GaugeEmulator("fdix", readings) as gauge, \
            make_source(gauge.port, "fdix", sink, rate_hz=50.0) as source:
        assert sink.wait_samples(10)
        gauge.power_cycle()  # CB is forgotten: data stops
        sink.wait_for(SignalLost, timeout=5.0)
        sink.wait_for(SignalRestored, timeout=10.0)
        assert sink.wait_samples(sink.count + 10)
        assert source.rearms >= 1  # type: ignore[attr-defined]
        assert gauge.commands[:2] == [b"C50", b"CB"]
        assert gauge.commands.count(b"CB") >= 2
    got = sink.samples()
    assert np.array_equal(got["force_n"], _find_offset(got, expected(readings)))


def test_shimpo_ignores_its_echo() -> None:
    readings = [("1.50", "kgf"), ("-2.25", "N"), ("0.5", "lbf")]
    got, health, gauge = run("shimpo", "shimpo", readings, 12)
    assert gauge.commands[0] == b"BB"
    assert health.framing_errors == 0  # the echoed "BB" is not a bad line
    assert np.array_equal(got["force_n"], _find_offset(got, expected(readings)))


def test_generic_ascii_line_with_free_text_and_a_pattern() -> None:
    readings = [("12.5", "g"), ("-3.25", "g"), ("100", "g")]
    sink = Collector()
    template = "Reading #7: {value} {unit} (raw=123456)"
    with GaugeEmulator("ascii", readings, rate_hz=100.0, template=template) as gauge, \
            make_source(gauge.port, "ascii", sink, pattern=r":\s*(?P<value>[-+]?[\d.]+)",
                        unit="gf", invert=True) as source:
        assert sink.wait_samples(12)
        assert source.health().framing_errors == 0
    got = sink.samples()
    want = -expected([(v, "gF") for v, _ in readings])
    assert np.array_equal(got["force_n"], _find_offset(got, want))


def test_generic_ascii_default_pattern_reads_unit_from_the_line() -> None:
    readings = [("1.5", "kgf"), ("2", "N")]
    got, health, _ = run("ascii", "ascii", readings, 6)
    assert np.array_equal(got["force_n"], _find_offset(got, expected(readings)))
    assert health.framing_errors == 0
