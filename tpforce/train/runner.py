"""The drill runner: a pipeline consumer that keeps the drill's timeline, decides what the
trainee is shown at each moment, scores each trial as it ends, and logs the trainee's asks.

Times are the device's sample times from the drill's first sample, so the countdown, the
scores and the simulated trainee agree however busy the computer is. The window and the
simulated trainee read `display` (a snapshot); `ask()` is the trainee's key.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tpforce.core.events import Disconnected, Event
from tpforce.core.samples import SampleFlag
from tpforce.train.drill import LEAD_S, Drill
from tpforce.train.schedule import (
    PRACTICE,
    RETENTION,
    Plan,
    Slot,
    make_plan,
    tolerance_n,
    visible_now,
)
from tpforce.train.scores import score_hold, score_ramp, summarise


@dataclass(frozen=True, slots=True)
class Result:
    """Knowledge of results for one finished trial: its trace against the band, its scores."""

    slot: Slot
    t_s: np.ndarray  # from the go cue
    force_n: np.ndarray
    band: tuple[float, float]
    target_n: float
    scores: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Display:
    """What the trainee may see now. `visible` False: no number, no trace, no colour, no tone."""

    phase: str  # "wait", "ppt", "rest", "go", "done", "failed"
    t_s: float
    slot: Slot | None = None
    visible: bool = False
    force_n: float | None = None  # None unless visible
    target_n: float | None = None
    band: tuple[float, float] | None = None
    guide_n: float | None = None  # ramp drills: where the force should be now
    countdown_s: float | None = None  # rest: seconds to the go cue
    result: Result | None = None  # shown during the rest after a practice trial
    message: str = ""
    in_band_s: float = 0.0  # time in the band since this trial's go cue


@dataclass
class _Trace:
    t: list[np.ndarray] = field(default_factory=list)
    f: list[np.ndarray] = field(default_factory=list)
    seen: list[np.ndarray] = field(default_factory=list)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.t:
            e = np.zeros(0)
            return e, e, e
        t, f, s = np.concatenate(self.t), np.concatenate(self.f), np.concatenate(self.seen)
        self.t, self.f, self.seen = [t], [f], [s]
        return t, f, s


class DrillRun:
    """One run of a drill's blocks on a live pipeline (add it to the processor's consumers)."""

    def __init__(self, drill: Drill, blocks: tuple[str, ...] = (PRACTICE, RETENTION),
                 surface: str = "pad") -> None:
        self.drill = drill
        self.blocks = blocks
        self.surface = surface
        self.ppt_n: float | None = None
        self.target_n: float | None = None
        self.band: tuple[float, float] | None = None
        self.plan: Plan | None = None
        self.t0: float | None = None  # device time of the drill's first sample
        self.results: list[Result] = []
        self.asks: list[dict[str, Any]] = []
        self._ask_times: list[float] = []
        self.error = ""
        self.done = threading.Event()
        self._cond = threading.Condition()
        self._trace = _Trace()
        self._now = -math.inf
        self._scored = 0
        self._in_band: dict[int, float] = {}
        self._last_r: float | None = None
        self.display = Display("wait", 0.0, message="waiting for the probe")
        if not drill.needs_ppt:
            self._set_target(None)

    # -- what the outside calls ---------------------------------------------------------

    def _set_target(self, ppt_n: float | None) -> None:
        self.ppt_n = ppt_n
        self.target_n = self.drill.target_for(ppt_n)
        self.band = self.drill.band_for(self.target_n)
        self.plan = make_plan(self.drill, self.target_n, self.blocks)

    def ask(self) -> bool:
        """The trainee asks for feedback (self-controlled); logged. False when not in a trial."""
        with self._cond:
            slot = self.plan.slot_at(self._now) if self.plan is not None else None
            if slot is None or self._now < slot.go_s:
                return False
            self.asks.append({"block": slot.block, "trial": slot.number,
                              "t_s": round(self._now - slot.go_s, 3)})
            self._ask_times.append(self._now)
            return True

    def wait_seen(self, t_rel_s: float, timeout_s: float) -> None:
        """Block until samples up to `t_rel_s` (drill time) have been seen, or timeout."""
        with self._cond:
            self._cond.wait_for(lambda: self._now >= t_rel_s or self.done.is_set(), timeout_s)

    def seen_at(self, t_rel_s: float) -> float | None:
        """The force the trainee was shown at drill time `t_rel_s` (None: nothing shown)."""
        with self._cond:
            t, _, seen = self._trace.arrays()
        if t.size == 0 or t_rel_s < t[0] or t_rel_s > t[-1] + 0.05:
            return None  # not seen yet: nothing to judge by
        i = min(int(np.searchsorted(t, t_rel_s, side="right")) - 1, t.size - 1)
        v = float(seen[i])
        return None if math.isnan(v) else v

    def guide_at(self, slot: Slot, t_rel_s: float) -> float | None:
        """Ramp drills: the force the target rate reaches by `t_rel_s` (capped at target)."""
        if self.drill.kind != "ramp" or self.target_n is None:
            return None
        lead = 1.0
        return float(np.clip((t_rel_s - slot.go_s - lead) * self.drill.ramp_n_per_s, 0.0,
                             self.target_n))

    # -- consumer -----------------------------------------------------------------------

    def on_batch(self, batch: np.ndarray) -> None:
        """Take samples: advance the timeline, decide visibility, score finished trials."""
        if batch.size == 0 or self.done.is_set():
            return
        if self.t0 is None:
            self.t0 = float(batch["t_s"][0])
        r = batch["t_s"] - self.t0
        f = batch["force_n"].astype(np.float64)
        seen = np.full(r.size, np.nan)
        drill = self.drill
        for i in range(r.size):
            now = float(r[i])
            if self.plan is None:
                self._ppt_step(now, float(f[i]), bool(batch["flags"][i] & SampleFlag.BUTTON))
                continue
            slot = self.plan.slot_at(now)
            target = self.target_n or 0.0
            guide = self.guide_at(slot, now) if slot is not None else None
            if visible_now(slot, now, float(f[i]), drill, target, self._ask_times, guide):
                seen[i] = f[i]
            if slot is not None and now >= slot.go_s and self.band is not None \
                    and self._last_r is not None \
                    and self.band[0] <= f[i] <= self.band[1]:
                self._in_band[slot.index] = self._in_band.get(slot.index, 0.0) \
                    + now - self._last_r
            self._last_r = now
        with self._cond:
            self._trace.t.append(r.astype(np.float64))
            self._trace.f.append(f)
            self._trace.seen.append(seen)
            self._now = float(r[-1])
            self._cond.notify_all()
        self._advance(float(r[-1]), float(f[-1]), bool(np.isfinite(seen[-1])))

    def _ppt_step(self, now: float, force: float, button: bool) -> None:
        d = self.display
        if button and self.plan is None and math.isfinite(force) and force > 1.0:
            self._set_target(force)
            return
        if now > 1.0 + 14.0:
            self.error = ("no threshold mark in the PPT measurement: the partner presses the "
                          "button when the pressure turns to pain; run the drill again")
            self.display = Display("failed", now, message=self.error)
            self.done.set()
            with self._cond:
                self._cond.notify_all()
            return
        if d.phase in ("wait", "ppt"):
            self.display = Display("ppt", now, message="measure the partner's threshold: ramp "
                                   f"at {self.drill.ramp_n_per_s:g} N/s until they press")

    def _advance(self, now: float, force: float, visible: bool) -> None:
        plan = self.plan
        if plan is None:
            return
        while self._scored < len(plan.slots) and now >= plan.slots[self._scored].end_s:
            self._score(plan.slots[self._scored])
            self._scored += 1
        if now >= plan.end_s:
            self.display = Display("done", now, message="drill finished",
                                   result=self.results[-1] if self.results else None)
            self.done.set()
            with self._cond:
                self._cond.notify_all()
            return
        slot = plan.slot_at(now)
        if slot is None:
            return
        last = self.results[-1] if self.results else None
        show_result = last is not None and last.slot.block == PRACTICE and now < slot.go_s
        band = self.band if visible else None
        guide = self.guide_at(slot, now)
        if guide is not None and visible:
            tol = self.drill.band_pct / 100.0
            band = (guide * (1 - tol), guide * (1 + tol))
        self.display = Display(
            "rest" if now < slot.go_s else "go", now, slot, visible,
            force if visible else None, self.target_n, band, guide if visible else None,
            max(slot.go_s - now, 0.0) if now < slot.go_s else None,
            last if show_result else None,
            f"{slot.block} trial {slot.number}" + ("" if slot.feedback else " (blind)"),
            self._in_band.get(slot.index, 0.0))

    def _score(self, slot: Slot) -> None:
        assert self.target_n is not None and self.band is not None
        with self._cond:
            t, f, _ = self._trace.arrays()
        m = (t >= slot.go_s) & (t < slot.end_s)
        drill = self.drill
        if drill.kind == "ramp":
            scores = score_ramp(t[m], f[m], slot.go_s, slot.end_s, drill.ramp_n_per_s,
                                drill.band_pct)
        else:
            start = slot.go_s + LEAD_S
            scores = score_hold(t[m], f[m], slot.go_s, (start, slot.end_s), self.target_n,
                                self.band)
        self.results.append(Result(slot, t[m] - slot.go_s, f[m], self.band, self.target_n,
                                   scores))

    def on_event(self, event: Event) -> None:
        """A lost probe ends the drill: the trials scored so far are kept, the rest are not
        faked. Other source events are the pipeline's business."""
        if isinstance(event, Disconnected) and not self.done.is_set():
            self.error = f"the probe was disconnected ({event.reason}): the trials so far are kept"
            self.display = Display("failed", self._now, message=self.error)
            self.done.set()
            with self._cond:
                self._cond.notify_all()

    def close(self) -> None:
        """Wake anyone waiting on the drill."""
        with self._cond:
            self._cond.notify_all()

    # -- the outcome --------------------------------------------------------------------

    def outcome(self) -> dict[str, Any]:
        """Scores per trial, summary per block and for the session, asks, as plain data."""
        blocks: dict[str, list[dict[str, Any]]] = {}
        trials = []
        for res in self.results:
            s = res.slot
            row = {"block": s.block, "trial": s.number, "feedback": s.schedule,
                   **res.scores}
            trials.append(row)
            blocks.setdefault(s.block, []).append(res.scores)
        return {
            "drill": self.drill.name, "title": self.drill.title, "kind": self.drill.kind,
            "schedule": self.drill.feedback.schedule, "surface": self.surface,
            "ppt_n": None if self.ppt_n is None else round(self.ppt_n, 3),
            "target_n": None if self.target_n is None else round(self.target_n, 3),
            "band_n": None if self.band is None else [round(b, 3) for b in self.band],
            "trials": trials,
            "blocks": {name: summarise(rows) for name, rows in blocks.items()},
            "session": summarise([r.scores for r in self.results]),
            "asks": list(self.asks),
            "complete": self.done.is_set() and not self.error
                        and len(self.results) == len(self.plan.slots if self.plan else ()),
            "error": self.error or None,
        }


__all__ = ["RETENTION", "Display", "DrillRun", "Result", "tolerance_n"]
