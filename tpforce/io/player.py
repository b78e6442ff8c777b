"""Plays a recording back: a headless recompute of its decisions (`recompute_recording`,
`verify`), a rescoring with other settings beside the recorded result (`what_if`) and a
re-timed source for the live window (`PlayerSource`).

A recompute feeds the raw samples, the operator's inputs and the source's events (signal
lost, resets) into a fresh Processor at the sample positions where they happened, with the
calibration and settings from the recording's context: the same code as live, so every
decision comes out the same unless the recording or the code changed.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tpforce.core.band import Band
from tpforce.core.calibration import Calibration
from tpforce.core.events import Event, HoldScored, Input, InputKind
from tpforce.core.metrics import HoldMetrics
from tpforce.core.processor import Processor
from tpforce.core.replay import Collector
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.io.recorder import SOURCE_EVENTS, RecordingError, RecordingReader


def _fields(cls: type, data: Any) -> dict[str, Any]:
    """The entries of `data` that are fields of dataclass `cls` (lists made tuples)."""
    if not isinstance(data, dict):
        return {}
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}


def settings_of(reader: RecordingReader) -> tuple[Calibration, HoldConfig, Band | None]:
    """The calibration, hold settings and band the recording started with."""
    ctx = reader.context
    if reader.version < 2 or "calibration" not in ctx:
        raise RecordingError(f"{reader.path}: a version-1 recording carries no calibration "
                             "or settings; it can be read and exported, not recomputed")
    try:
        cal = Calibration(**_fields(Calibration, ctx["calibration"]))
        config = HoldConfig(**_fields(HoldConfig, ctx.get("hold_config")))
        band_doc = ctx.get("band")
        band = Band(**_fields(Band, band_doc)) if isinstance(band_doc, dict) else None
    except (TypeError, ValueError) as exc:
        raise RecordingError(f"{reader.path}: damaged context ({exc})") from None
    return cal, config, band


@dataclass
class Recompute:
    """The decisions recomputed from a recording, next to the recorded ones."""

    recorded: list[tuple[int, Event]]
    recomputed: list[tuple[int, Event]]
    force_equal: bool
    first_force_difference: int  # sample index, -1 if none
    complete: bool  # the recording was closed cleanly (else only its prefix is compared)
    session: Any = None  # the session as recomputed (points, holds)
    holds: list[Any] = dataclasses.field(default_factory=list)


class _Positioned(Collector):
    """A collector that notes the sample count before each event, and the forces."""

    def __init__(self) -> None:
        super().__init__()
        self.at: list[int] = []
        self.force: list[np.ndarray] = []

    def on_batch(self, batch: np.ndarray) -> None:
        super().on_batch(batch)
        self.force.append(batch["force_n"].copy())

    def on_event(self, event: Event) -> None:
        super().on_event(event)
        self.at.append(self.samples)


def applied_at(at: int, event: Event) -> int:
    """Where a recorded item goes back in: an input after the sample it names (an input
    made from inside a delivery, by a consumer, is recorded before that batch reaches the
    recorder, so its `i` is smaller), anything else at its recorded position."""
    if isinstance(event, Input) and event.sample >= 0:
        return max(at, event.sample + 1)
    return at


def recompute_recording(reader: RecordingReader, config: HoldConfig | None = None,
                        band: Band | None = None,
                        inputs: Callable[[Input], Input | None] | None = None) -> Recompute:
    """Run the recording's samples, inputs and source events through a fresh Processor.

    `config`/`band` replace the recorded settings (a what-if); `inputs` may rewrite or drop
    (None) each recorded input. The recorded decisions are only read, never changed."""
    if reader.context.get("from_first_sample") is False:
        raise RecordingError(f"{reader.path}: started mid-session (after "
                             f"{reader.context.get('samples_before', '?')} samples); its "
                             "decisions cannot be recomputed from it alone")
    cal, rec_config, rec_band = settings_of(reader)
    sink = _Positioned()
    proc = Processor(cal, Tracker(config or rec_config, band if band is not None else rec_band),
                     [sink])
    samples = reader.samples()
    recorded = reader.events()
    pos = 0
    for at, event in recorded:
        is_input = isinstance(event, Input)
        if not is_input and type(event).__name__ not in SOURCE_EVENTS:
            continue  # a decision: recomputed, not fed
        at = applied_at(at, event)
        if at > pos:
            proc.on_batch(np.array(samples[pos:at]))
            pos = at
        if isinstance(event, Input):
            inp = inputs(event) if inputs is not None else event
            if inp is not None:
                proc.apply(inp)
        else:
            proc.on_event(event)
    if pos < len(samples):
        proc.on_batch(np.array(samples[pos:]))
    complete = "ended_unix" in reader.context
    if complete:
        proc.close()
    force = np.concatenate(sink.force) if sink.force else np.zeros(0)
    diff = np.flatnonzero(~((force == samples["force_n"]) |
                            (np.isnan(force) & np.isnan(samples["force_n"]))))
    return Recompute(recorded, list(zip(sink.at, sink.events, strict=True)),
                     len(diff) == 0, int(diff[0]) if len(diff) else -1, complete,
                     proc.session, list(proc.tracker.holds))


def _same(a: Event, b: Event) -> bool:
    return repr(a) == repr(b)  # repr: NaN fields compare equal


def first_difference(result: Recompute) -> str | None:
    """The first place the recompute and the recording part, in words, or None if equal."""
    rec, got = result.recorded, result.recomputed
    n = len(rec) if result.complete else min(len(rec), len(got))
    for k in range(n):
        if k >= len(got):
            at, e = rec[k]
            return f"event {k + 1} (after sample {at}): recorded {e!r}, recomputed nothing"
        (at_r, e_r), (_, e_g) = rec[k], got[k]
        # Positions of decisions follow the live batching; the events' own times do not.
        if not _same(e_r, e_g):
            return f"event {k + 1} (after sample {at_r}): recorded {e_r!r}, recomputed {e_g!r}"
    if result.complete and len(got) > len(rec):
        at, e = got[len(rec)]
        return f"event {len(rec) + 1} (after sample {at}): recomputed {e!r}, recorded nothing"
    if not result.force_equal:
        return (f"sample {result.first_force_difference}: the recorded force differs from "
                "the force recomputed from raw counts")
    return None


def verify(path: str | os.PathLike[str]) -> tuple[str | None, list[str]]:
    """Recompute a recording: the first difference (None if equal) and the reader's warnings."""
    reader = RecordingReader(Path(path))
    result = recompute_recording(reader)
    warnings = list(reader.warnings)
    if not result.complete:
        warnings.append(f"{reader.path}: not closed cleanly; compared up to its last event")
    return first_difference(result), warnings


WHAT_IF_KEYS = ("band_preset", "custom_lo_pct", "custom_hi_pct", "target_s", "hold_mode",
                "grace_s")
"""The settings a what-if may change (the names the live window's settings use)."""

_REPLACED_BY = {"band_preset": (InputKind.BAND_PRESET, InputKind.BAND_CUSTOM),
                "custom_lo_pct": (InputKind.BAND_PRESET, InputKind.BAND_CUSTOM),
                "custom_hi_pct": (InputKind.BAND_PRESET, InputKind.BAND_CUSTOM),
                "target_s": (InputKind.TARGET,), "hold_mode": (InputKind.HOLD_MODE,),
                "grace_s": (InputKind.GRACE,)}


def what_if_config(config: HoldConfig, changes: dict[str, Any]) -> HoldConfig:
    """`config` with a what-if's changes: a band preset, a custom band in % of the PPT
    (custom_lo_pct/custom_hi_pct), target, hold mode, grace; ValueError on a bad one."""
    unknown = set(changes) - set(WHAT_IF_KEYS)
    if unknown:
        raise ValueError(f"a what-if changes {', '.join(WHAT_IF_KEYS)}, not "
                         f"{', '.join(sorted(unknown))}")
    new: dict[str, Any] = {}
    if "band_preset" in changes:
        new["band_preset"] = str(changes["band_preset"])
    if "custom_lo_pct" in changes or "custom_hi_pct" in changes:
        lo = float(changes.get("custom_lo_pct", config.band_lo_frac * 100))
        hi = float(changes.get("custom_hi_pct", config.band_hi_frac * 100))
        if not 0 < lo < hi <= 100:
            raise ValueError(f"a band is two numbers from 0 to 100 with the lower first, "
                             f"not {lo:g}-{hi:g}")
        new["band_lo_frac"], new["band_hi_frac"] = lo / 100.0, hi / 100.0
        new.setdefault("band_preset", "custom")
    if "target_s" in changes:
        if not float(changes["target_s"]) > 0:
            raise ValueError("the target must be a positive number of seconds")
        new["target_s"] = float(changes["target_s"])
    if "hold_mode" in changes:
        if changes["hold_mode"] not in ("cumulative", "continuous"):
            raise ValueError(f"hold mode is cumulative or continuous, not "
                             f"{changes['hold_mode']!r}")
        new["mode"] = str(changes["hold_mode"])
    if "grace_s" in changes:
        if not float(changes["grace_s"]) >= 0:
            raise ValueError("the grace time must be a number of seconds >= 0")
        new["grace_s"] = float(changes["grace_s"])
    if "band_preset" in new:
        from tpforce.core.band import BandPreset

        BandPreset.parse(new["band_preset"])  # ValueError for an unknown preset
    return dataclasses.replace(config, **new)


@dataclass(frozen=True)
class HoldComparison:
    """One hold as recorded and as rescored by a what-if (None: no such hold there)."""

    recorded: HoldMetrics | None
    what_if: HoldMetrics | None


def recorded_holds(reader: RecordingReader) -> list[HoldMetrics]:
    """The holds as the recording scored them (its HoldScored decisions), in order."""
    return [e.metrics for _, e in reader.events()
            if isinstance(e, HoldScored) and isinstance(e.metrics, HoldMetrics)]


def pair_holds(recorded: list[HoldMetrics], rescored: list[HoldMetrics]
               ) -> list[HoldComparison]:
    """Each recorded hold beside the rescored hold that overlaps it most in time; rescored
    holds that overlap none get a row of their own, in time order."""
    used: set[int] = set()
    rows: list[HoldComparison] = []
    for rec in recorded:
        best, overlap = None, 0.0
        for k, new in enumerate(rescored):
            o = min(rec.end_s, new.end_s) - max(rec.start_s, new.start_s)
            if k not in used and o > overlap:
                best, overlap = k, o
        if best is not None:
            used.add(best)
        rows.append(HoldComparison(rec, rescored[best] if best is not None else None))
    rows += [HoldComparison(None, new) for k, new in enumerate(rescored) if k not in used]
    rows.sort(key=lambda r: (r.recorded or r.what_if).start_s)  # type: ignore[union-attr]
    return rows


def what_if(reader: RecordingReader, changes: dict[str, Any]) -> list[HoldComparison]:
    """Rescore the recording's holds with `changes` (see `what_if_config`) beside the
    recorded ones. The recorded inputs that set what the what-if changes are left out, so
    its setting holds throughout; the recording is only read."""
    _, config, band = settings_of(reader)
    new_config = what_if_config(config, changes)
    drop = {kind for key in changes for kind in _REPLACED_BY[key]}
    band_changed = bool(drop & {InputKind.BAND_PRESET})
    result = recompute_recording(
        reader, new_config, None if band_changed else band,
        inputs=lambda inp: None if inp.kind in drop else inp)
    return pair_holds(recorded_holds(reader), list(result.holds))


def reset_processor(processor: Processor, calibration: Calibration, tracker: Tracker) -> None:
    """Make `processor` as a new one with `calibration` and `tracker` would be, keeping its
    consumers and lock (so whoever holds it, the window, sees the fresh state)."""
    fresh = Processor(calibration, tracker)
    with processor._lock:
        for name, value in vars(fresh).items():
            if name not in ("out", "_lock"):
                setattr(processor, name, value)


class PlayerSource:
    """A `core.source.Source` that plays a recording: read it whole, then re-time it (the
    samples leave at `speed` times their recorded pace, 0.25x to 8x), with pause, step and
    seek forward and back. Recorded inputs are applied to `processor` (set once the
    pipeline runs) where they happened, and source events are replayed, so the window
    recomputes exactly what live showed; the recording itself is only read.

    Seeking back resets the processor in place and runs it again from the first sample to
    the target at once (deterministic: the same samples and inputs give the same state);
    `on_rewind`, if set, is called after the reset and before the re-run, under the lock."""

    SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)

    def __init__(self, path: str | os.PathLike[str], sink: Any = None, speed: float = 1.0,
                 tick_s: float = 0.02) -> None:
        self.reader = RecordingReader(Path(path))
        self.samples = self.reader.load_samples()
        self.items: list[tuple[int, Event]] = []
        for at, e in self.reader.events():
            if isinstance(e, Input) or type(e).__name__ in SOURCE_EVENTS:
                last = self.items[-1][0] if self.items else 0
                self.items.append((max(last, applied_at(at, e)), e))
        self.calibration_, self.config, self.band = settings_of(self.reader)
        self.sink = sink
        self.stale_s = 10.0  # a paused replay is not a lost signal
        self.processor: Processor | None = None
        self.tick_s = tick_s
        self._speed = 1.0
        self.speed = speed
        self.pos = 0  # samples delivered
        self._k = 0  # items delivered
        self._paused = True  # until `attach` gives the processor the inputs go to
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._clock_t = 0.0  # recording time at host time _clock_host
        self._clock_host = 0.0
        self.finished = threading.Event()
        self.on_rewind: Callable[[], None] | None = None

    # -- Source ----------------------------------------------------------------------------

    @property
    def device(self) -> Any:
        """The recorded device, labelled as a replay."""
        from tpforce.core.source import Device

        ctx = self.reader.context
        return Device(f"REPLAY of {self.reader.path.name}", str(ctx.get("probe_serial", "")),
                      float(ctx.get("nominal_rate_sps") or 0.0), str(ctx.get("firmware", "")),
                      str(self.reader.path))

    @property
    def nominal_rate_sps(self) -> float:
        """The recorded device's rate."""
        return float(self.reader.context.get("nominal_rate_sps") or 80.0)

    @property
    def calibration(self) -> Calibration:
        """The calibration the recording started with."""
        return self.calibration_

    def open(self) -> PlayerSource:
        """Start playing from the first sample."""
        if self._thread is None:
            self._clock_t = float(self.samples["t_s"][0]) if len(self.samples) else 0.0
            self._clock_host = time.monotonic()
            self._thread = threading.Thread(target=self._run, name="tpforce-player",
                                            daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop playing; safe to call twice."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)

    def health(self) -> Any:
        """Counts as a source reports them (a recording has no frame errors)."""
        from tpforce.core.source import SourceHealth

        return SourceHealth(self.pos, self.pos, 0, 0, 0, 0, 0, 0, 0, True, True)

    def __enter__(self) -> PlayerSource:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def attach(self, processor: Processor, play: bool = True) -> None:
        """Apply recorded inputs to `processor` (the pipeline's) and start playing."""
        self.processor = processor
        if play:
            self.pause(False)

    # -- transport controls ----------------------------------------------------------------

    @property
    def speed(self) -> float:
        """Playback speed (0.25 to 8)."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if not 0.25 <= value <= 8:
            raise ValueError("replay speed must be between 0.25 and 8")
        with getattr(self, "_lock", threading.Lock()):
            if hasattr(self, "_clock_host"):
                self._clock_t, self._clock_host = self.now_t(), time.monotonic()
            self._speed = float(value)

    @property
    def paused(self) -> bool:
        """True while paused."""
        return self._paused

    def pause(self, on: bool = True) -> None:
        """Pause (or resume) playback."""
        with self._lock:
            self._clock_t, self._clock_host = self.now_t(), time.monotonic()
            self._paused = on

    def now_t(self) -> float:
        """The recording time playback has reached."""
        if self._paused:
            return self._clock_t
        return self._clock_t + (time.monotonic() - self._clock_host) * self._speed

    def step(self, n: int = 1) -> None:
        """While paused: play the next `n` samples."""
        with self._lock:
            self._deliver(min(self.pos + n, len(self.samples)))
            if self.pos:
                self._clock_t = float(self.samples["t_s"][self.pos - 1])
                self._clock_host = time.monotonic()

    def seek(self, t_s: float) -> None:
        """Go to recording time `t_s`, forward or back. Forward, what lies between is played
        at once, so every decision on the way is made; back, the processor starts again
        from the first sample and is run up to `t_s` (see the class)."""
        with self._lock:
            end = int(np.searchsorted(self.samples["t_s"], t_s, side="right"))
            if end < self.pos:
                self._rewind()
            self._deliver(end)
            self._clock_t, self._clock_host = t_s, time.monotonic()

    @property
    def start_t(self) -> float:
        """The first sample's time (the start of the timeline)."""
        return float(self.samples["t_s"][0]) if len(self.samples) else 0.0

    @property
    def end_t(self) -> float:
        """The last sample's time (the end of the timeline)."""
        return float(self.samples["t_s"][-1]) if len(self.samples) else 0.0

    def position_t(self) -> float:
        """The time of the last sample delivered (the start, before any)."""
        return float(self.samples["t_s"][self.pos - 1]) if self.pos else self.start_t

    def _rewind(self) -> None:
        """Back to before the first sample: the processor as new, nothing delivered."""
        if self.processor is None:
            raise ValueError("a replay seeks back only once its processor is attached")
        reset_processor(self.processor, self.calibration_, Tracker(self.config, self.band))
        self.pos = 0
        self._k = 0
        self.finished.clear()
        if self.on_rewind is not None:
            self.on_rewind()

    # -- delivery --------------------------------------------------------------------------

    def _deliver(self, end: int) -> None:
        """Hand on samples up to `end`, with the inputs and source events in between."""
        sink = self.sink
        while self.pos < end:
            nxt = self.items[self._k][0] if self._k < len(self.items) else len(self.samples)
            if nxt <= self.pos:
                _, event = self.items[self._k]
                self._k += 1
                if isinstance(event, Input):
                    if self.processor is not None:
                        self.processor.apply(event)
                elif sink is not None:
                    sink.on_event(event)
                continue
            stop = min(end, nxt)
            if sink is not None:
                sink.on_batch(self.samples[self.pos:stop].copy())
            self.pos = stop
        if self.pos >= len(self.samples):
            while self._k < len(self.items):  # what came after the last sample
                _, event = self.items[self._k]
                self._k += 1
                if isinstance(event, Input) and self.processor is not None:
                    self.processor.apply(event)
            self.finished.set()

    def _run(self) -> None:
        t = self.samples["t_s"]
        while not self._stop.wait(self.tick_s):
            with self._lock:
                if self._paused or self.pos >= len(t):
                    continue
                end = int(np.searchsorted(t, self.now_t(), side="right"))
                self._deliver(end)
