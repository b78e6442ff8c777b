"""`tpforce replay` as a real subprocess: bad input is one line and exit 2, the headless
what-if prints the recorded and rescored holds, the window makes its screenshot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tpforce.io.player import recorded_holds
from tpforce.io.recorder import RecordingReader


def tpforce(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TPFORCE_DATA_DIR=str(tmp / "data"))
    return subprocess.run([sys.executable, "-m", "tpforce", "replay", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def _one_line_exit_2(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    line = _one_line_exit_2(tpforce(str(tmp_path / "gone.tpfrec"), tmp=tmp_path))
    assert "gone.tpfrec" in line and "no such file" in line


@pytest.mark.parametrize("make", ["file", "folder"])
def test_something_that_is_not_a_recording_is_one_line_and_exit_2(tmp_path: Path,
                                                                   make: str) -> None:
    path = tmp_path / "notes.txt"
    if make == "file":
        path.write_text("hello\n")
    else:
        path.mkdir()
    line = _one_line_exit_2(tpforce(str(path), tmp=tmp_path))
    assert "notes.txt" in line and "not a tpforce recording" in line
    line = _one_line_exit_2(tpforce(str(path), "--what-if", "band=70-85", tmp=tmp_path))
    assert "not a tpforce recording" in line


@pytest.mark.parametrize("args, says", [
    (["--what-if", "band=90-70"], "lower first"),
    (["--what-if", "colour=red"], "NAME=VALUE"),
    (["--what-if", "target=-3"], "positive"),
    (["--seek", "hold:9"], "has 1 hold"),
    (["--speed", "16"], "0.25 to 8"),
])
def test_bad_options_are_one_line_and_exit_2(scripted: Path, tmp_path: Path,
                                             args: list[str], says: str) -> None:
    line = _one_line_exit_2(tpforce(str(scripted), *args, tmp=tmp_path))
    assert says in line


def test_the_headless_what_if_prints_recorded_and_rescored_holds(scripted: Path,
                                                                  tmp_path: Path) -> None:
    result = tpforce(str(scripted), "--what-if", "band=40-60", "--what-if", "target=10",
                     tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "what-if band custom 40-60 % PPT · target 10 s" in lines[0]
    assert "the recording is unchanged" in lines[0]
    rec = recorded_holds(RecordingReader(scripted))[0]
    row = [c.strip() for c in lines[2].split("|")]
    assert row[:4] == ["1", f"{rec.in_band_s:.1f}", f"{rec.in_band_pct:.0f}",
                       "yes" if rec.completed else "no"]
    assert row[4:] != row[1:4]  # a band far below the hold's force rescored it


def test_the_window_saves_a_screenshot_paused_inside_a_hold(scripted: Path,
                                                            tmp_path: Path) -> None:
    from PyQt5 import QtGui

    shot = tmp_path / "replay.png"
    result = tpforce(str(scripted), "--seek", "hold:1", "--duration", "1", "--screenshot",
                     str(shot), tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    image = QtGui.QImage(str(shot))
    assert not image.isNull() and image.width() >= 1000


def test_a_version_1_recording_cannot_be_replayed_and_says_why(tmp_path: Path) -> None:
    from tpforce.core.samples import empty_batch

    from .helpers import write_v1

    batch = empty_batch(3)
    batch["t_s"] = [0.0, 0.0125, 0.025]
    path = tmp_path / "old.tpfrec"
    write_v1(path, [batch])
    line = _one_line_exit_2(tpforce(str(path), tmp=tmp_path))
    assert "old.tpfrec" in line and "version-1" in line
