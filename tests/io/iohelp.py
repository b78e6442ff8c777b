"""Shared test helpers for the IO tests: the descriptors this process has open."""

from __future__ import annotations

import os


def open_fds() -> set[str]:
    """This process's open file descriptors (Linux)."""
    return set(os.listdir("/proc/self/fd"))
