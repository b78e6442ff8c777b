"""Lab Streaming Layer: an outlet that publishes force and events, an inlet that reads force.

The outlet is a core consumer: each batch goes out as one float32 channel in newtons, each
event as one JSON string on a marker stream. Sample times are the device times that the
stream assembler's `ClockMap` mapped to host monotonic time, moved onto LSL's clock
(`pylsl.local_clock`), so they line up with every other stream a recorder sees.

The inlet is a `core.source.Source`: it resolves a force stream by name and hands
SAMPLE_DTYPE batches (force in micronewtons in `raw`, like the force gauges, so its
calibration is theirs) and SignalLost/SignalRestored events to its sink. `--port lsl:NAME`
opens one (`inlet_for_port`). pylsl is imported only when one of them is made
(`tpforce[lsl]`).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from tpforce.core.calibration import Calibration
from tpforce.core.events import Event
from tpforce.core.samples import empty_batch
from tpforce.core.source import STALE_S, Device, Sink, SourceHealth, SourceOpenError
from tpforce.io.drivers import DRIVER_CALIBRATION
from tpforce.io.recorder import event_to_dict
from tpforce.io.source import SourceOutput

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'tpforce[lsl]'"
PORT_PREFIX = "lsl:"
MARKER_SUFFIX = "-markers"
UN_PER_N = round(1 / DRIVER_CALIBRATION.n_per_count)  # the inlet's `raw`: micronewtons
RAW_LIMIT = 2**31 - 1
RESOLVE_TIMEOUT_S = 5.0
PULL_TIMEOUT_S = 0.02
CORRECTION_EVERY_S = 1.0


def import_pylsl() -> Any:
    """pylsl, or ImportError with the extra to install in its message."""
    try:
        import pylsl
    except ImportError as exc:  # also raised when liblsl itself cannot be loaded
        raise ImportError(f"Lab Streaming Layer needs pylsl: {INSTALL_HINT} ({exc})") from None
    return pylsl


def clock_offset(pylsl: Any, tries: int = 5) -> tuple[float, float]:
    """(LSL clock - time.monotonic, uncertainty) from the tightest of `tries` bracketed reads.

    On Linux both are CLOCK_MONOTONIC and the offset is ~0; elsewhere they may differ, so it
    is measured rather than assumed.
    """
    best = (0.0, math.inf)
    for _ in range(tries):
        a = time.monotonic()
        lsl = pylsl.local_clock()
        b = time.monotonic()
        if (b - a) / 2 < best[1]:
            best = (lsl - (a + b) / 2, (b - a) / 2)
    return best


@dataclass(frozen=True, slots=True)
class ForceStreamInfo:
    """What the force stream's header says about the device (empty where unknown)."""

    rate_hz: float = 0.0  # nominal rate; 0 = irregular (a gauge polled at no fixed rate)
    device: str = ""  # e.g. "tpforce probe", "mark10"
    serial: str = ""
    calibrated_utc: str = ""  # ISO 8601 date of the calibration in use
    tip_area_cm2: float = math.nan


LINGER_S = 0.5  # how long a closing outlet keeps sending to a connected reader


class LslOutlet:
    """A consumer that publishes force (N, float32) and one marker string per event."""

    def __init__(self, name: str, info: ForceStreamInfo) -> None:
        pylsl = import_pylsl()
        self.name = name
        self.info = info
        self.offset_s, self.offset_err_s = clock_offset(pylsl)
        source_id = f"tpforce-{info.serial or name}"
        force = pylsl.StreamInfo(name, "Force", 1, info.rate_hz or pylsl.IRREGULAR_RATE,
                                 pylsl.cf_float32, source_id)
        desc = force.desc()
        ch = desc.append_child("channels").append_child("channel")
        ch.append_child_value("label", "force")
        ch.append_child_value("unit", "N")
        ch.append_child_value("type", "Force")
        acq = desc.append_child("acquisition")
        acq.append_child_value("manufacturer", "tpforce")
        acq.append_child_value("model", info.device)
        acq.append_child_value("serial_number", info.serial)
        acq.append_child_value("calibration_date", info.calibrated_utc)
        acq.append_child_value("tip_area_cm2",
                               "" if math.isnan(info.tip_area_cm2) else f"{info.tip_area_cm2:g}")
        markers = pylsl.StreamInfo(name + MARKER_SUFFIX, "Markers", 1, pylsl.IRREGULAR_RATE,
                                   pylsl.cf_string, source_id + MARKER_SUFFIX)
        markers.desc().append_child_value("format", "one JSON object per event, key 'type'")
        self._pylsl = pylsl
        self._force: Any = pylsl.StreamOutlet(force)
        self._markers: Any = pylsl.StreamOutlet(markers)
        self._dev_to_lsl: float | None = None  # LSL time - device time, at the last sample
        self._lock = threading.Lock()

    def on_batch(self, batch: np.ndarray) -> None:
        """Push the batch's force with each sample's mapped time."""
        if len(batch) == 0:
            return
        ts = batch["t_host_s"] + self.offset_s
        with self._lock:
            if self._force is None:
                return
            self._force.push_chunk(batch["force_n"].astype(np.float32).reshape(-1, 1),
                                   ts.tolist())
            self._dev_to_lsl = float(ts[-1]) - float(batch["t_s"][-1])

    def on_event(self, event: Event) -> None:
        """Push the event as JSON, stamped at its device time on LSL's clock."""
        text = json.dumps(event_to_dict(event))
        with self._lock:
            if self._markers is None:
                return
            ts = (event.t_s + self._dev_to_lsl if self._dev_to_lsl is not None
                  else self._pylsl.local_clock())
            self._markers.push_sample([text], ts)

    def wait_for_consumers(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for something (e.g. LabRecorder) to read the force stream."""
        outlet = self._force
        return bool(outlet is not None and outlet.wait_for_consumers(timeout_s))

    def close(self) -> None:
        """Withdraw both streams; safe to call twice. While a reader is connected, the
        outlet lingers up to LINGER_S so that the last samples pushed are sent, not dropped
        with the outlet (liblsl has no flush)."""
        with self._lock:
            force = self._force
            if force is not None and force.have_consumers():
                time.sleep(LINGER_S)
            self._force = self._markers = None  # pylsl destroys an outlet with its object


class LslInlet(SourceOutput):
    """A `core.source.Source` reading the first numeric LSL stream called `name`: force in N
    on its channel 0, handed on as micronewtons in `raw` (`DRIVER_CALIBRATION`)."""

    driver = "lsl"

    def __init__(self, name: str, sink: Sink | None = None, stale_s: float = STALE_S,
                 resolve_timeout_s: float = RESOLVE_TIMEOUT_S, recover: bool = True) -> None:
        self.name = name
        self.url = self.port = f"{PORT_PREFIX}{name}"
        SourceOutput.__init__(self, sink, stale_s)
        self.resolve_timeout_s = resolve_timeout_s
        self.recover = recover
        self._rate = 0.0
        self._inlet: Any = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._samples = 0
        self._offset_s = 0.0
        self._correction = 0.0

    # -- the interface (core.source.Source) ---------------------------------------------

    @property
    def device(self) -> Device | None:
        """The stream, with the nominal rate its header gives, once open."""
        if self._inlet is None:
            return None
        return Device("LSL stream", rate_sps=self._rate, where=self.url)

    @property
    def nominal_rate_sps(self) -> float:
        """The stream's nominal rate (0: irregular, or not yet open)."""
        return self._rate

    @property
    def calibration(self) -> Calibration:
        """Micronewtons to newtons: the stream carries newtons already."""
        return DRIVER_CALIBRATION

    def open(self) -> LslInlet:
        """Find the stream and start reading; SourceOpenError with a one-line fix if not."""
        if self._thread is not None:
            return self
        try:
            pylsl = import_pylsl()
        except ImportError as exc:
            raise SourceOpenError(f"{self.url}: {exc}") from None
        found = pylsl.resolve_byprop("name", self.name, 1, self.resolve_timeout_s)
        numeric = [s for s in found if s.channel_format() != pylsl.cf_string]
        if not numeric:
            raise SourceOpenError(
                f"{self.url}: no numeric LSL stream named {self.name!r} found in "
                f"{self.resolve_timeout_s:g} s; start the sender, or check the name and that "
                "both machines share an LSL configuration")
        inlet = pylsl.StreamInlet(numeric[0], max_buflen=60, recover=self.recover)
        try:
            inlet.open_stream(timeout=self.resolve_timeout_s)
            correction = inlet.time_correction(timeout=self.resolve_timeout_s)
        except Exception as exc:  # pylsl raises its own TimeoutError/LostError
            raise SourceOpenError(f"{self.url}: the stream did not answer ({exc}); is its "
                                  "sender still running?") from None
        self._rate = max(float(numeric[0].nominal_srate()), 0.0)
        self._inlet = inlet
        self._offset_s = clock_offset(pylsl)[0]
        self._correction = correction
        self._stop.clear()
        self._thread = threading.Thread(target=self._read_loop, args=(inlet,),
                                        name="tpforce-reader-lsl", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop reading and drop the connection; safe to call twice."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)
        self._thread = None
        inlet, self._inlet = self._inlet, None
        if inlet is not None:
            inlet.close_stream()

    def __enter__(self) -> LslInlet:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def health(self) -> SourceHealth:
        """Samples handed on and sink errors; LSL itself reports no frame-level counts."""
        return SourceHealth(self._samples, self._samples, 0, 0, 0, 0, 0, 0, self._out.failures,
                            self._thread is not None, not self._watch.lost)

    # -- the reader thread ----------------------------------------------------------------

    def _read_loop(self, inlet: Any) -> None:
        next_correction = time.monotonic() + CORRECTION_EVERY_S
        seq = 0
        while not self._stop.is_set():
            try:
                values, stamps = inlet.pull_chunk(timeout=PULL_TIMEOUT_S, max_samples=1024)
                now = time.monotonic()
                if now >= next_correction:
                    self._correction = inlet.time_correction(timeout=0.0)
                    next_correction = now + CORRECTION_EVERY_S
            except Exception as exc:  # a lost stream is recovered by liblsl; say so, retry
                log.warning("%s: %s", self.url, exc)
                values, stamps, now = [], [], time.monotonic()
            if stamps:
                self._deliver(self._batch(values, stamps, seq, now), now)
                seq += len(stamps)
            lost = self._watch.check(now)
            if lost is not None:
                self._out.on_event(lost)

    def _batch(self, values: Any, stamps: list[float], seq: int, now: float) -> np.ndarray:
        """SAMPLE_DTYPE rows: the sender's stamps as device time, mapped to this host."""
        n = len(stamps)
        t = np.asarray(stamps, dtype=np.float64)
        batch = empty_batch(n)
        batch["t_s"] = t
        batch["t_host_s"] = np.minimum(t + self._correction - self._offset_s, now)
        batch["seq"] = np.arange(seq, seq + n)
        force = np.asarray(values, dtype=np.float64).reshape(n, -1)[:, 0]
        raw = np.nan_to_num(force * UN_PER_N, nan=0.0)
        batch["raw"] = np.clip(np.round(raw), -RAW_LIMIT, RAW_LIMIT)
        batch["force_n"] = force
        return batch

    def _deliver(self, batch: np.ndarray, now: float) -> None:
        restored = self._watch.batch(batch, now)
        if restored is not None:
            self._out.on_event(restored)
        self._samples += len(batch)
        self._out.on_batch(batch)


def inlet_for_port(url: str, driver: str = "probe", reconnect: bool = True,
                   **options: Any) -> LslInlet:
    """The unopened inlet for `--port lsl:NAME`; SourceOpenError (one line) for a port
    option that an LSL stream has no use for."""
    if driver != "probe":
        raise SourceOpenError(f"{url}: an LSL stream carries newtons already; leave --driver out")
    name = url[len(PORT_PREFIX):]
    if not name:
        raise SourceOpenError("--port lsl:NAME needs the stream's name, e.g. lsl:tpforce")
    given = sorted(k for k, v in options.items() if v is not None)
    if given:
        flags = {"baudrate": "--baud", "rate_hz": "--rate"}
        names = ", ".join(flags.get(k, "--" + k.replace("_", "-")) for k in given)
        raise SourceOpenError(f"{names}: for serial ports, not an LSL stream ({url})")
    return LslInlet(name, recover=reconnect)
