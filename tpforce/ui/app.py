"""Runs the live window on a running acquisition: the Qt application, its lifetime, screenshot."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from PyQt5 import QtCore, QtWidgets

from tpforce.core.consumer import EventQueue
from tpforce.core.processor import Processor
from tpforce.core.ringbuffer import SampleRing
from tpforce.ui import settings as settings_io
from tpforce.ui.loop import STOP_SIGNALS as STOP_SIGNALS  # importable from here too
from tpforce.ui.loop import run_until_closed
from tpforce.ui.status import LiveLink
from tpforce.ui.window import LiveWindow


def _trials(w: LiveWindow) -> bool:
    point = w.processor.session.current
    state = w.processor.state
    return (state.phase == "baseline" and len(point.trials_before_n) == 2
            and state.force_n > 8.0 and w.guide.detail.text().startswith("ramp "))


def _treatment(w: LiveWindow) -> bool:
    state = w.processor.state
    return state.hold_active and state.in_band_s >= 12.0 and state.zone.name == "IN_BAND"


def _summary(w: LiveWindow) -> bool:
    return w.processor.state.phase == "treatment" and w.guide.detail.text().startswith("hold ")


def _after(w: LiveWindow) -> bool:
    point = w.processor.session.current
    return w.processor.state.phase == "after" and len(point.trials_after_n) >= 3 and \
        "detectable change" in w.guide.trials.text()


def _nosignal(w: LiveWindow) -> bool:
    return w.stale and w.ring.count > 0


MOMENTS = {"trials": _trials, "treatment": _treatment, "summary": _summary, "after": _after,
           "nosignal": _nosignal}
"""Moments a screenshot can be taken at (`--screenshot-at MOMENT=PATH`)."""


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
    shots: list[tuple[str, str]] = field(default_factory=list)  # (moment, PNG path)


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

    def save_screenshot() -> None:
        if opts.screenshot and not window.screenshot(opts.screenshot):
            failed.append(opts.screenshot)

    pending = list(opts.shots)

    def take_shots() -> None:
        for shot in list(pending):
            moment, path = shot
            if MOMENTS[moment](window):
                pending.remove(shot)
                if not window.screenshot(path):
                    failed.append(path)
                else:
                    print(f"tpforce: screenshot at {moment}: {path}", file=sys.stderr,
                          flush=True)

    shooter = QtCore.QTimer()
    shooter.timeout.connect(take_shots)
    if pending:
        shooter.start(100)
    try:
        code = run_until_closed(app, window, duration_s=opts.duration_s,
                                on_finish=save_screenshot, label="live window")
    finally:
        shooter.stop()
    if failed:
        print(f"tpforce: could not write the screenshot to {failed[0]}", file=sys.stderr)
        return 1
    for moment, path in pending:
        print(f"tpforce: the session did not reach {moment}: no screenshot {path}",
              file=sys.stderr)
    return code
