"""What the bench refuses, and the checks around it: the zero after a hold, a record's age."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from benchhelp import Bench

from tpforce.core.calbench import (
    BenchError,
    Phase,
    SettleDetector,
    UnstableError,
    build_record,
    check_serial,
    eeprom_record,
    record_expiry,
    zero_check,
    zero_limit_n,
)
from tpforce.core.protocol import CalRecord
from tpforce.io.sim.cell import CellParams


def tared() -> Bench:
    bench = Bench(CellParams(), warmup_s=0.0)
    while bench.proc.tare is None:
        bench.run_step()
    return bench


def read(bench: Bench, mass: float) -> None:
    bench.proc.place(mass, bench.place(mass))
    bench.run_step()


def test_masses_out_of_order_are_refused_and_nothing_is_lost() -> None:
    bench = tared()
    for m in (1.0, 2.0, 5.0):
        read(bench, m)
    read(bench, 2.0)  # unloading
    before = list(bench.proc.readings)
    with pytest.raises(BenchError, match="out of order: 5 kg after 2 kg while unloading"):
        bench.proc.place(5.0, bench.t)
    with pytest.raises(BenchError, match=r"1\.5 kg was not loaded on the way up"):
        bench.proc.place(1.5, bench.t)
    with pytest.raises(BenchError, match="2 kg again"):
        tared_again = tared()
        read(tared_again, 2.0)
        tared_again.proc.place(2.0, tared_again.t)
    assert bench.proc.readings == before and bench.proc.phase is Phase.READY
    read(bench, 1.0)  # the procedure goes on
    assert bench.proc.readings[-1].direction == "down"
    read(bench, 0.0)
    read(bench, 2.0)  # a second cycle
    assert (bench.proc.readings[-1].direction, bench.proc.readings[-1].cycle) == ("up", 1)
    read(bench, 0.0)  # straight back to zero is unloading too
    assert bench.proc.readings[-1].direction == "down" and bench.proc.direction == "down"


def test_mass_beyond_capacity_or_not_a_mass_is_refused() -> None:
    bench = tared()
    with pytest.raises(BenchError, match="beyond the cell's capacity of 10 kg"):
        bench.proc.place(12.0, bench.t)
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(BenchError, match="is not a mass"):
            bench.proc.place(bad, bench.t)
    assert bench.proc.phase is Phase.READY


def test_too_few_points_or_unfinished_cycle_gives_no_fit() -> None:
    bench = tared()
    for m in (1.0, 2.0, 5.0, 10.0, 5.0, 2.0, 1.0, 0.0):
        read(bench, m)
    with pytest.raises(BenchError, match=r"4 different masses read; .* at least 5"):
        bench.proc.result()
    bench = tared()
    for m in (1.0, 2.0, 4.0, 5.0, 10.0, 5.0):
        read(bench, m)
    with pytest.raises(BenchError, match="unload down to 0 kg to finish"):
        bench.proc.result()
    assert bench.proc.phase is Phase.READY  # still going: the data are kept


def test_wrong_mass_for_the_reading_is_refused_not_fitted() -> None:
    bench = tared()
    read(bench, 1.0)
    bench.proc.place(2.0, bench.place(5.0))  # the operator says 2 kg, 5 kg is on
    with pytest.raises(BenchError, match="more than 10 % off a straight line"):
        bench.run_step()
    assert [r.mass_kg for r in bench.proc.readings] == [0.0, 1.0]
    bench.proc.cancel()
    read(bench, 5.0)
    assert bench.proc.readings[-1].mass_kg == 5.0


def test_unstable_reading_is_refused_after_the_wait() -> None:
    rng = np.random.default_rng(3)
    det = SettleDetector(80, noise_counts=40.0, max_wait_s=5.0)
    t = np.arange(80 * 6) / 80
    wobble = 2000 * np.sin(2 * np.pi * 0.7 * t) + rng.normal(0, 40, len(t))  # a rocking mass
    with pytest.raises(UnstableError, match="did not settle in 5 s"):
        for i in range(0, len(t), 40):
            assert det.feed(t[i:i + 40], wobble[i:i + 40]) is None


def test_settle_waits_for_the_ring_and_ignores_samples_before_the_placement() -> None:
    bench = tared()
    bench.proc.place(5.0, bench.place(5.0))
    reading = bench.run_step()
    on_at = bench.cell.wait_placed(1)
    assert reading.settled.t_start_s >= on_at + 1.0  # the 8 Hz ring lasts about a second
    assert reading.settled.sd_counts < 1.3 * 40 * 1.1


def test_zero_check_flags_a_drift_beyond_the_limit() -> None:
    n_per_count = 1 / 42_000
    fs = 98.0665
    assert zero_limit_n(fs) == pytest.approx(0.980665)  # 1 % FS is below 1 N here
    assert zero_limit_n(500.0) == 1.0
    rng = np.random.default_rng(0)
    rest = 8_400 + rng.normal(0, 40, 160)
    ok = zero_check(8_400, rest, n_per_count, fs, noise_counts=40)
    assert ok.at_rest and not ok.exceeded and abs(ok.drift_n) < 0.01
    moved = zero_check(8_400, rest + 1.2 * 42_000, n_per_count, fs, noise_counts=40)
    assert moved.exceeded and moved.drift_n == pytest.approx(1.2, abs=0.01)
    assert "re-tare" in moved.message and "+1.20 N" in moved.message
    assert moved.drift_pct_fs == pytest.approx(100 * 1.2 / fs, abs=0.02)
    moving = zero_check(8_400, rest + np.linspace(0, 42_000, 160), n_per_count, fs, 40)
    assert not moving.at_rest and not moving.exceeded and "not at rest" in moving.message
    assert zero_check(8_400, np.zeros(0), n_per_count, fs).message.startswith("zero not checked")


def test_record_expiry() -> None:
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    fresh = record_expiry("2026-10-01T00:00:00Z", now)
    assert not fresh.expired and fresh.age_days == pytest.approx(61)
    old = record_expiry("2026-03-01T00:00:00Z", now)
    assert old.expired and "275 days old (limit 183)" in old.message
    assert not record_expiry("2026-03-01T00:00:00Z", now, max_age_days=365).expired
    assert record_expiry("yesterday", now).expired
    future = record_expiry((now + timedelta(days=30)).isoformat(), now)
    assert future.expired and "future" in future.message


def test_record_for_another_probe_is_refused() -> None:
    check_serial("SIM00001", "SIM00001")
    with pytest.raises(BenchError, match=r"record is for probe OTHER001, but the probe .* SIM"):
        check_serial("OTHER001", "SIM00001")


def test_record_holds_the_fit_and_packs_for_the_eeprom() -> None:
    bench = Bench(CellParams(), warmup_s=0.0)
    bench.ladder([1.0, 2.0, 5.0, 8.0, 10.0])
    res = bench.result()
    when = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    rec = build_record(res, "TPF00042", "A. Tester", when)
    assert rec["serial"] == "TPF00042" and rec["by"] == "A. Tester" and rec["accepted"]
    assert rec["calibrated_utc"] == "2026-12-01T12:00:00Z"
    assert len(rec["points"]) == 11  # type: ignore[arg-type]
    eeprom = eeprom_record(rec)
    assert eeprom == CalRecord(1, rec["zero_counts"], rec["n_per_count"], 100,  # type: ignore[arg-type]
                               int(when.timestamp()), "TPF00042", 0)
    assert CalRecord.unpack(eeprom.pack()) is not None
    with pytest.raises(BenchError, match="1 to 8 ASCII"):
        build_record(res, "TOO-LONG-SERIAL", "x", when)


def test_bench_record_passes_the_existing_record_check(tmp_path) -> None:
    import json

    from tpforce.cli import main
    from tpforce.io.calibration import load_record

    bench = Bench(CellParams(non_linearity_pct=0.03, hysteresis_pct=0.02))
    bench.ladder([1.0, 2.0, 5.0, 8.0, 10.0])
    rec = build_record(bench.result(), "SIM00009", "t", datetime(2026, 12, 1,
                                                                  tzinfo=timezone.utc))
    path = tmp_path / "SIM00009.json"
    path.write_text(json.dumps(rec))
    loaded = load_record(path)
    assert loaded.calibration.n_per_count == rec["n_per_count"]
    assert loaded.calibration.serial == "SIM00009"
    assert main(["calibration", "check", str(path)]) == 0


def test_warmup_wander_is_judged_against_capacity() -> None:
    from tpforce.core.calbench import verdict

    bench = Bench(CellParams())
    bench.ladder([1.0, 2.0, 5.0, 8.0, 10.0])
    checks = {c.name: c for c in verdict(bench.result()).acceptance}
    wander = checks["zero wander in the warm-up"]
    assert wander.passed and 0 < wander.value < 0.002


def test_example_records_load_and_say_whether_they_were_accepted() -> None:
    import json
    from pathlib import Path

    from tpforce.io.calibration import load_record

    folder = Path(__file__).resolve().parents[2] / "calibration" / "records"
    good = json.loads((folder / "SIM00002.json").read_text())
    bad = json.loads((folder / "SIM00003-rejected.json").read_text())
    assert good["accepted"] is True and bad["accepted"] is False
    assert bad["checks"]["non_linearity_pct_fs"] > 0.5
    for path in folder.glob("*.json"):
        assert load_record(path).calibration.n_per_count != 0
