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
