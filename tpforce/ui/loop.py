"""Runs Qt's event loop for one window so that Ctrl-C or SIGTERM closes it cleanly, at any
moment, and the command exits 130 with its port and recording closed by the caller."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from PyQt5 import QtCore, QtWidgets

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM")
                     if hasattr(signal, name))
"""The signals that close a window the way closing it by hand does (the command exits 130)."""

WAKE_MS = 100
"""Python runs its signal handlers only when it gets control: this often, whatever Qt does."""


def run_until_closed(app: QtCore.QCoreApplication, window: QtWidgets.QWidget, *,
                     duration_s: float | None = None,
                     on_finish: Callable[[], None] | None = None,
                     label: str | None = "live window") -> int:
    """Run the event loop until `window` is closed, `duration_s` passes (`on_finish` runs
    first, e.g. for a screenshot) or SIGINT/SIGTERM comes; 0, or 130 after a stop signal.
    The window's `label` is announced on stderr once a signal would close it (None: not).

    A stop signal posts the close to the loop instead of quitting at once: app.quit() before
    exec_() starts would be lost and the window would run on.
    """
    interrupted: list[int] = []

    def stop() -> None:
        window.close()
        app.quit()

    def finish() -> None:
        if on_finish is not None:
            on_finish()
        stop()

    # Timers owned here, stopped at the end: none fires later in another window's loop.
    stopper = QtCore.QTimer()
    stopper.setSingleShot(True)
    stopper.timeout.connect(stop)
    finisher = QtCore.QTimer()
    finisher.setSingleShot(True)
    finisher.timeout.connect(finish)
    wake = QtCore.QTimer()
    wake.timeout.connect(lambda: None)

    def stop_on_signal(signum: int, _frame: object) -> None:
        interrupted.append(signum)
        stopper.start(0)

    dialog = window if isinstance(window, QtWidgets.QDialog) else None
    if dialog is not None:  # accept() or reject() ends the loop, as exec_() would
        dialog.finished.connect(app.quit)
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():  # only it may set handlers
        previous = {sig: signal.signal(sig, stop_on_signal) for sig in STOP_SIGNALS}
    try:
        if duration_s is not None:
            finisher.start(int(duration_s * 1000))
        if label is not None:
            print(f"tpforce: {label} open; close it or press Ctrl-C to stop",
                  file=sys.stderr, flush=True)
        wake.start(WAKE_MS)
        # A signal during the set-up is already stop enough; a window closed already
        # (a dialog that finished while it was shown) leaves nothing to run.
        if not interrupted and window.isVisible():
            app.exec_()
    finally:
        window.close()
        wake.stop()
        finisher.stop()
        stopper.stop()
        if dialog is not None:
            dialog.finished.disconnect(app.quit)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 130 if interrupted else 0
