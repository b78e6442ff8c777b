"""Headless Chromium for the report tests: offline, with a throw-away profile in the test's
folder, so every test runs the browser the same way."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .conftest import need


def chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with `args` (its profile under `tmp`); skip or fail via `need`
    when it is missing."""
    exe = need("chromium", "chromium")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
