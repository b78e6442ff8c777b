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
