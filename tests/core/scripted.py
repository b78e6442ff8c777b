"""A scripted session on the simulated hand: traces with button marks, for the core tests."""

from __future__ import annotations

import numpy as np

from tpforce.core.samples import SampleFlag, batch_from_force
from tpforce.io.sim.hand import Hand, ScriptedIntent, Step

SPS = 80


def trial(ppt_n: float, rate_n_per_s: float) -> list[Step]:
    """Rest, ramp to the threshold, the patient's reaction (0.6 s), the button, release."""
    return [Step(1.0, 0.0), Step(ppt_n / rate_n_per_s, ppt_n), Step(0.6, ppt_n),
            Step(0.2, ppt_n, button=True), Step(0.8, 0.0), Step(2.0, 0.0)]


def treatment(ppt_n: float, hold_s: float = 60.0) -> list[Step]:
    """One compression at 82 % of PPT with a pressure step to a barrier 5 % above it."""
    target, barrier = 0.82 * ppt_n, 1.05 * ppt_n
    return [Step(1.0, 0.0), Step(target / 5.0, target), Step(hold_s / 2, target),
            Step(2.0, barrier), Step(0.6, barrier), Step(0.2, barrier, button=True),
            Step(1.0, 0.82 * barrier), Step(hold_s / 2, 0.82 * barrier), Step(0.8, 0.0),
            Step(2.0, 0.0)]


def session(ppt_n: float, rate_n_per_s: float, after_n: float, seed: int = 1
            ) -> tuple[np.ndarray, float]:
    """Three trials, the treatment, three after-trials at `after_n`: the batch, and the time
    when the treatment compression was over (where the therapist moves to after-trials)."""
    steps = trial(ppt_n, rate_n_per_s) * 3 + treatment(ppt_n)
    treated_s = sum(s.duration_s for s in steps)
    steps += trial(after_n, rate_n_per_s) * 3
    intent = ScriptedIntent(steps, loop=False)
    t = np.arange(0.0, intent.period_s, 1.0 / SPS)
    want, button = intent.at(t)
    hand = Hand(seed=seed, cv=0.002, tremor_frac=0.002)
    force = hand.apply(t, want)
    flags = np.where(button, SampleFlag.BUTTON, 0).astype(np.uint16)
    return batch_from_force(t, force, flags), treated_s - 1.0
