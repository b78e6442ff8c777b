"""Recordings round-trip exactly (version 2 written, version 1 read) and record a live session."""

from __future__ import annotations

import math
import stat
from pathlib import Path

import numpy as np
import pytest

from tests.collector import Collector
from tpforce.core.events import (
    DeviceInfo,
    Event,
    HoldEnd,
    HoldEnded,
    Reconnected,
    SignalLost,
    Zone,
    ZoneChanged,
)
from tpforce.core.samples import SAMPLE_DTYPE, empty_batch
from tpforce.io.probe import ProbeSource
from tpforce.io.recorder import (
    Recorder,
    RecordingError,
    RecordingReader,
    new_recording_path,
    read_recording,
)
from tpforce.io.sim.probe import SimProbe

from .helpers import write_v1


def _batch(n: int, start: int) -> np.ndarray:
    b = empty_batch(n)
    b["seq"] = np.arange(start, start + n)
    b["t_s"] = b["seq"] / 80.0 + 1e-9 / 3
    b["t_host_s"] = 12345.678901234 + b["seq"] / 80.0
    b["raw"] = np.arange(n) * 7919 - 100_000
    b["force_n"] = np.linspace(-1.5, 30.0 / 7, n)
    b["force_n"][0] = math.nan
    b["flags"] = np.arange(n) % 1024
    return b


ITEMS: list[np.ndarray | Event] = [
    DeviceInfo(0.0, 1, "0.1.0", 254, 254, 80, 0, True, "SIM00001", 15),
    _batch(5, 0),
    ZoneChanged(0.05, Zone.IN_BAND, Zone.BELOW),
    _batch(3, 5),
    _batch(7, 8),
    HoldEnded(0.2, 2, HoldEnd.SIGNAL_LOST, 12.5, False),
    Reconnected(0.2, "/dev/pts/9", 1.25),
    _batch(1, 15),
    SignalLost(0.3),
]


def _joined(items: list[np.ndarray | Event]) -> np.ndarray:
    return np.concatenate([i for i in items if isinstance(i, np.ndarray)])


def test_v2_samples_are_bit_exact_and_events_keep_their_sample_index(tmp_path) -> None:
    path = new_recording_path(tmp_path, "P017")
    assert path.name.startswith("P017-") and path.suffix == ".tpfrec"
    with Recorder(path, {"patient": "P017", "probe_serial": "SIM00001"}) as rec:
        for item in ITEMS:
            (rec.on_batch if isinstance(item, np.ndarray) else rec.on_event)(item)
    rec.close()  # twice is fine
    reader = RecordingReader(path)
    assert reader.version == 2 and reader.context["probe_serial"] == "SIM00001"
    samples = reader.samples()
    assert isinstance(samples, np.memmap) and samples.dtype == SAMPLE_DTYPE
    assert samples.tobytes() == _joined(ITEMS).tobytes()  # bit-exact, NaN included
    assert (path / "samples.bin").stat().st_size == 16 * SAMPLE_DTYPE.itemsize
    want = [(0, ITEMS[0]), (5, ITEMS[2]), (15, ITEMS[5]), (15, ITEMS[6]), (16, ITEMS[8])]
    assert reader.events() == want
    # iterating gives the events where they happened, samples between them
    back = list(RecordingReader(path))
    assert [type(x).__name__ for x in back] == [
        "DeviceInfo", "ndarray", "ZoneChanged", "ndarray", "HoldEnded", "Reconnected",
        "ndarray", "SignalLost"]
    assert reader.warnings == []


def test_v2_files_are_private(tmp_path) -> None:
    path = tmp_path / "deep" / "rec.tpfrec"
    Recorder(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for name in ("context.json", "samples.bin", "events.jsonl"):
        assert stat.S_IMODE((path / name).stat().st_mode) == 0o600, name


def test_v1_folders_still_read_with_their_batches(tmp_path) -> None:
    path = tmp_path / "old.tpfrec"
    write_v1(path, ITEMS, {"device": "sim"})
    reader = RecordingReader(path)
    assert reader.version == 1 and reader.context["device"] == "sim"
    back = list(reader)
    assert len(back) == len(ITEMS)
    for got, want in zip(back, ITEMS, strict=True):
        if isinstance(want, np.ndarray):
            assert isinstance(got, np.ndarray) and got.tobytes() == want.tobytes()
        else:
            assert got == want
    samples, events = read_recording(path)
    assert samples.tobytes() == _joined(ITEMS).tobytes() and events[0] == ITEMS[0]


def test_a_torn_tail_is_cut_at_the_last_whole_record_with_a_warning(tmp_path) -> None:
    path = tmp_path / "torn.tpfrec"
    with Recorder(path) as rec:
        rec.on_batch(_batch(10, 0))
        rec.on_event(SignalLost(0.1))
    with open(path / "samples.bin", "ab") as f:
        f.write(b"\x01" * 17)  # a record the writer never finished
    with open(path / "events.jsonl", "ab") as f:
        f.write(b'{"i": 10, "type": "Sig')
    reader = RecordingReader(path)
    assert len(reader.samples()) == 10
    loaded = reader.load_samples()  # the in-memory copy stops at the same record
    assert loaded.tobytes() == _batch(10, 0).tobytes() and loaded.flags.writeable
    assert reader.events() == [(10, SignalLost(0.1))]
    assert any("truncated" in w and "samples.bin" in w for w in reader.warnings)
    assert any("events.jsonl" in w for w in reader.warnings)


def test_an_existing_path_or_a_non_recording_is_one_clear_line(tmp_path) -> None:
    Recorder(tmp_path / "a").close()
    with pytest.raises(RecordingError, match="already exists"):
        Recorder(tmp_path / "a")
    with pytest.raises(RecordingError, match="not a tpforce recording"):
        RecordingReader(tmp_path)


def test_a_write_error_is_reported_and_never_raised_into_acquisition(tmp_path) -> None:
    """/dev/full stands in for a full disk: on_batch keeps working, `error` says why."""
    rec = Recorder(tmp_path / "full.tpfrec", flush_s=0.01)
    rec._samples.close()
    rec._samples = open("/dev/full", "ab")  # noqa: SIM115
    rec.on_batch(_batch(10, 0))
    rec.close()
    assert "No space left" in rec.error and rec.lost_samples == 10


def test_records_a_live_session_from_the_probe(tmp_path) -> None:
    sink = Collector()
    rec = Recorder(tmp_path / "live.tpfrec")
    from tpforce.core.consumer import FanOut

    with SimProbe(rate_sps=400) as probe, ProbeSource(probe.port, FanOut([rec, sink])):
        assert sink.wait_samples(400)
        probe.stall(0.5)
        sink.wait_for(SignalLost, timeout=5.0)
        rec.close()
    samples, events = read_recording(rec.path)
    live = sink.samples()[: len(samples)]
    assert len(samples) >= 400 and samples.tobytes() == live.tobytes()
    assert any(isinstance(e, SignalLost) for e in events)


def test_hold_metrics_round_trip_through_a_recording(tmp_path: Path) -> None:
    """Every event of a session with holds is written (none fails) and reads back equal."""
    from tpforce.core.band import Band
    from tpforce.core.calibration import Calibration
    from tpforce.core.consumer import EventQueue
    from tpforce.core.events import HoldScored
    from tpforce.core.processor import Processor
    from tpforce.core.samples import batch_from_force
    from tpforce.core.tracker import HoldConfig, Tracker
    from tpforce.io.recorder import Recorder, read_recording

    path = tmp_path / "holds.tpfrec"
    recorder, seen = Recorder(path), EventQueue()
    processor = Processor(Calibration(0.0, 1.0),
                          Tracker(HoldConfig(target_s=2.0), Band(15.0, 18.0, 20.0)),
                          [recorder, seen])
    t = np.arange(0, 12, 0.05)
    force = np.where((t % 6) < 4, 16.0, 0.0)  # two holds, each released after 4 s
    batch = batch_from_force(t, force)
    batch["raw"] = force.astype(np.int32)
    processor.on_batch(batch)
    processor.close()
    live = seen.drain()
    assert processor.out.failures == 0
    _, events = read_recording(path)
    assert events == live
    scored = [e for e in events if isinstance(e, HoldScored)]
    assert len(scored) == 2 and scored[0].metrics.completed
