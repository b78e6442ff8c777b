"""Recordings on the command line: analyze many at once, export CSV and EDF+ read back by
independent readers, bad files in one line with exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tpforce.cli import main
from tpforce.io.recorder import RecordingReader


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_analyze_reads_many_recordings_by_glob_with_a_progress_bar(
        scripted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a", "b"):
        _copy(scripted, tmp_path / f"{name}.tpfrec")
    assert main(["analyze", str(tmp_path / "*.tpfrec"), "--json"]) == 0
    cap = capsys.readouterr()
    docs = json.loads(cap.out)
    assert [Path(d["file"]).name for d in docs] == ["a.tpfrec", "b.tpfrec"]
    assert len(docs[0]["holds"]) == 1 and docs[0]["holds"][0]["completed"]
    assert [p["point"] for p in docs[0]["points"]][-1] == "upper trapezius L"
    assert docs[0]["points"][0]["ppt_before_n"] == pytest.approx(18.5, abs=1.5)
    assert "2/2" in cap.err
    assert main(["analyze", str(scripted), "--csv", "--per", "point"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("file,patient,point,phase,ppt_before_n") and len(rows) == 3
    # what-if: a longer target leaves the hold not completed; the recording is unchanged
    assert main(["analyze", str(scripted), "--json", "--target", "60"]) == 0
    assert not json.loads(capsys.readouterr().out)[0]["holds"][0]["completed"]


def test_csv_export_opens_in_pandas_with_units_and_a_bids_sidecar(
        scripted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pd = pytest.importorskip("pandas")
    out = tmp_path / "s.csv"
    assert main(["export", str(scripted), "--csv", "-o", str(out)]) == 0
    table = pd.read_csv(out)
    samples = RecordingReader(scripted).samples()
    assert list(table.columns) == ["time (s)", "force (N)", "raw (counts)", "flags", "seq"]
    assert len(table) == len(samples)
    assert np.allclose(table["force (N)"], samples["force_n"], atol=1e-5, equal_nan=True)
    assert np.array_equal(table["raw (counts)"], samples["raw"])
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["SamplingFrequency"] == 80.0
    assert side["StartTime"] == float(samples["t_s"][0])
    assert side["Columns"] == ["t_s", "force_n", "raw", "flags", "seq"]
    assert side["Units"][:2] == ["s", "N"]


def test_edf_export_reads_back_in_pyedflib_with_annotations(
        scripted: Path, tmp_path: Path) -> None:
    pyedflib = pytest.importorskip("pyedflib")
    out = tmp_path / "s.edf"
    assert main(["export", str(scripted), "--edf", "-o", str(out)]) == 0
    samples = RecordingReader(scripted).samples()
    with pyedflib.EdfReader(str(out)) as edf:
        assert edf.getSignalLabels() == ["Force"]
        assert edf.getPhysicalDimension(0) == "N"
        assert edf.getSampleFrequency(0) == 80.0
        got = edf.readSignal(0)
        n = len(samples)
        # the simulated probe is paced at 80 SPS: the fixed grid is the samples' own
        ok = np.isfinite(samples["force_n"])
        assert np.allclose(got[:n][ok], samples["force_n"][ok], atol=0.01)
        _, _, texts = edf.readAnnotations()
        assert sum(t.startswith("PPT mark") for t in texts) == 3
        assert any(t.startswith("hold 1 completed") for t in texts)
        assert edf.getPatientCode() == "anon"
        assert "upper" not in edf.getPatientName()


def _err(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


def test_bad_files_are_one_line_naming_the_file_and_exit_2(
        scripted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.tpfrec"
    empty.mkdir()
    assert "empty.tpfrec: not a tpforce recording" in _err(
        capsys, ["replay", "--verify", str(empty)])
    notrec = tmp_path / "notes.txt"
    notrec.write_text("hello\n")
    assert "notes.txt: not a tpforce recording" in _err(capsys, ["export", str(notrec),
                                                                 "--csv"])
    newer = _copy(scripted, tmp_path / "newer.tpfrec")
    doc = json.loads((newer / "context.json").read_text())
    (newer / "context.json").write_text(json.dumps({**doc, "version": 3}))
    assert "version 3 is newer" in _err(capsys, ["replay", "--verify", str(newer)])
    broken = _copy(scripted, tmp_path / "broken.tpfrec")
    (broken / "context.json").write_text('{"format": "tpforce-rec')
    assert "context.json: damaged" in _err(capsys, ["analyze", str(broken)])
    nosamples = _copy(scripted, tmp_path / "nosamples.tpfrec")
    (nosamples / "samples.bin").write_bytes(b"")
    assert "holds no samples" in _err(capsys, ["export", str(nosamples), "--csv"])


def test_a_truncated_recording_reads_up_to_its_last_record_with_a_warning(
        scripted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cut = _copy(scripted, tmp_path / "cut.tpfrec")
    data = (cut / "samples.bin").read_bytes()
    keep = len(data) // 2 + 7  # mid-record
    (cut / "samples.bin").write_bytes(data[:keep])
    assert main(["export", str(cut), "--csv", "-o", str(tmp_path / "cut.csv")]) == 0
    err = capsys.readouterr().err
    assert "samples.bin: truncated" in err
    rows = (tmp_path / "cut.csv").read_text().splitlines()
    assert len(rows) - 1 == keep // 38
