"""Trace builders for the core tests (piecewise-constant forces at a fixed rate) and the
analyze command's answer to a CSV it cannot use."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from tpforce.cli import main
from tpforce.core.band import Band
from tpforce.core.events import Event
from tpforce.core.samples import SampleFlag, batch_from_force
from tpforce.core.tracker import HoldConfig, Tracker

BAND = Band(15.0, 18.0, 20.0)
EXACT = HoldConfig(filter_window_s=0.0, despike=False, mode="continuous")  # hand-computable


def steps(rate_sps: int, pieces: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Times k / rate and forces from (duration_s, force_n) pieces, exact on the grid."""
    f: list[float] = []
    for duration_s, force_n in pieces:
        f += [force_n] * round(duration_s * rate_sps)
    t = np.arange(len(f)) / rate_sps
    return t, np.array(f)


def run(t: np.ndarray, f: np.ndarray, band: Band | None = BAND, config: HoldConfig = EXACT,
        flags: np.ndarray | None = None, chunks: list[int] | None = None
        ) -> tuple[Tracker, list[Event]]:
    """Feed the trace through a fresh tracker (optionally in chunks), then finish."""
    tracker = Tracker(config, band)
    batch = batch_from_force(t, f, flags)
    events: list[Event] = []
    cuts = [0, *(chunks or []), len(batch)]
    for a, b in itertools.pairwise(cuts):
        events += tracker.process(batch[a:b].copy())
    events += tracker.finish()
    return tracker, events


def of(events: list[Event], kind: type) -> list:
    """The events of one type."""
    return [e for e in events if isinstance(e, kind)]


def gap_flags(n: int, at: list[int]) -> np.ndarray:
    """Flags with GAP_BEFORE on the given sample indices."""
    flags = np.zeros(n, dtype=np.uint16)
    flags[at] = SampleFlag.GAP_BEFORE
    return flags


def analyze_refusal(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> str:
    """`tpforce analyze` of a CSV holding `text`: exit 2 and one line, no traceback; that line."""
    path = tmp_path / "bad.csv"
    path.write_text(text)
    code = main(["analyze", str(path), "--threshold", "20"])
    err = capsys.readouterr().err.strip()
    assert code == 2, (code, err)
    assert "\n" not in err and "Traceback" not in err, err
    return err
