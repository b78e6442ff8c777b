"""A simulated therapist's hand and scripted sessions, for a realistic virtual probe.

Figures (docs/domain.md): steady-hold CV about 4 %, physiological tremor 8-12 Hz growing with
force, visual corrections about 1 Hz, reaction about 200 ms, ramps about 5 N/s, and without
feedback an exponential sag of 8-15 % with a time constant of about 6.5 s.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Step:
    """One piece of a script: move the intended force linearly to `to_n` over `duration_s`."""

    duration_s: float
    to_n: float
    button: bool = False  # the patient's button is held during this step


def demo_script(ppt_n: float = 20.0, hold_s: float = 35.0) -> list[Step]:
    """Rest, a 5 N/s threshold ramp with the patient's mark, then a hold at 82 % of PPT."""
    ramp_s = ppt_n / 5.0
    target = 0.82 * ppt_n
    return [
        Step(0.3, 0.0),
        Step(ramp_s, ppt_n),
        Step(0.3, ppt_n, button=True),
        Step(1.5, 0.0),
        Step(3.0, 0.0),
        Step(target / 5.0, target),
        Step(hold_s * 0.4, target),
        Step(1.0, ppt_n * 0.95),  # an excursion above the band
        Step(1.0, target),
        Step(hold_s * 0.6, target),
        Step(2.0, 0.0),
        Step(3.0, 0.0),
    ]


def threshold_ramp_script(ppt_n: float = 20.0, rate_n_per_s: float = 5.0) -> list[Step]:
    """A PPT trial: rest, a steady ramp at 5 N/s to the threshold, the mark, release."""
    return [Step(1.0, 0.0), Step(ppt_n / rate_n_per_s, ppt_n), Step(0.3, ppt_n, button=True),
            Step(1.0, 0.0), Step(3.0, 0.0)]


def hold_with_excursions_script(target_n: float = 16.0, hold_s: float = 60.0) -> list[Step]:
    """A long hold at `target_n` with a brief push above and a dip below every 15 s."""
    steps = [Step(1.0, 0.0), Step(target_n / 5.0, target_n)]
    for _ in range(max(int(hold_s // 15), 1)):
        steps += [Step(11.0, target_n), Step(0.8, target_n * 1.2), Step(0.8, target_n),
                  Step(1.6, target_n), Step(0.4, target_n * 0.8), Step(0.4, target_n)]
    return [*steps, Step(2.0, 0.0), Step(3.0, 0.0)]


def overshoot_script(ppt_n: float = 20.0) -> list[Step]:
    """Aim for 82 % of PPT, overshoot past the threshold, come back into the band."""
    target = 0.82 * ppt_n
    return [Step(1.0, 0.0), Step(target / 6.0, ppt_n * 1.1), Step(0.5, ppt_n * 1.1),
            Step(1.0, target), Step(20.0, target), Step(2.0, 0.0), Step(3.0, 0.0)]


def release_script(target_n: float = 16.0) -> list[Step]:
    """A hold, then the therapist lets go abruptly (release within 200 ms)."""
    return [Step(1.0, 0.0), Step(target_n / 5.0, target_n), Step(15.0, target_n),
            Step(0.2, 0.0), Step(5.0, 0.0)]


SCENARIOS: dict[str, Callable[[], list[Step]]] = {
    "demo": demo_script,
    "ramp": threshold_ramp_script,
    "hold": hold_with_excursions_script,
    "overshoot": overshoot_script,
    "release": release_script,
}
"""Scripted sessions by name, for `tpforce sim --scenario` and for tests."""


class ScriptedIntent:
    """The force the therapist means to apply, and the button, as functions of time (looping)."""

    def __init__(self, steps: list[Step], loop: bool = True) -> None:
        self.steps = steps
        self.loop = loop
        ends = np.cumsum([s.duration_s for s in steps])
        self._ends = ends
        self._starts = np.concatenate(([0.0], ends[:-1]))
        self._from = np.array([0.0] + [s.to_n for s in steps[:-1]])
        self._to = np.array([s.to_n for s in steps])
        self._button = np.array([s.button for s in steps])
        self.period_s = float(ends[-1])

    def at(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Intended force (N) and button state at each time."""
        t = np.mod(t_s, self.period_s) if self.loop else np.minimum(t_s, self.period_s - 1e-9)
        i = np.minimum(np.searchsorted(self._ends, t, side="right"), len(self.steps) - 1)
        dur = self._ends[i] - self._starts[i]
        frac = np.clip((t - self._starts[i]) / np.where(dur > 0, dur, 1.0), 0.0, 1.0)
        return self._from[i] + (self._to[i] - self._from[i]) * frac, self._button[i]


class Hand:
    """Turns an intended force into an applied one: reaction lag, slow wander and tremor."""

    def __init__(
        self,
        seed: int = 0,
        cv: float = 0.035,
        tremor_hz: float = 10.0,
        tremor_frac: float = 0.01,
        correction_tau_s: float = 1.0,
        reaction_tau_s: float = 0.2,
        feedback: bool = True,
        sag_frac: float = 0.12,
        sag_tau_s: float = 6.5,
    ) -> None:
        self._rng = np.random.default_rng(seed)
        self.cv = cv
        self.tremor_hz = tremor_hz
        self.tremor_frac = tremor_frac
        self.correction_tau_s = correction_tau_s
        self.reaction_tau_s = reaction_tau_s
        self.feedback = feedback  # False: the therapist cannot see the force, and it sags
        self.sag_frac = sag_frac
        self.sag_tau_s = sag_tau_s
        self._steady_s = 0.0  # how long the intended force has stayed put
        self._last_target: float | None = None
        self._lagged = 0.0
        self._wander = 0.0
        self._phase = 0.0
        self._last_t: float | None = None

    def apply(self, t_s: np.ndarray, intent_n: np.ndarray) -> np.ndarray:
        """Applied force at each time (N, never negative), continuing the hand's state."""
        out = np.empty(len(t_s))
        last = self._last_t
        for i, (t, target) in enumerate(zip(t_s.tolist(), intent_n.tolist(), strict=True)):
            dt = 0.0 if last is None else max(t - last, 0.0)
            last = t
            a = 1.0 - math.exp(-dt / self.reaction_tau_s) if dt else 1.0
            self._lagged += a * (target - self._lagged)
            # Ornstein-Uhlenbeck wander: the slow error a ~1 Hz visual loop keeps correcting.
            k = math.exp(-dt / self.correction_tau_s)
            self._wander = self._wander * k + self.cv * math.sqrt(1 - k * k) * self._rng.normal()
            self._phase += 2 * math.pi * self.tremor_hz * dt * (1 + 0.1 * self._rng.normal())
            level = self._lagged
            if self._last_target is not None and abs(target - self._last_target) < 1e-9:
                self._steady_s += dt
            else:
                self._steady_s = 0.0
            self._last_target = target
            if not self.feedback:  # unseen, a held force sags exponentially (docs/domain.md)
                level *= 1.0 - self.sag_frac * (1.0 - math.exp(-self._steady_s / self.sag_tau_s))
            tremor = (self.tremor_frac * level + 0.02) * math.sin(self._phase)
            out[i] = max(level * (1 + self._wander) + tremor, 0.0)
        self._last_t = last
        return out


@dataclass(frozen=True, slots=True)
class Seen:
    """What the simulated therapist reads off the screen: the phase, the band, the force
    shown, whether the hold is complete and how many trials this phase has."""

    phase: str = "baseline"
    band: tuple[float, float] | None = None  # (lo_n, hi_n)
    force_n: float = math.nan
    completed: bool = False
    trials: int = 0


class SeeingIntent:
    """A therapist running the whole session by looking at the screen (docs/domain.md).

    Trial phases: rest, ramp at `rate_n_per_s` until the patient's button at the threshold
    (`ppt_n` before, `after_ppt_n` after treatment), release, `trials` times. Treatment:
    press to the centre of the band *on the screen*, then, about once a second (jittered),
    look at the force shown and correct the aim towards the centre after a reaction delay
    of 200-250 ms; release once the hold is complete. The force itself goes through `Hand`
    (its lag, CV ~4 % wander and 8-12 Hz tremor).
    """

    def __init__(self, look: Callable[[], Seen], ppt_n: float = 20.0,
                 after_ppt_n: float = 24.0, rate_n_per_s: float = 5.0, trials: int = 3,
                 seed: int = 0, rest_s: float = 1.5) -> None:
        self.look = look
        self.ppt_n, self.after_ppt_n = ppt_n, after_ppt_n
        self.rate = rate_n_per_s
        self.trials = trials
        self.rest_s = rest_s
        self._rng = np.random.default_rng(seed)
        self._mode = "rest"
        self._since = 0.0
        self._level = 0.0
        self._aim = 0.0
        self._peak = ppt_n
        self._next_look = 0.0
        self._pending: tuple[float, float] | None = None  # (apply at, new aim)
        self._last_t: float | None = None
        self.corrections = 0

    def at(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Intended force (N) and the patient's button at each time, continuing the state."""
        force = np.empty(len(t_s))
        button = np.zeros(len(t_s), dtype=bool)
        seen = self.look()
        for i, t in enumerate(t_s.tolist()):
            dt = 0.0 if self._last_t is None else max(t - self._last_t, 0.0)
            self._last_t = t
            force[i], button[i] = self._step(t, dt, seen)
        return force, button

    def _switch(self, mode: str, t: float) -> None:
        self._mode, self._since = mode, t

    def _step(self, t: float, dt: float, seen: Seen) -> tuple[float, bool]:
        elapsed = t - self._since
        if seen.phase == "treatment":
            return self._treat(t, dt, seen), False
        if self._mode in ("aim", "hold", "let_go"):  # treatment ended: let go, then trials
            self._switch("release", t)
        if self._mode == "rest":
            self._level = max(self._level - 20.0 * dt, 0.0)
            if elapsed >= self.rest_s and seen.trials < self.trials:
                base = self.ppt_n if seen.phase == "baseline" else self.after_ppt_n
                self._peak = base * (1.0 + 0.03 * float(self._rng.normal()))
                self._switch("ramp", t)
        elif self._mode == "ramp":
            self._level = min(self._level + self.rate * dt, self._peak)
            if self._level >= self._peak:
                self._switch("button", t)
        elif self._mode == "button":  # "now": the patient presses while the force eases
            if elapsed >= 0.3:
                self._switch("release", t)
            return self._level, True
        elif self._mode == "release":
            self._level = max(self._level - 20.0 * dt, 0.0)
            if self._level <= 0.0:
                self._switch("rest", t)
        return self._level, False

    def _treat(self, t: float, dt: float, seen: Seen) -> float:
        if seen.band is None or (seen.completed and self._mode != "let_go"):
            if self._mode in ("hold", "aim"):
                self._switch("let_go", t)
            self._level = max(self._level - 20.0 * dt, 0.0)
            return self._level
        if self._mode == "let_go":
            self._level = max(self._level - 20.0 * dt, 0.0)
            return self._level
        centre = 0.5 * (seen.band[0] + seen.band[1])
        if self._mode not in ("aim", "hold"):  # lift off after the last trial, then press in
            if self._level > 0.0:
                self._level = max(self._level - 20.0 * dt, 0.0)
                self._switch("settle", t)
                return self._level
            if t - self._since < 1.0:
                return 0.0
            self._aim = centre
            self._switch("aim", t)
        if self._mode == "aim":  # press in at the ramp rate up to the aim
            self._level = min(self._level + self.rate * dt, self._aim)
            if self._level >= self._aim:
                self._switch("hold", t)
                self._next_look = t + 1.0
            return self._level
        if t >= self._next_look and math.isfinite(seen.force_n):  # a look at the screen
            error = centre - seen.force_n
            reaction = float(self._rng.uniform(0.20, 0.25))
            self._pending = (t + reaction, self._aim + 0.7 * error)
            self._next_look = t + float(self._rng.uniform(0.8, 1.2))  # about 1 Hz
        if self._pending is not None and t >= self._pending[0]:
            self._aim = self._pending[1]
            self._pending = None
            self.corrections += 1
        step = 10.0 * dt  # a correction is a smooth push, not a jump
        self._level += max(-step, min(step, self._aim - self._level))
        return self._level
