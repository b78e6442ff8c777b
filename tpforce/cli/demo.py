"""`tpforce demo`: the whole session on the built-in simulated probe, in the window or as text.

A simulated therapist runs it through the real session: tare at rest, three baseline PPT
trials (the patient's button at the threshold), treatment holding the centre of the band
shown on the screen and correcting about once a second, then the after-trials. `--headless`
prints one plain line per update and events in words; `--json` prints JSON lines instead.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tpforce.cli.argtypes import positive, rate_sps
from tpforce.cli.live import add_window_args, launch_window
from tpforce.cli.wiring import SIM_PORT, Pipeline, open_pipeline, qt_display_problem
from tpforce.core.events import (
    BandChanged,
    Event,
    HoldCompleted,
    HoldEnded,
    HoldScored,
    HoldStarted,
    InputRefused,
    OverThreshold,
    Phase,
    PhaseChanged,
    SignalLost,
    SignalRestored,
    Tared,
    ThresholdMarked,
    ZeroChecked,
    Zone,
)
from tpforce.core.metrics import HoldMetrics
from tpforce.core.processor import Processor
from tpforce.core.tracker import HoldConfig
from tpforce.io.sim.hand import Hand, SeeingIntent, Seen

ZONE_WORDS = {Zone.UNKNOWN: "no signal", Zone.NO_CONTACT: "no contact", Zone.BELOW: "below",
              Zone.IN_BAND: "in band", Zone.ABOVE: "above", Zone.OVER: "OVER"}
TARE_AFTER_S = 0.5  # the simulated therapist tares once the probe has streamed at rest
READ_SUMMARY_S = 3.0  # ... reads the hold's summary for this long before pressing P
UNPLUG_S = 3.0  # after the last after-trial the demo pulls the cable this long (NO SIGNAL)


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(name, help="the whole session on the built-in simulated probe",
                       description=__doc__)
    p.add_argument("--headless", action="store_true", help="print a text readout, no window")
    p.add_argument("--json", action="store_true", help="with --headless: JSON lines")
    p.add_argument("--rate", type=rate_sps, default=80, metavar="SPS", help="samples per second")
    p.add_argument("--speed", type=positive, default=1.0, help="simulated time per real second")
    p.add_argument("--record", type=Path, metavar="FOLDER",
                   help="record the session into FOLDER (a recording `tpforce replay` opens)")
    add_window_args(p)
    p.set_defaults(run=run)


class DemoTherapist:
    """The simulated therapist's keys: tare at rest, then P once the hold is complete.

    A consumer on the pipeline: it presses keys as `Processor` inputs, like the window does.
    """

    def __init__(self) -> None:
        self.processor: Processor | None = None
        self.unplug: Callable[[float], None] | None = None  # pulls the simulated cable
        self._tared = False
        self._first_t: float | None = None
        self._after_at: float | None = None
        self._unplug_at: float | None = None

    def on_batch(self, batch: np.ndarray) -> None:
        """Tare once TARE_AFTER_S of samples at rest have arrived; P after the summary."""
        if self.processor is None or len(batch) == 0:
            return
        t = float(batch["t_s"][-1])
        self._first_t = t if self._first_t is None else self._first_t
        if not self._tared and t - self._first_t >= TARE_AFTER_S:
            self._tared = True
            self.processor.tare()
        if self._after_at is not None and t >= self._after_at:
            self._after_at = None
            self.processor.set_phase(Phase.AFTER)
        if self._unplug_at is not None and t >= self._unplug_at:
            self._unplug_at = None
            if self.unplug is not None:
                self.unplug(UNPLUG_S)

    def on_event(self, event: Event) -> None:
        """A complete hold has ended: read the summary, then move on to the after-trials;
        the last after-trial: the cable is pulled once, to show NO SIGNAL."""
        if self.processor is None:
            return
        if (isinstance(event, HoldEnded) and event.completed
                and self.processor.state.phase == Phase.TREATMENT.value):
            self._after_at = event.t_s + READ_SUMMARY_S
        elif (isinstance(event, ThresholdMarked) and event.phase == "after"
              and len(self.processor.session.current.trials_after_n)
              >= self.processor.tracker.config.trials):
            self._unplug_at = event.t_s + 4.0

    def close(self) -> None:
        """Nothing to release."""


def screen_view(processor: Processor) -> Seen:
    """What the screen shows the simulated therapist, from the tracker's snapshot."""
    state = processor.state
    band = (state.band.lo_n, state.band.hi_n) if state.band is not None else None
    return Seen(state.phase, band, state.force_n, state.completed, len(state.trials_n))


def demo_pipeline(rate: int, speed: float, target_s: float,
                  record: Path | None = None) -> Pipeline:
    """The simulated probe driven by a therapist who looks at this pipeline's screen."""
    holder: list[Processor] = []
    therapist = DemoTherapist()

    def look() -> Seen:
        return screen_view(holder[0]) if holder else Seen()

    intent = SeeingIntent(look)
    hand = Hand(cv=0.03, tremor_hz=10.0, reaction_tau_s=0.22, correction_tau_s=1.0)
    pipeline = open_pipeline(SIM_PORT, sim_options={"rate_sps": rate, "speed": speed,
                                                    "intent": intent, "hand": hand},
                             hold=HoldConfig(target_s=target_s), extras=[therapist],
                             record=record)
    holder.append(pipeline.processor)
    therapist.processor = pipeline.processor
    probe = pipeline.owned[0] if pipeline.owned else None
    if probe is not None and hasattr(probe, "unplug"):
        therapist.unplug = lambda for_s: probe.unplug(for_s=for_s, reset=False)
    return pipeline


def run(args: argparse.Namespace) -> int:
    """Start the simulated session and show it."""
    if not args.headless:
        problem = qt_display_problem()
        if problem:
            print(f"tpforce demo: {problem}", file=sys.stderr)
            return 2
    with demo_pipeline(args.rate, args.speed, args.target or 30.0, args.record) as pipeline:
        if args.headless:
            return _headless(pipeline, args.duration, args.json)
        return launch_window(pipeline, args, "tpforce demo - simulated probe")


def _n(value: float) -> str:
    return f"{value:.1f} N" if math.isfinite(value) else "--"


def event_words(event: Event, processor: Processor) -> str:
    """An event in plain words ('' for those a reader need not see)."""
    trials = processor.tracker.config.trials
    if isinstance(event, Tared):
        return "tared: zero taken" + (" (anyway)" if event.anyway else "")
    if isinstance(event, ThresholdMarked):
        if event.phase == "step":
            return f"pressure step: threshold now {_n(event.ppt_n)}"
        which, number = "trial", event.trial
        if event.phase == "after":  # numbered among the after-trials, not all marks
            before = len(processor.session.current.trials_before_n)
            which, number = "after-trial", max(1, event.trial - before)
        ramp = f", ramp {event.ramp_n_per_s:.1f} N/s" if math.isfinite(event.ramp_n_per_s) \
            else ""
        return f"threshold marked: {_n(event.ppt_n)} ({which} {number} of {trials}{ramp})"
    if isinstance(event, PhaseChanged):
        return f"phase: {event.phase.value}" + (" (all trials done)" if event.auto else "")
    if isinstance(event, BandChanged):
        return f"band {event.lo_n:.1f}-{event.hi_n:.1f} N (PPT {_n(event.ppt_n)})"
    if isinstance(event, HoldStarted):
        return f"hold {event.index} started" + (" by hand" if event.manual else "")
    if isinstance(event, HoldCompleted):
        return f"hold {event.index} complete: {event.in_band_s:.0f} s in band"
    if isinstance(event, HoldEnded):
        return f"hold {event.index} ended ({event.reason.name.lower().replace('_', ' ')})"
    if isinstance(event, HoldScored) and isinstance(event.metrics, HoldMetrics):
        from tpforce.ui.guide import hold_summary

        return hold_summary(event.metrics)
    if isinstance(event, OverThreshold):
        return "" if event.silent else f"OVER THRESHOLD: {_n(event.force_n)} " \
                                       f"(PPT {_n(event.ppt_n)})"
    if isinstance(event, InputRefused):
        return f"refused: {event.reason}"
    if isinstance(event, SignalLost):
        return "NO SIGNAL"
    if isinstance(event, SignalRestored):
        return f"signal back after {event.gap_s:.1f} s"
    if isinstance(event, ZeroChecked):
        return (f"ZERO DRIFTED: {event.message}" if event.exceeded
                else f"zero checked after hold {event.index}: {event.message}"
                if event.checked else event.message)
    return ""


def update_fields(pipeline: Pipeline) -> dict[str, Any] | None:
    """The latest reading as plain fields (None while no sample has come)."""
    data = pipeline.ring.latest(1)
    if len(data) == 0:
        return None
    state = pipeline.processor.state
    band = state.band
    return {
        "t_s": round(float(data["t_s"][0]), 2),
        "force_n": round(state.force_n, 1) + 0.0 if math.isfinite(state.force_n) else None,
        "zone": ZONE_WORDS[state.zone],
        "phase": state.phase,
        "band_n": [round(band.lo_n, 1), round(band.hi_n, 1)] if band else None,
        "hold_s": round(state.in_band_s, 1) if state.hold_active else None,
        "target_s": state.target_s,
    }


def _line(f: dict[str, Any]) -> str:
    force = f"{f['force_n']:5.1f} N" if f["force_n"] is not None else "   -- N"
    band = f"band {f['band_n'][0]:.1f}-{f['band_n'][1]:.1f} N" if f["band_n"] else "no band"
    hold = f"hold {f['hold_s']:.0f}/{f['target_s']:.0f} s" if f["hold_s"] is not None \
        else "no hold"
    return f"{f['t_s']:7.1f} s  {force}  {f['zone']:<10}  {f['phase']:<9}  {band:<17}  {hold}"


def _headless(pipeline: Pipeline, duration_s: float | None, as_json: bool) -> int:
    """Print about five updates a second until the duration ends or Ctrl-C."""
    start = time.monotonic()
    last_count = -1

    def say(obj: dict[str, Any], text: str) -> None:
        print(json.dumps(obj) if as_json else text, flush=True)

    try:
        while duration_s is None or time.monotonic() - start < duration_s:
            time.sleep(0.2)
            for event in pipeline.events.drain():
                words = event_words(event, pipeline.processor)
                if words:
                    say({"event": type(event).__name__, "t_s": round(event.t_s, 2),
                         "text": words}, f"  · {words}")
            fields = update_fields(pipeline)
            if fields is None or pipeline.ring.count == last_count:
                say({"signal": False}, "  NO SIGNAL")
                continue
            last_count = pipeline.ring.count
            say(fields, _line(fields))
    except KeyboardInterrupt:
        pass
    return 0
