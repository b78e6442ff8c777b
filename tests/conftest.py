"""Shared test setup: offscreen Qt by default and a per-test output folder for artefacts."""

from __future__ import annotations

import gc
import os
import re
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
# `tpforce live` records by default: tests never write into the user's own data folder.
os.environ.setdefault("TPFORCE_DATA_DIR", tempfile.mkdtemp(prefix="tpforce-test-data-"))

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "test-output"


@pytest.fixture(autouse=True)
def _collect_on_the_main_thread() -> object:
    """Collect each test's reference cycles here, on the main thread. Left to chance, the
    collector can run on a reader thread and destroy an earlier test's Qt objects there,
    which crashes a later test's window."""
    yield
    gc.collect()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Whole simulated sessions in a window run first, in a fresh process state: after a
    few hundred other tests their probe stream can stall on this machine (a known open
    defect, see docs/architecture.md)."""
    first = [i for i in items if i.get_closest_marker("session_first") is not None]
    if first:
        rest = [i for i in items if i.get_closest_marker("session_first") is None]
        items[:] = first + rest


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """A folder under test-output/ named after the test, for screenshots and logs."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
    path = OUTPUT / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Where TPFORCE_REQUIRE_FIRMWARE is set (CI), a skipped firmware test is a failure."""
    outcome = yield
    report = outcome.get_result()
    if (
        report.skipped
        and os.environ.get("TPFORCE_REQUIRE_FIRMWARE")
        and item.get_closest_marker("firmware") is not None
    ):
        report.outcome = "failed"
        report.longrepr = f"firmware test skipped where it must run: {report.longrepr}"
