"""A scripted treatment session on the simulated hand, run through the live Processor: the
same samples, inputs and decisions a real session gives, for showing and timing reports.

Each point: three threshold trials with the patient's button (5 N/s ramps), a compression at
82 % of PPT with one pressure step (and, if asked, a brief push over the threshold), then the
phase key and three after-trials.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tpforce.core.calibration import Calibration
from tpforce.core.consumer import Consumer
from tpforce.core.processor import Processor
from tpforce.core.samples import SampleFlag, empty_batch
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.io.sim.hand import Hand, ScriptedIntent, Step
from tpforce.report.live import SessionKeeper
from tpforce.report.session import SessionData

SPS = 80
N_PER_COUNT = 0.001
CALIBRATION = Calibration(0.0, N_PER_COUNT, serial="TPF-0042")


@dataclass(frozen=True)
class ScriptPoint:
    """One point of the script: where, the PPT before and after, the hold, an overshoot."""

    site: str
    side: str
    ppt_n: float
    after_n: float
    hold_s: float = 40.0
    overshoot: bool = False


DEFAULT_POINTS = (ScriptPoint("upper trapezius", "R", 20.0, 28.0, 40.0, overshoot=True),
                  ScriptPoint("levator scapulae", "L", 30.0, 31.0, 40.0))


def _trial(ppt_n: float) -> list[Step]:
    return [Step(1.0, 0.0), Step(ppt_n / 5.0, ppt_n), Step(0.6, ppt_n),
            Step(0.2, ppt_n, button=True), Step(0.8, 0.0), Step(2.0, 0.0)]


def _treatment(p: ScriptPoint) -> list[Step]:
    target, barrier = 0.82 * p.ppt_n, 1.05 * p.ppt_n
    steps = [Step(1.0, 0.0), Step(target / 5.0, target), Step(p.hold_s / 2, target)]
    if p.overshoot:  # a slip over the threshold, corrected
        steps += [Step(0.4, 1.2 * p.ppt_n), Step(0.8, 1.2 * p.ppt_n), Step(0.6, target),
                  Step(3.0, target)]
    steps += [Step(2.0, barrier), Step(0.6, barrier), Step(0.2, barrier, button=True),
              Step(1.0, 0.82 * barrier), Step(p.hold_s / 2, 0.82 * barrier), Step(0.8, 0.0),
              Step(2.0, 0.0)]
    return steps


def context(pseudonym: str = "P-0107", date: str = "2026-03-02T09:30:00") -> dict[str, Any]:
    """A session's context as the window would give it."""
    return {"pseudonym": pseudonym, "operator": "therapist A", "date": date,
            "probe_serial": CALIBRATION.serial,
            "calibration": {"record": f"calibration/records/{CALIBRATION.serial}.json",
                            "date": "2026-02-20T14:05:00Z", "n_per_count": N_PER_COUNT,
                            "zero_counts": 0.0, "tip_area_cm2": 1.0},
            "settings": {"band": "below_threshold (75-90 % of PPT)", "target_s": 30,
                         "mode": "cumulative", "grace_s": 1.0, "rate_sps": SPS}}


def run_session(points: tuple[ScriptPoint, ...] = DEFAULT_POINTS, seed: int = 1,
                consumers: list[Consumer] | None = None,
                ctx: dict[str, Any] | None = None) -> SessionData:
    """Run the script through a Processor (inputs at the times a therapist gives them) and
    return the session; `consumers` (a Recorder) see it too."""
    return run_script(points, seed, consumers, ctx)[0]


Command = tuple[float, Callable[[Processor], object]]
"""A therapist's key at a time on the sample timeline (seconds), as a Processor call."""


def script(points: tuple[ScriptPoint, ...] = DEFAULT_POINTS, lead_s: float = 0.0
           ) -> tuple[list[Step], list[Command]]:
    """The hand's steps and the therapist's keys (next point, then the after phase) of the
    session; `lead_s` of rest first (a probe streams a little after it starts)."""
    steps: list[Step] = [Step(lead_s, 0.0)] if lead_s > 0 else []
    commands: list[Command] = []

    def go_to(p: ScriptPoint) -> Callable[[Processor], object]:
        return lambda proc: proc.next_point(p.site, p.side)

    for p in points:
        start = sum(s.duration_s for s in steps)
        commands.append((start + 0.5, go_to(p)))
        steps += _trial(p.ppt_n) * 3 + _treatment(p)
        commands.append((sum(s.duration_s for s in steps) - 1.0,
                         lambda proc: proc.set_phase("after")))
        steps += _trial(p.after_n) * 3
    return steps, sorted(commands, key=lambda c: c[0])


class ScriptedTherapist:
    """A consumer that presses the script's keys when the samples reach their times, as the
    window's keys would (set `processor` once the pipeline runs)."""

    def __init__(self, commands: list[Command]) -> None:
        self.processor: Processor | None = None
        self.pending = sorted(commands, key=lambda c: c[0])
        self.t_s = -math.inf  # the last sample's time seen

    def on_batch(self, batch: np.ndarray) -> None:
        """Give every key whose time the batch reached."""
        if len(batch) == 0:
            return
        self.t_s = float(batch["t_s"][-1])
        while self.processor is not None and self.pending and self.pending[0][0] <= self.t_s:
            self.pending.pop(0)[1](self.processor)

    def on_event(self, event: object) -> None:
        """The script does not listen."""

    def close(self) -> None:
        """Nothing to release."""


def run_script(points: tuple[ScriptPoint, ...] = DEFAULT_POINTS, seed: int = 1,
               consumers: list[Consumer] | None = None,
               ctx: dict[str, Any] | None = None) -> tuple[SessionData, Processor]:
    """`run_session`, with the closed Processor (its `session` is the live session model)."""
    steps, commands = script(points)
    intent = ScriptedIntent(steps, loop=False)
    t = np.arange(0.0, intent.period_s, 1.0 / SPS)
    want, button = intent.at(t)
    force = hand(seed).apply(t, want)
    raw = empty_batch(len(t))
    raw["t_s"] = t
    raw["t_host_s"] = t
    raw["seq"] = np.arange(len(t))
    raw["raw"] = np.rint(force / N_PER_COUNT).astype(np.int32)
    raw["flags"] = np.where(button, SampleFlag.BUTTON, 0).astype(np.uint16)
    keep = SessionKeeper()
    proc = Processor(CALIBRATION, Tracker(HoldConfig()), [keep, *(consumers or [])])
    pending = list(commands)
    pos, chunk = 0, SPS // 10
    while pos < len(raw):
        proc.on_batch(raw[pos:pos + chunk].copy())
        pos += chunk
        while pending and pending[0][0] <= proc.state.t_s:
            pending.pop(0)[1](proc)
    proc.close()
    return keep.session(ctx if ctx is not None else context()), proc


def hand(seed: int = 1) -> Hand:
    """The script's steady hand (1 % CV, a little tremor)."""
    return Hand(seed=seed, cv=0.01, tremor_frac=0.004)


def session_minutes(minutes: float, hold_s: float = 90.0) -> tuple[ScriptPoint, ...]:
    """Enough points, alternating sites and sides, for a session of about `minutes`."""
    sites = ("upper trapezius", "levator scapulae", "infraspinatus", "rhomboids")
    out: list[ScriptPoint] = []
    total = 0.0
    while total < minutes * 60.0:
        k = len(out)
        p = ScriptPoint(sites[k % len(sites)], "LR"[k % 2], 20.0 + 2 * (k % 5),
                        23.0 + 2 * (k % 5), hold_s, overshoot=k % 3 == 0)
        total += sum(s.duration_s for s in _trial(p.ppt_n) * 3 + _treatment(p)
                     + _trial(p.after_n) * 3)
        out.append(p)
    return tuple(out)


def today() -> str:
    """Now, as an ISO date-time to the second (a context's `date`)."""
    return dt.datetime.now().replace(microsecond=0).isoformat()
