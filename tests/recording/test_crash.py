"""`kill -9` during a real recording: the folder opens, with at most 1 s of samples lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tpforce.io.recorder import RecordingReader


def test_kill_9_during_a_recording_loses_at_most_one_second(tmp_path: Path) -> None:
    path = tmp_path / "killed.tpfrec"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tpforce", "stream", "--port", "sim", "--record", str(path),
         "--format", "csv"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        text=True)
    printed_t = -1.0
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # samples as the processor handed them on, recorder too
            if line.startswith(("#", "t_host_s")):
                continue
            printed_t = float(line.split(",")[1])
            if printed_t >= 3.0:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL and printed_t >= 3.0
    reader = RecordingReader(path)
    samples = reader.samples()
    assert len(samples) > 0
    assert samples["t_s"][-1] >= printed_t - 1.0  # at most 1 s lost
    assert reader.context["from_first_sample"] is True
    reader.events()  # the events file opens too (a torn line is cut, with a warning)
