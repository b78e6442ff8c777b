"""The bench against the real firmware on a simulated AVR: a simulated cell's counts stream
through the firmware, the procedure fits them, and the record goes into the EEPROM with
WRITE_CAL, read back with READ_CAL, and again after the MCU restarts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import numpy as np
import pytest
from conftest import SimulatedProbe

from tpforce.core.calbench import BenchProcedure, Reading, build_record, eeprom_record
from tpforce.core.events import DeviceInfo
from tpforce.core.protocol import CalRecord
from tpforce.io.probe import CalWriteError
from tpforce.io.sim.cell import CellParams, SimCell

pytestmark = pytest.mark.firmware

Boot = Callable[..., SimulatedProbe]
RATE = 80
TARE_S, STEP_S = 3.0, 4.0
MASSES = [1.0, 2.0, 5.0, 8.0, 10.0]
LADDER = [*MASSES, *MASSES[-2::-1], 0.0]
PARAMS = CellParams(zero_counts=-20_000, counts_per_n=41_000.0, non_linearity_pct=0.04,
                    hysteresis_pct=0.03, noise_counts=40.0)


def bench_waveform() -> tuple[list[int], list[int]]:
    """The cell's counts for a tare and the ladder, and the sample index of each placement."""
    cell = SimCell(PARAMS, bench=True)
    rng = np.random.default_rng(11)
    n_tare, n_step = int(TARE_S * RATE), int(STEP_S * RATE)
    parts, starts, k = [], [], 0
    for mass, n in [(None, n_tare)] + [(m, n_step) for m in LADDER] + [(None, n_step)]:
        if mass is not None:
            cell.place(mass)
            starts.append(k)
        t = (k + np.arange(n)) / RATE
        parts.append(cell.counts(np.zeros(n), rng, t))
        k += n
    return np.concatenate(parts).tolist(), starts


def test_bench_record_goes_into_the_eeprom_and_survives_a_reset(sim_probe: Boot) -> None:
    counts, starts = bench_waveform()
    probe = sim_probe(counts)
    samples = probe.samples(len(counts))[: len(counts)]
    assert samples["raw"].tolist() == counts  # the firmware passed every count unchanged
    proc = BenchProcedure(RATE, 10.0, warmup_s=0.0)
    t, raw = samples["t_s"], samples["raw"]
    bounds = [*starts, len(counts)]
    done = proc.feed(t[: starts[0]], raw[: starts[0]])
    assert isinstance(done, Reading)  # the tare
    for mass, a, b in zip(LADDER, bounds[:-1], bounds[1:], strict=True):
        proc.place(mass, float(t[a]))
        reading = None
        for i in range(a, b, 40):
            reading = reading or proc.feed(t[i:min(i + 40, b)], raw[i:min(i + 40, b)])
        assert isinstance(reading, Reading), f"{mass} kg did not settle"
    result = proc.result()
    assert abs(1 / result.n_per_count / PARAMS.counts_per_n - 1) < 0.0005
    assert abs(result.zero_counts - PARAMS.zero_counts) < PARAMS.noise_counts
    assert abs(result.non_linearity_pct_fs - 0.04) < 0.02
    assert abs(result.hysteresis_pct_fs - 0.03) < 0.02

    record = build_record(result, "TPHIL001", "firmware test",
                          datetime(2026, 12, 1, tzinfo=timezone.utc))
    eeprom = eeprom_record(record)
    src = probe.source
    assert src.write_calibration(eeprom).pack() == eeprom.pack()
    probe.drain_events()
    probe.control("reset")
    banner = probe.wait_event(DeviceInfo)
    assert banner.serial == "TPHIL001"
    again = src.read_calibration(timeout=5.0)
    assert again is not None and again.pack() == eeprom.pack()
    assert again.zero_counts == record["zero_counts"]
    assert np.float32(again.n_per_count) == np.float32(record["n_per_count"])


def test_firmware_refusing_a_record_is_reported_and_keeps_the_old_one(sim_probe: Boot) -> None:
    probe = sim_probe([100_000 + i for i in range(2000)])
    src = probe.source
    good = CalRecord(1, 8_123, 2.5e-5, 100, 1_767_225_600, "TPSIM042", 0)
    src.write_calibration(good)
    wrong_version = CalRecord(2, 1, 1.0, 100, 0, "TPSIM043", 0)
    with pytest.raises(CalWriteError, match=r"did not store the calibration .* BAD_RECORD"):
        src.write_calibration(wrong_version)
    kept = src.read_calibration(timeout=5.0)
    assert kept is not None and kept.pack() == good.pack()
