"""A simulated trainee: a hand at a skill level that closes the loop on what it is shown.

It plays both the intent and the hand of a `SimProbe`. Each ~1 s (the visual correction
loop) it looks at the force the drill showed it a reaction time ago and corrects toward the
band centre; shown nothing, it holds what it last judged right and the force sags
exponentially (docs/domain.md "The human hand": CV about 4 %, tremor 8-12 Hz, corrections
about 1 Hz, reaction 200-250 ms, unseen sag 8-15 % with tau about 6.5 s). The skill levels
spread these figures: the expert at the steady end, the novice with a larger open-loop
misjudgement of force, a slower and weaker correction, more tremor and more sag. Those
spreads are product choices for rehearsal, not measurements of trainees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from tpforce.io.sim.hand import Hand


@dataclass(frozen=True, slots=True)
class Skill:
    """One skill level's figures."""

    cv: float  # steady-hold wander (fraction of force)
    tremor_frac: float  # tremor amplitude (fraction of force)
    correction_s: float  # period of the visual correction loop
    gain: float  # share of the seen error corrected per look
    reaction_s: float  # visual reaction time
    misjudge_frac: float  # typical open-loop force misjudgement (fraction), per trial
    sag_frac: float  # unseen force sags by this share ...
    sag_tau_s: float  # ... with this time constant
    rate_misjudge_frac: float  # ramps: typical open-loop rate error (fraction), per trial
    rate_jitter_frac: float  # ramps: unsteadiness of the rate
    ask_every_s: float  # self-controlled: asks about this often during a trial


SKILLS: dict[str, Skill] = {
    "novice": Skill(cv=0.07, tremor_frac=0.02, correction_s=1.3, gain=0.5, reaction_s=0.25,
                    misjudge_frac=0.3, sag_frac=0.15, sag_tau_s=6.5,
                    rate_misjudge_frac=0.35, rate_jitter_frac=0.35, ask_every_s=4.0),
    "trained": Skill(cv=0.04, tremor_frac=0.01, correction_s=1.0, gain=0.65, reaction_s=0.22,
                     misjudge_frac=0.12, sag_frac=0.12, sag_tau_s=6.5,
                     rate_misjudge_frac=0.15, rate_jitter_frac=0.18, ask_every_s=7.0),
    "expert": Skill(cv=0.025, tremor_frac=0.008, correction_s=0.9, gain=0.8, reaction_s=0.2,
                    misjudge_frac=0.05, sag_frac=0.08, sag_tau_s=6.5,
                    rate_misjudge_frac=0.05, rate_jitter_frac=0.08, ask_every_s=12.0),
}
LEVELS = tuple(SKILLS)
APPROACH_N_PER_S = 8.0
"""How fast the trainee brings the force up to a hold."""


class SlotLike(Protocol):
    """A trial on the drill's timeline (tpforce.train.schedule.Slot)."""

    index: int
    go_s: float
    end_s: float


class DrillView(Protocol):
    """What the trainee can know of the drill: the timeline, the target and what is shown."""

    t0: float | None
    target_n: float | None
    plan: Any  # tpforce.train.schedule.Plan once the target is known, else None

    def wait_seen(self, t_rel_s: float, timeout_s: float) -> None: ...
    def seen_at(self, t_rel_s: float) -> float | None: ...
    def guide_at(self, slot: Any, t_rel_s: float) -> float | None: ...
    def ask(self) -> bool: ...


class SimTrainee:
    """Intent and hand for `SimProbe(intent=t, hand=t)`, driven by a drill run's display."""

    def __init__(self, run: DrillView, level: str = "trained", *, kind: str = "hold",
                 ramp_n_per_s: float = 5.0, partner_ppt_n: float = 25.0, seed: int = 0,
                 self_controlled: bool = False, lockstep_timeout_s: float = 2.0) -> None:
        if level not in SKILLS:
            raise ValueError(f"unknown skill level {level!r}: choose {', '.join(LEVELS)}")
        self.run = run
        self.level = level
        self.skill = s = SKILLS[level]
        self.kind = kind
        self.ramp_n_per_s = ramp_n_per_s
        self.partner_ppt_n = partner_ppt_n
        self.self_controlled = self_controlled
        self.timeout_s = lockstep_timeout_s
        self.hand = Hand(seed=seed, cv=s.cv, tremor_frac=s.tremor_frac,
                         correction_tau_s=1.0, reaction_tau_s=0.2, feedback=True)
        self._rng = np.random.default_rng(seed + 11)
        self._slot: int | None = None
        self._applied = 0.0
        self._pressed_at: float | None = None
        self._reset_trial(0.0)

    def _reset_trial(self, go_s: float) -> None:
        s = self.skill
        # Open-loop misjudgement: its size is the level's, its direction varies by trial.
        sign = 1.0 if self._rng.random() < 0.5 else -1.0
        self._bias = sign * s.misjudge_frac * (0.7 + 0.6 * float(self._rng.random()))
        sign = 1.0 if self._rng.random() < 0.5 else -1.0
        self._rate_bias = sign * s.rate_misjudge_frac * (0.7 + 0.6 * float(self._rng.random()))
        self._corr = 0.0
        self._next_look = go_s + s.reaction_s
        self._next_ask = go_s + 0.5
        self._seen_since = go_s  # last moment it saw the force (sag starts from there)
        self._ramp_pos = 0.0
        self._jitter = 0.0
        self._released_at: float | None = None
        self._last_r: float | None = None

    # -- SimProbe's intent --------------------------------------------------------------

    def at(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Intended force and the partner's button at each device time."""
        n = len(t_s)
        out, button = np.zeros(n), np.zeros(n, dtype=bool)
        run = self.run
        if run.t0 is None or n == 0:
            return out, button
        r = np.asarray(t_s, dtype=np.float64) - run.t0
        # Lockstep: wait until the drill has seen what this hand was shown a reaction time
        # ago, but never for samples not sent yet (those of this very batch).
        step = float(r[1] - r[0]) if n > 1 else 0.0125
        run.wait_seen(min(float(r[-1]) - self.skill.reaction_s, float(r[0]) - 1.5 * step),
                      self.timeout_s)
        for i, now in enumerate(r.tolist()):
            out[i], button[i] = self._step(now)
        return out, button

    def _step(self, now: float) -> tuple[float, bool]:
        run, s = self.run, self.skill
        plan = run.plan
        if plan is None:  # the PPT measurement: ramp until the partner presses, then let go
            if self._pressed_at is None and self._applied >= self.partner_ppt_n:
                self._pressed_at = now
            ramp = max(now - 1.0, 0.0) * self.ramp_n_per_s
            if self._pressed_at is not None:  # it lets go a reaction time after the press
                pressed = now - self._pressed_at
                held = (self._pressed_at - 1.0) * self.ramp_n_per_s
                return (held if pressed < s.reaction_s else 0.0), pressed < 0.3
            return ramp, False
        slot = plan.slot_at(now)
        if slot is None or now < slot.go_s:
            return 0.0, False
        if slot.index != self._slot:
            self._slot = slot.index
            self._reset_trial(slot.go_s)
        target = run.target_n or 0.0
        if self.self_controlled and now >= self._next_ask:
            run.ask()
            self._next_ask = now + s.ask_every_s * (0.7 + 0.6 * self._rng.random())
        if self.kind == "ramp":
            return self._ramp(slot, now, target), False
        return self._hold(slot, now, target), False

    def _look(self, now: float, want: float) -> None:
        """Every correction period: correct toward `want` if the force was shown."""
        s = self.skill
        if now < self._next_look:
            return
        self._next_look = now + s.correction_s * (0.8 + 0.4 * self._rng.random())
        seen = self.run.seen_at(now - s.reaction_s)
        if seen is not None:
            self._corr = float(np.clip(self._corr + s.gain * (want - seen), -want, want))
            self._seen_since = now

    def _sag(self, now: float) -> float:
        unseen = max(now - self._seen_since, 0.0)
        return 1.0 - self.skill.sag_frac * (1.0 - math.exp(-unseen / self.skill.sag_tau_s))

    def _hold(self, slot: SlotLike, now: float, target: float) -> float:
        s = self.skill
        rise = max(now - slot.go_s - s.reaction_s, 0.0) * APPROACH_N_PER_S
        aim = target * (1.0 + self._bias)
        if rise < aim:  # still bringing the force up: no correcting, no sag yet
            self._seen_since = now
            self._next_look = now + s.reaction_s + 0.3
            return rise
        self._look(now, target)
        return max((aim + self._corr) * self._sag(now), 0.0)

    def _ramp(self, slot: SlotLike, now: float, target: float) -> float:
        s = self.skill
        start = slot.go_s + 1.0
        dt = 0.0 if self._last_r is None else max(now - self._last_r, 0.0)
        self._last_r = now
        if now < start:
            return 0.0
        if self._released_at is not None:
            return 0.0
        k = math.exp(-dt / 0.5) if dt else 1.0
        self._jitter = self._jitter * k + s.rate_jitter_frac * math.sqrt(1 - k * k) \
            * float(self._rng.normal())
        rate = self.ramp_n_per_s * (1.0 + self._rate_bias) * max(1.0 + self._jitter, 0.1)
        guide = self.run.guide_at(slot, now - s.reaction_s)
        if now >= self._next_look and guide is not None:
            seen = self.run.seen_at(now - s.reaction_s)
            self._next_look = now + s.correction_s * 0.5  # ramps are watched more closely
            if seen is not None:
                self._corr += s.gain * 0.5 * (guide - seen)
        self._ramp_pos += rate * dt
        level = max(self._ramp_pos + self._corr, 0.0)
        if level >= target:
            self._released_at = now
        return level

    # -- SimProbe's hand ----------------------------------------------------------------

    def apply(self, t_s: np.ndarray, intent_n: np.ndarray) -> np.ndarray:
        """The applied force: the level's hand (lag, wander, tremor) on the intent."""
        out = self.hand.apply(t_s, intent_n)
        if out.size:
            self._applied = float(out[-1])
        return out
