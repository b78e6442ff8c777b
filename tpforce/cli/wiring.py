"""The one wiring: source -> processor -> ring buffer, event queue, recorder and extras.

`live`, `demo`, `stream` and the tests all build their pipeline here. `open_pipeline`
opens a port by name (`sim`, `auto`, a path, a pyserial URL or `lsl:NAME`, a Lab Streaming
Layer stream); `start_pipeline` takes any `core.source.Source` (a recording player, an LSL
inlet). Either way the source is opened into a `HeldSink`, the calibration is chosen from
what the device said, consumers that need to know the device (`late_extras`, e.g. the LSL
outlet) are made, and only then do samples reach the processor: none is tracked with the
wrong calibration, and every consumer gets every sample.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tpforce.core.calibration import Calibration
from tpforce.core.consumer import Consumer, EventQueue
from tpforce.core.processor import Processor
from tpforce.core.ringbuffer import SampleRing
from tpforce.core.source import HeldSink, Source, SourceOpenError
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.io.calibration import CalibrationChoice, device_calibration
from tpforce.io.drivers import make_source
from tpforce.io.recorder import Recorder, RecordingError, new_recording_path
from tpforce.io.source import PortLister

SIM_PORT = "sim"
AUTO_PORT = "auto"
LSL_PORT = "lsl:"  # `lsl:NAME`: the Lab Streaming Layer stream called NAME

CalibrationChooser = Callable[[Source], Calibration]
"""Picks the calibration once the source is open (it may raise cli.UserError)."""

LateExtras = Callable[[Source, Calibration], Sequence[Consumer]]
"""Makes consumers from the open source and the chosen calibration, before any sample is
released to the processor (so they miss none); it may raise SourceOpenError."""


@dataclass
class Pipeline:
    """A running acquisition: source -> processor -> ring + event queue (+ recorder, extras)."""

    source: Source
    processor: Processor
    ring: SampleRing
    events: EventQueue
    extras: list[Consumer] = field(default_factory=list)
    owned: list[Any] = field(default_factory=list)  # e.g. the SimProbe started for `sim`
    recorder: Recorder | None = None
    patient: str = "anon"  # the pseudonym recordings are named by and carry
    operator: str = ""
    index_history: bool = True  # a closed recording goes into the history (tpforce.history)
    history_db: str | None = None  # its store (None: $TPFORCE_HISTORY_DB or the user's file)
    indexed: list[Any] = field(default_factory=list)  # an IndexResult per closed recording
    record_warning: str = ""  # why recording is not running although asked ("" if fine)
    calibration_notice: str = ""  # what is wrong with the calibration at connect ("" if fine)

    @property
    def device_label(self) -> str:
        """The device as one line, for titles and recordings."""
        dev = self.source.device
        return dev.label if dev is not None else "unknown device"

    def recording_context(self) -> dict[str, Any]:
        """What a recording carries besides samples and events: the device (serial,
        firmware, protocol), the calibration in full, every setting, the app version,
        the patient's pseudonym, the operator and the points so far."""
        from tpforce import __version__

        tracker = self.processor.tracker
        dev = self.source.device
        info = getattr(self.source, "info", None)
        band = tracker.band
        return {
            "app": "tpforce", "app_version": __version__,
            "patient": self.patient, "operator": self.operator,
            "device": dataclasses.asdict(dev) if dev is not None else None,
            "device_label": self.device_label,
            "probe_serial": dev.serial if dev is not None else "",
            "firmware": dev.firmware if dev is not None else "",
            "protocol": getattr(info, "protocol", None),
            "nominal_rate_sps": self.source.nominal_rate_sps,
            "calibration": dataclasses.asdict(self.processor.calibration),
            "hold_config": dataclasses.asdict(tracker.config),
            "band": dataclasses.asdict(band) if band is not None else None,
            "points": [p.label for p in self.processor.session.points],
            "from_first_sample": tracker.samples_seen == 0,
            "samples_before": tracker.samples_seen,
        }

    def start_recording(self, path: str | os.PathLike[str]) -> Recorder:
        """Record from now on what the processor hands on: raw samples with force, and every
        event, operator inputs included (the R key and `--record` both come here)."""
        self.stop_recording()
        with self.processor._lock:  # no batch between the context and the first sample
            try:
                recorder = Recorder(path, self.recording_context())
            except RecordingError as exc:
                raise OSError(str(exc)) from None
            self.recorder = recorder
            self.processor.add_consumer(recorder)
        return recorder

    def start_default_recording(self, folder: Path | None = None) -> Recorder | None:
        """Record into the per-user data folder (0700, files 0600), named by pseudonym and
        time; a folder that cannot be written leaves `record_warning` set, never stops
        acquisition."""
        from tpforce.history.paths import private_dir, user_data_dir

        where = folder if folder is not None else user_data_dir() / "recordings"
        try:
            private_dir(where)
            recorder = self.start_recording(new_recording_path(where, self.patient))
        except OSError as exc:
            self.record_warning = f"NOT RECORDING: {exc}"
            return None
        self.record_warning = ""
        return recorder

    def recording_state(self) -> tuple[bool, str]:
        """For the status bar: whether it records, and one line: the recording's name and
        size, or why it is not recording although asked ("" when off by choice)."""
        rec = self.recorder
        if rec is None:
            return False, self.record_warning
        if rec.error:
            return False, f"RECORDING FAILED: {rec.error} ({rec.path.name})"
        return True, f"● REC {rec.path.name} {rec.size_bytes / 1e6:.1f} MB"

    def stop_recording(self) -> None:
        """Stop and close the recording in progress, if any (the points go in its context),
        then index its visit into the history (a patient's recording; see history.indexing)."""
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            self.processor.remove_consumer(recorder)
            recorder.close()
            recorder.update_context(points=[p.label for p in self.processor.session.points])
            if self.index_history:  # the recording is on disk first: a failure costs a line
                from tpforce.history.indexing import index_recording

                result = index_recording(recorder.path, self.history_db)
                self.indexed.append(result)
                if result.status != "skipped":
                    print(f"tpforce: {'warning: ' if result.failed else ''}{result.line}",
                          file=sys.stderr, flush=True)

    def recorder_switch(self, folder: Path) -> Callable[[bool], str]:
        """The R key's switch: on starts a fresh folder in `folder`, off stops; returns the
        recording's name ("" when off)."""
        def record(on: bool) -> str:
            self.stop_recording()
            if not on:
                return ""
            folder.mkdir(parents=True, exist_ok=True)
            return self.start_recording(new_recording_path(folder, self.patient)).path.name

        return record

    def close(self) -> None:
        """Stop the source, close the recording and consumers, stop what was started here."""
        self.source.close()
        self.processor.close()  # a running hold ends, and the recording keeps that
        self.stop_recording()
        for thing in reversed(self.owned):
            stop = getattr(thing, "stop", None) or getattr(thing, "close", None)
            if stop is not None:
                stop()
        self.owned.clear()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def resolve_port(url: str, driver: str = "probe", sim_options: dict[str, Any] | None = None
                 ) -> tuple[str, Any | None]:
    """The port to open for `url`: `sim` starts the built-in simulated probe (returned so
    the caller can stop it), `auto` finds the one probe plugged in; SourceOpenError if none."""
    if url == SIM_PORT:
        if driver != "probe":
            raise SourceOpenError("--port sim is the simulated tpforce probe; use --driver probe")
        from tpforce.io.sim.probe import SimProbe

        probe = SimProbe(**(sim_options or {})).start()
        return probe.port, probe
    if url == AUTO_PORT:
        if driver != "probe":
            raise SourceOpenError("--port auto finds tpforce probes only; name the gauge's port")
        from tpforce.io.ports import find_probe

        return find_probe(), None
    return url, None


def start_pipeline(
    source: Source,
    *,
    choose: CalibrationChooser = device_calibration,
    hold: HoldConfig | None = None,
    ring_s: float = 120.0,
    extras: Sequence[Consumer] = (),
    late_extras: LateExtras | None = None,
    record: str | os.PathLike[str] | None = None,
    owned: Sequence[Any] = (),
    record_default: bool = False,
    record_dir: Path | None = None,
    patient: str = "anon",
    operator: str = "",
) -> Pipeline:
    """Open `source` and run it into a fresh processor with the chosen calibration;
    `late_extras` adds consumers made from the open device before its first sample."""
    held = HeldSink()
    source.sink = held
    late: list[Consumer] = []
    try:
        source.open()
        calibration = choose(source)
        if late_extras is not None:
            late = list(late_extras(source, calibration))
        consumers = [*extras, *late]
        rate = max(source.nominal_rate_sps, 80.0)
        ring = SampleRing(int(ring_s * rate))
        events = EventQueue()
        keep = _report_keeper(patient)
        processor = Processor(calibration, Tracker(hold), [ring, events, *consumers, *keep])
        pipeline = Pipeline(source, processor, ring, events, consumers, list(owned),
                            patient=patient, operator=operator)
        if isinstance(choose, CalibrationChoice):
            pipeline.calibration_notice = choose.notice
        if record is not None:
            pipeline.start_recording(record)
        elif record_default:  # from the first sample; a failure is a warning, not a stop
            pipeline.start_default_recording(record_dir)
        _describe(keep, pipeline)
    except BaseException:
        source.close()
        for consumer in late:
            with contextlib.suppress(Exception):
                consumer.close()
        raise
    held.release(processor)
    return pipeline


def _report_keeper(patient: str) -> list[Consumer]:
    """A patient's session is kept in memory from its first sample for the window's "save
    report" (tpforce.ui.report_action finds the keeper among the processor's consumers)."""
    from tpforce.history.indexing import ANONYMOUS
    from tpforce.report.live import SessionKeeper

    return [SessionKeeper()] if patient != ANONYMOUS else []


def _describe(keep: list[Consumer], pipeline: Pipeline) -> None:
    """Give the keeper the session's context: patient, operator, probe, calibration, start."""
    import time

    from tpforce.report.live import SessionKeeper
    from tpforce.report.load import report_context

    for keeper in keep:
        if isinstance(keeper, SessionKeeper):
            keeper.context = report_context(pipeline.recording_context(), time.time())


def open_pipeline(
    url: str,
    *,
    driver: str = "probe",
    driver_options: dict[str, Any] | None = None,
    sim_options: dict[str, Any] | None = None,
    choose: CalibrationChooser = device_calibration,
    hold: HoldConfig | None = None,
    ring_s: float = 120.0,
    extras: Sequence[Consumer] = (),
    late_extras: LateExtras | None = None,
    record: str | os.PathLike[str] | None = None,
    reconnect: bool = True,
    lister: PortLister | None = None,
    record_default: bool = False,
    record_dir: Path | None = None,
    patient: str = "anon",
    operator: str = "",
) -> Pipeline:
    """Open `url` (a port, a pyserial URL, `sim`, `auto` or `lsl:NAME`) with `driver` and
    start the pipeline; SourceOpenError (one line with the fix) or ValueError on a bad option."""
    if url.startswith(LSL_PORT):
        from tpforce.io.lsl import inlet_for_port

        inlet = inlet_for_port(url, driver, reconnect=reconnect, **(driver_options or {}))
        return start_pipeline(inlet, choose=choose, hold=hold, ring_s=ring_s, extras=extras,
                              late_extras=late_extras, record=record,
                              record_default=record_default, record_dir=record_dir,
                              patient=patient, operator=operator)
    port, sim = resolve_port(url, driver, sim_options)
    try:
        if sim is not None and lister is None:
            lister = sim.ports
        source = make_source(port, driver, None, reconnect=reconnect, lister=lister,
                             **(driver_options or {}))
        return start_pipeline(source, choose=choose, hold=hold, ring_s=ring_s,
                              extras=extras, late_extras=late_extras, record=record,
                              owned=[sim] if sim is not None else [],
                              record_default=record_default, record_dir=record_dir,
                              patient=patient, operator=operator)
    except BaseException:
        if sim is not None:
            with contextlib.suppress(Exception):
                sim.stop()
        raise


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
