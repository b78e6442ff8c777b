"""Which calibration a probe's samples go through: its EEPROM record, a record file, or none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tpforce.core.protocol import (
    CalRecord,
    Decoder,
    FrameType,
    NoCalRecord,
    encode_frame,
)
from tpforce.io.probe import ProbeSource
from tpforce.io.sim.probe import SimProbe

ROOT = Path(__file__).resolve().parents[2]
SIM_RECORD = ROOT / "calibration" / "records" / "SIM00001.json"


def test_erased_record_decodes_as_no_record_not_as_an_error() -> None:
    decoder = Decoder()
    out = decoder.feed(encode_frame(FrameType.CALIBRATION, NoCalRecord.pack()))
    assert out.messages == [NoCalRecord()]
    stats = decoder.stats
    assert stats.crc_errors == stats.framing_errors == stats.unknown_frames == 0


def test_read_calibration_never_returns_a_stale_record() -> None:
    with SimProbe(speed=4.0) as probe, ProbeSource(probe.port) as source:
        first = source.read_calibration()
        assert isinstance(first, CalRecord) and first.serial == "SIM00001"
        probe.cal = None  # the EEPROM is erased
        assert source.read_calibration() is None
        assert source.health().framing_errors == 0


def _stream(port: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tpforce", "stream", "--port", port, "--duration", "1",
         "--no-reconnect", *extra],
        capture_output=True, text=True, timeout=60,
    )


def _forces(stdout: str) -> list[float]:
    rows = [r.split(",") for r in stdout.splitlines() if r and r[0].isdigit()]
    return [float(r[4]) for r in rows]


def test_erased_probe_warns_and_shows_counts_record_file_gives_newtons() -> None:
    with SimProbe(speed=2.0) as probe:
        probe.cal = None
        bare = _stream(probe.port)
        calibrated = _stream(probe.port, "--calibration", str(SIM_RECORD))
    assert bare.returncode == 0, bare.stderr
    assert "no calibration record" in bare.stderr and "--calibration FILE" in bare.stderr
    assert max(_forces(bare.stdout)) > 1000  # raw counts: the zero alone is 8400
    assert calibrated.returncode == 0, calibrated.stderr
    forces = _forces(calibrated.stdout)
    assert forces and all(-1.0 < f < 30.0 for f in forces)  # newtons from the record


def test_record_of_another_probe_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "OTHER001.json"
    other.write_text(SIM_RECORD.read_text().replace('"SIM00001"', '"OTHER001"'))
    with SimProbe(speed=2.0) as probe:
        out = _stream(probe.port, "--calibration", str(other))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "OTHER001" in lines[0] and "SIM00001" in lines[0]


def test_damaged_record_names_the_fix() -> None:
    with SimProbe(speed=2.0) as probe:
        probe.cal_damaged = True
        out = _stream(probe.port)
    assert out.returncode == 2
    assert "calibration record is damaged" in out.stderr and "Traceback" not in out.stderr


def test_write_to_probe_stores_the_record_and_reads_it_back() -> None:
    from tpforce.core.calibration import Calibration
    from tpforce.io.calibration import record_calibration, write_to_probe

    with SimProbe(speed=4.0) as probe, ProbeSource(probe.port) as source:
        cal = Calibration(8123.0, 2.5e-5, 1.5, serial="SIM00001")
        back = write_to_probe(source, cal, cal_unix=1_767_225_600)
        assert probe.cal is not None and probe.cal.pack() == back.pack()  # in the EEPROM
        got = record_calibration(back)
        assert (got.zero_counts, got.tip_area_cm2, got.serial) == (8123, 1.5, "SIM00001")
        assert abs(got.n_per_count - 2.5e-5) < 1e-12  # a float32 in EEPROM


def test_the_record_is_known_before_the_first_sample_is_tracked() -> None:
    import queue

    import numpy as np

    from tpforce.cli.wiring import open_pipeline

    got: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()

    class Tap:
        def on_batch(self, batch: np.ndarray) -> None:
            got.put(batch.copy())

        def on_event(self, event: object) -> None:
            pass

        def close(self) -> None:
            pass

    with SimProbe(rate_sps=400) as probe, open_pipeline(probe.port, extras=[Tap()]):
        assert probe.cal is not None
        first = got.get(timeout=10.0)  # the very first batch the processor handed on
        want = (first["raw"] - probe.cal.zero_counts) * np.float32(probe.cal.n_per_count)
        assert np.allclose(first["force_n"], want, rtol=1e-6, atol=1e-9)  # never raw counts
