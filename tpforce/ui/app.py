"""Runs the live window for a session: the Qt application, its lifetime and screenshot."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from PyQt5 import QtCore, QtWidgets

from tpforce.ui.window import LiveWindow

if TYPE_CHECKING:
    from tpforce.cli.wiring import Session


def run_window(
    session: Session,
    duration_s: float | None = None,
    screenshot: str | None = None,
    title: str = "tpforce",
) -> int:
    """Show the live window until closed or `duration_s` passes; save a screenshot at the end."""
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    window = LiveWindow(session.processor, session.ring, session.events, title=title)
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
