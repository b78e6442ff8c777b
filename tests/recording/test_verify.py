"""`replay --verify`: a session recorded through the pipeline recomputes equal; an edited
recording does not, and the first difference is named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.collector import Collector
from tpforce.cli import main
from tpforce.cli.wiring import open_pipeline
from tpforce.core.events import (
    HoldScored,
    HoldStarted,
    Input,
    InputKind,
)
from tpforce.core.tracker import HoldConfig
from tpforce.io.player import verify
from tpforce.io.recorder import RecordingReader
from tpforce.io.sim.gauges import GaugeEmulator


def test_a_scripted_session_recomputes_equal(scripted: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    reader = RecordingReader(scripted)
    kinds = [e.kind for _, e in reader.events() if isinstance(e, Input)]
    assert InputKind.TARE in kinds and InputKind.BAND_CUSTOM in kinds
    assert any(isinstance(e, HoldScored) for _, e in reader.events())
    assert reader.context["from_first_sample"] is True
    assert reader.context["calibration"]["n_per_count"] > 0
    assert reader.context["hold_config"]["target_s"] == 5.0
    assert reader.context["probe_serial"] == "SIM00001" and reader.context["protocol"] == 1
    assert reader.context["points"][-1] == "upper trapezius L"
    assert verify(scripted) == (None, [])
    assert main(["replay", "--verify", str(scripted)]) == 0
    assert "OK" in capsys.readouterr().out


def test_edited_inputs_fail_and_name_the_first_difference(
        scripted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edited = tmp_path / "edited.tpfrec"
    shutil.copytree(scripted, edited)
    lines = (edited / "events.jsonl").read_text().splitlines()
    for k, line in enumerate(lines):
        data = json.loads(line)
        if data["type"] == "Input" and data["kind"] == "BAND_CUSTOM":
            data["args"] = [["lo", 60.0], ["hi", 85.0], ["unit", "%"]]  # 70 % was pressed
            lines[k] = json.dumps(data)
            break
    (edited / "events.jsonl").write_text("\n".join(lines) + "\n")
    difference, _ = verify(edited)
    assert difference is not None and "BandChanged" in difference
    assert main(["replay", "--verify", str(scripted), str(edited)]) == 1
    out = capsys.readouterr().out
    assert f"{scripted}: OK" in out
    assert f"{edited}: DIFFERS at event" in out and "recorded BandChanged" in out


@pytest.mark.parametrize("model", ["ascii", "mark10", "wagner", "fdix", "shimpo"])
def test_recordings_from_each_gauge_driver_verify(model: str, tmp_path: Path) -> None:
    readings = [("0.5", "N")] * 5 + [("16.0", "N"), ("16.2", "N"), ("15.8", "N")] * 10
    path = tmp_path / f"{model}.tpfrec"
    tap = Collector()
    with GaugeEmulator(model, readings, rate_hz=50.0) as gauge, \
            open_pipeline(gauge.port, driver=model, driver_options={"rate_hz": 50.0},
                          hold=HoldConfig(target_s=0.2), record=path, extras=[tap]) as pipe:
        assert tap.wait_samples(10)
        pipe.processor.set_phase("treatment")  # no marks: a custom band
        pipe.processor.set_band_absolute(15.0, 17.0)
        assert tap.wait_samples(tap.count + 60)
    reader = RecordingReader(path)
    assert reader.sample_count >= 70
    assert any(isinstance(e, HoldStarted) for _, e in reader.events())
    assert verify(path) == (None, [])
