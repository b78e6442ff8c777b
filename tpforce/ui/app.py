"""Runs the live window on a running acquisition: the Qt application, its lifetime, screenshot."""

from __future__ import annotations

import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from PyQt5 import QtCore, QtWidgets

from tpforce.core.consumer import EventQueue
from tpforce.core.processor import Processor
from tpforce.core.ringbuffer import SampleRing
from tpforce.ui import settings as settings_io
from tpforce.ui.status import LiveLink
from tpforce.ui.window import LiveWindow

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM")
                     if hasattr(signal, name))


@dataclass
class WindowOptions:
    """How the commands want the window: lifetime, screenshot, settings overrides."""

    title: str = "tpforce"
    duration_s: float | None = None
    screenshot: str | None = None
    settings_path: Path | None = None  # an INI file instead of the user's settings
    overrides: dict[str, object] = field(default_factory=dict)  # e.g. target_s from --target
    full_screen: bool = False
    max_rate_sps: float = 1000.0


def run_window(
    processor: Processor,
    ring: SampleRing,
    events: EventQueue,
    options: WindowOptions | None = None,
    link: LiveLink | None = None,
) -> int:
    """Show the live window until closed or the duration passes; save a screenshot at the end."""
    opts = options or WindowOptions()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setOrganizationName(settings_io.ORGANISATION)
    app.setApplicationName(settings_io.APPLICATION)
    store = settings_io.open_store(opts.settings_path)
    settings = settings_io.load(store).with_(**opts.overrides)
    window = LiveWindow(processor, ring, events, settings=settings, store=store, link=link,
                        title=opts.title, max_rate_sps=opts.max_rate_sps)
    if opts.full_screen:
        window.showFullScreen()
    else:
        window.show()
    failed: list[str] = []

    def finish() -> None:
        if opts.screenshot and not window.screenshot(opts.screenshot):
            failed.append(opts.screenshot)
        window.close()
        app.quit()

    interrupted: list[int] = []

    def stop() -> None:
        window.close()
        app.quit()

    def stop_on_signal(signum: int, _frame: object) -> None:
        # Runs at the next Python callback. Quitting is posted to the event loop, not done
        # here: app.quit() before exec_() starts would be lost and the window run on. The
        # caller then closes the port and the recording.
        interrupted.append(signum)
        QtCore.QTimer.singleShot(0, stop)

    previous = {sig: signal.signal(sig, stop_on_signal) for sig in STOP_SIGNALS}
    if opts.duration_s is not None:
        QtCore.QTimer.singleShot(int(opts.duration_s * 1000), finish)
    print("tpforce: live window open; close it or press Ctrl-C to stop", file=sys.stderr,
          flush=True)
    # Python runs its signal handlers only when it gets control: this timer gives it control
    # at least every 100 ms whatever the window does.
    wake = QtCore.QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(100)
    try:
        if not interrupted:  # a signal during the set-up above is already stop enough
            app.exec_()
        window.close()
    finally:
        wake.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed:
        print(f"tpforce: could not write the screenshot to {failed[0]}", file=sys.stderr)
        return 1
    return 130 if interrupted else 0
