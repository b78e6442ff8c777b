"""A scripted two-point session run through the live Processor and recorded on disk."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tpforce.core.processor import Processor
from tpforce.io.recorder import Recorder
from tpforce.report.scripted import context, run_script
from tpforce.report.session import SessionData


@dataclass
class Recorded:
    """The session as it was live, its Processor, and the recording folder it left."""

    data: SessionData
    proc: Processor
    path: Path


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """Record the default script (two points, an over-threshold slip on the first)."""
    path = tmp_path_factory.mktemp("rec") / "session-20260302-093000.tpfrec"
    recorder = Recorder(path, meta=context())
    data, proc = run_script(consumers=[recorder])
    assert recorder.closed
    return Recorded(data, proc, path)


def need(tool: str, package: str) -> str:
    """The tool's path; skip naming the Debian package when it is missing, but fail when
    TPFORCE_REQUIRE_BROWSER=1 (CI)."""
    found = shutil.which(tool) or (tool if os.path.isfile(tool) else None)
    if found is None:
        message = f"{tool} is missing: apt-get install {package}"
        if os.environ.get("TPFORCE_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " (TPFORCE_REQUIRE_BROWSER=1)")
        pytest.skip(message)
    return found
