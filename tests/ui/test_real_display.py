"""The window on a real X server (Xvfb) through the xcb platform, and `tpforce live` on a pty."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PyQt5 import QtGui

from tpforce.io.sim.probe import SimProbe

pytestmark = pytest.mark.gui


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """A private Xvfb on a free display number (it picks one and writes it to a pipe)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb); the offscreen tests "
                    "still cover the window")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write_fd), "-screen", "0",
                             "1400x900x24", "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()  # blocks until the server is ready
        if not number:
            pytest.skip("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def assert_rendered(png: Path) -> None:
    """A real picture of the window: big enough, many colours, the zone panel's colour."""
    image = QtGui.QImage(str(png))
    assert image.width() >= 800 and image.height() >= 400
    colours = {image.pixel(x, y) & 0xFFFFFF for x in range(0, image.width(), 5)
               for y in range(0, image.height(), 5)}
    assert len(colours) > 20


def run_tpforce(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tpforce", *args], capture_output=True,
                          text=True, timeout=90, env=env)


def test_demo_window_renders_under_xvfb(xvfb_display: str, output_dir: Path,
                                        tmp_path: Path) -> None:
    png = output_dir / "xvfb-demo.png"
    env = dict(os.environ, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb")
    out = run_tpforce(["demo", "--duration", "4", "--speed", "3", "--screenshot", str(png),
                       "--settings", str(tmp_path / "s.ini")], env)
    assert out.returncode == 0, out.stderr
    assert_rendered(png)


def test_live_command_opens_the_window_on_a_port(output_dir: Path, tmp_path: Path) -> None:
    png = output_dir / "live.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with SimProbe(speed=3.0) as probe:
        out = run_tpforce(["live", "--port", probe.port, "--duration", "3", "--screenshot",
                           str(png), "--settings", str(tmp_path / "s.ini"), "--target", "60"],
                          env)
    assert out.returncode == 0, out.stderr
    assert_rendered(png)
    assert "target_s=60" in (tmp_path / "s.ini").read_text()


def test_live_command_on_a_missing_port_says_what_to_do(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = run_tpforce(["live", "--port", str(tmp_path / "ttyNONE")], env)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "ports" in out.stderr


def test_record_switch_writes_a_recording_folder_while_on(rig_factory, tmp_path: Path) -> None:
    from tpforce.cli.live import recorder_switch
    from tpforce.io.sim.hand import Step

    rig = rig_factory([Step(1.0, 5.0), Step(60.0, 5.0)], speed=4.0)
    record = recorder_switch(rig.session, tmp_path / "recs", "sim")
    name = record(True)
    folder = tmp_path / "recs" / name
    assert folder.is_dir()
    count = rig.session.ring.count
    deadline_count = count + 80
    import time as _time

    end = _time.monotonic() + 10
    while rig.session.ring.count < deadline_count and _time.monotonic() < end:
        _time.sleep(0.02)  # waits on the stream's own progress, bounded
    assert record(False) == ""
    from tpforce.io.recorder import RecordingReader

    assert RecordingReader(folder).sample_count > 40
