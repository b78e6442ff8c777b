"""LSL tests: liblsl only ever starts inside a loopback-only network namespace.

Every scenario runs as `unshare -rn python tests/lsl/netns.py ...`, which points liblsl at
tests/lsl/lsl_api.cfg (LSLAPICFG, set before pylsl is imported) and brings up `lo`, the
namespace's only interface. The user's own LSL configuration is never read or changed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
os.environ["LSLAPICFG"] = str(HERE / "lsl_api.cfg")  # for anything here that imports pylsl


def run_scenario(name: str, *args: str, timeout: float = 150.0) -> dict[str, Any]:
    """Run one scenario of netns.py in a fresh loopback-only namespace; its JSON result."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("the LSL tests need unshare (util-linux) for a loopback-only namespace")
    proc = subprocess.run([unshare, "-rn", sys.executable, str(HERE / "netns.py"), name,
                           *args], capture_output=True, text=True, timeout=timeout,
                          cwd=HERE.parent.parent)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture
def scenario() -> Any:
    """The scenario runner."""
    return run_scenario
