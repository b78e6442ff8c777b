"""Recordings round-trip exactly, survive a dying process, and record a live session."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from iohelp import Collector

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
from tpforce.core.samples import empty_batch
from tpforce.io.probe import ProbeSource
from tpforce.io.recorder import (
    Recorder,
    RecordingError,
    RecordingReader,
    new_recording_path,
    read_recording,
)
from tpforce.io.sim.probe import SimProbe


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


def test_batches_and_events_round_trip_in_order(tmp_path) -> None:
    items: list[np.ndarray | Event] = [
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
    path = new_recording_path(tmp_path)
    with Recorder(path, meta={"serial": "SIM00001"}) as rec:
        for item in items:
            (rec.on_batch if isinstance(item, np.ndarray) else rec.on_event)(item)
    rec.close()  # twice is fine
    back = list(RecordingReader(path))
    assert len(back) == len(items)
    for got, want in zip(back, items, strict=True):
        if isinstance(want, np.ndarray):
            assert isinstance(got, np.ndarray) and got.dtype == want.dtype
            assert got.tobytes() == want.tobytes()  # bit-exact, NaN included
        else:
            assert got == want
    assert RecordingReader(path).meta["serial"] == "SIM00001"


def test_an_existing_path_or_a_non_recording_is_one_clear_line(tmp_path) -> None:
    Recorder(tmp_path / "a").close()
    with pytest.raises(RecordingError, match="already exists"):
        Recorder(tmp_path / "a")
    with pytest.raises(RecordingError, match="not a tpforce recording"):
        RecordingReader(tmp_path)


def test_a_killed_process_keeps_what_it_recorded(tmp_path) -> None:
    """The writer dies mid-line (os._exit, no close): every complete row is kept."""
    path = tmp_path / "died.tpfrec"
    code = (
        "import os, numpy as np\n"
        "from tpforce.io.recorder import Recorder\n"
        "from tpforce.core.samples import empty_batch\n"
        "from tpforce.core.events import SignalLost\n"
        f"rec = Recorder({str(path)!r})\n"
        "for i in range(10):\n"
        "    b = empty_batch(4); b['seq'] = np.arange(4) + 4 * i; rec.on_batch(b)\n"
        "rec.on_event(SignalLost(1.0))\n"
        "rec._samples.write('10,0.5,0.5,4')\n"  # a torn row, never finished
        "rec._samples.flush()\n"
        "os._exit(9)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False)
    assert done.returncode == 9
    samples, events = read_recording(path)
    assert np.array_equal(samples["seq"], np.arange(40))
    assert events == [SignalLost(1.0)]


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
