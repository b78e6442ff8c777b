"""Runs the live window on a running acquisition: the Qt app, its lifetime, screenshot."""

from __future__ import annotations

import sys

from PyQt5 import QtCore, QtWidgets

from tpforce.core.consumer import EventQueue
from tpforce.core.processor import Processor
from tpforce.core.ringbuffer import SampleRing
from tpforce.ui.window import LiveWindow


def run_window(
    processor: Processor,
    ring: SampleRing,
    events: EventQueue,
    duration_s: float | None = None,
    screenshot: str | None = None,
    title: str = "tpforce",
) -> int:
    """Show the live window until closed or `duration_s` passes; save a screenshot at the end."""
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    window = LiveWindow(processor, ring, events, title=title)
    window.show()
    failed: list[str] = []

    def finish() -> None:
        if screenshot and not window.screenshot(screenshot):
            failed.append(screenshot)
        window.close()
        app.quit()

    if duration_s is not None:
        QtCore.QTimer.singleShot(int(duration_s * 1000), finish)
    app.exec_()
    if failed:
        print(f"tpforce: could not write the screenshot to {failed[0]}", file=sys.stderr)
        return 1
    return 0
