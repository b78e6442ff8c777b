"""Wires a source, the core and the consumers together for the commands."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from tpforce.cli.lsl_options import calibration_for, make_source
from tpforce.core.calibration import Calibration
from tpforce.core.consumer import Consumer, EventQueue
from tpforce.core.processor import Processor
from tpforce.core.ringbuffer import SampleRing
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.io.serial_source import SerialSource
from tpforce.io.source import PortLister, Source, SourceOpenError

SIM_PORT = "sim"
AUTO_PORT = "auto"


@dataclass
class Session:
    """A live acquisition: source -> processor -> ring buffer + event queue (+ extras)."""

    source: SerialSource | Source
    processor: Processor
    ring: SampleRing
    events: EventQueue
    extras: list[Consumer] = field(default_factory=list)
    owned: list[object] = field(default_factory=list)  # e.g. a SimProbe started for `sim`

    def close(self) -> None:
        """Stop the source, then close the consumers and anything the session started."""
        self.source.close()
        self.processor.close()
        for thing in reversed(self.owned):
            stop = getattr(thing, "stop", None) or getattr(thing, "close", None)
            if stop is not None:
                stop()
        self.owned.clear()


def resolve_port(url: str, driver: str = "probe", **sim_options: object
                 ) -> tuple[str, object | None]:
    """The port to open for `url`: `sim` starts the built-in simulated probe (returned so
    the caller can stop it), `auto` finds the one probe plugged in; SourceOpenError if none."""
    if url == SIM_PORT:
        if driver != "probe":
            raise SourceOpenError("--port sim is the simulated tpforce probe; use --driver probe")
        from tpforce.io.sim.probe import SimProbe

        probe = SimProbe(**sim_options).start()  # type: ignore[arg-type]
        return probe.port, probe
    if url == AUTO_PORT:
        if driver != "probe":
            raise SourceOpenError("--port auto finds tpforce probes only; name the gauge's port")
        from tpforce.io.ports import find_probe

        return find_probe(), None
    return url, None


def open_session(
    url: str,
    calibration: Calibration,
    hold: HoldConfig | None = None,
    ring_s: float = 120.0,
    rate_hint_sps: int = 1000,
    extras: list[Consumer] | None = None,
    *,
    driver: str = "probe",
    driver_options: dict[str, object] | None = None,
    reconnect: bool = True,
    lister: PortLister | None = None,
) -> Session:
    """Open `url` (a port, a pyserial URL, `sim` or `auto`) with `driver` and start streaming
    into a fresh processor; raises SourceOpenError with a one-line fix.

    Line drivers (force gauges) report micronewtons in `raw`, so their calibration is
    always `DRIVER_CALIBRATION`, whatever `calibration` says.
    """
    port, owned = resolve_port(url, driver)
    ring = SampleRing(int(ring_s * rate_hint_sps))
    events = EventQueue()
    consumers: list[Consumer] = [ring, events, *(extras or [])]
    processor = Processor(calibration, Tracker(hold), consumers)
    source = make_source(port, driver, processor, reconnect=reconnect, lister=lister,
                         **(driver_options or {}))
    processor.set_calibration(calibration_for(source) or calibration)
    try:
        source.open()
    except Exception:
        if owned is not None:
            owned.stop()  # type: ignore[attr-defined]
        raise
    return Session(source, processor, ring, events, extras or [],
                   [owned] if owned is not None else [])


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
