"""Wires a source, the core and the consumers together for the commands."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from tpforce.core.calibration import Calibration
from tpforce.core.consumer import Consumer, EventQueue
from tpforce.core.processor import Processor
from tpforce.core.ringbuffer import SampleRing
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.io.serial_source import SerialSource


@dataclass
class Session:
    """A live acquisition: source -> processor -> ring buffer + event queue (+ extras)."""

    source: SerialSource
    processor: Processor
    ring: SampleRing
    events: EventQueue
    extras: list[Consumer] = field(default_factory=list)

    def close(self) -> None:
        """Stop the source, then close the consumers."""
        self.source.close()
        self.processor.close()


def open_session(
    url: str,
    calibration: Calibration,
    hold: HoldConfig | None = None,
    ring_s: float = 120.0,
    rate_hint_sps: int = 1000,
    extras: list[Consumer] | None = None,
) -> Session:
    """Open `url` and start streaming into a fresh processor; raises SourceOpenError."""
    ring = SampleRing(int(ring_s * rate_hint_sps))
    events = EventQueue()
    consumers: list[Consumer] = [ring, events, *(extras or [])]
    processor = Processor(calibration, Tracker(hold), consumers)
    source = SerialSource(url, processor).open()
    return Session(source, processor, ring, events, extras or [])


def qt_display_problem() -> str | None:
    """Why a Qt window cannot open here, as one line with the fix, or None if it can."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return None
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return ("no display available: use --headless for a text readout, or set "
                "QT_QPA_PLATFORM=offscreen to render without a screen")
    return None
