"""Which trials and which moments show feedback: pure functions of the drill and the data.

Blocks: a practice block with the drill's schedule, then a retention block with none (the
only measure of what was learnt, docs/domain.md "Feedback training"). The timeline is fixed
by the drill, so the trainee's countdown, the scoring and the simulated trainee agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tpforce.train.drill import PPT_SLOT_S, Drill, Feedback

PRACTICE = "practice"
RETENTION = "retention"


def faded_shares(n: int, start_share: float, end_share: float) -> np.ndarray:
    """The share of feedback planned for each of `n` trials, falling linearly."""
    if n <= 1:
        return np.full(n, start_share)
    return np.linspace(start_share, end_share, n)


def trial_feedback(fb: Feedback, n: int) -> np.ndarray:
    """Which of `n` practice trials get live feedback at all (bool per trial).

    Concurrent, bandwidth and self-controlled: every trial may show it (bandwidth and self
    decide the moments); blind: none. Faded: a trial gets feedback each time the running sum
    of the planned shares passes a whole number, so the first trial always has it and the
    count over any stretch matches the shares (0.5 -> every other trial).
    """
    if fb.schedule == "blind":
        return np.zeros(n, dtype=bool)
    if fb.schedule != "faded":
        return np.ones(n, dtype=bool)
    credit = np.cumsum(faded_shares(n, fb.start_share, fb.end_share)) + 1e-9
    before = np.concatenate(([0.0], credit[:-1]))
    return np.floor(credit) > np.floor(before)


def bandwidth_visible(force_n: np.ndarray, centre_n: float, tolerance_n: float) -> np.ndarray:
    """Bandwidth feedback: shown only at samples further than `tolerance_n` from the centre
    (NaN, an unknown force, is shown: a lost reading is never hidden as 'all is well')."""
    f = np.asarray(force_n, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return ~(np.abs(f - centre_n) <= tolerance_n)


def asked_visible(t_s: np.ndarray, asks_s: np.ndarray, ask_s: float) -> np.ndarray:
    """Self-controlled feedback: shown at times within `ask_s` after one of the asks."""
    t = np.asarray(t_s, dtype=np.float64)
    asks = np.sort(np.asarray(asks_s, dtype=np.float64))
    if asks.size == 0:
        return np.zeros(t.shape, dtype=bool)
    i = np.searchsorted(asks, t, side="right") - 1
    last = np.where(i >= 0, asks[np.maximum(i, 0)], -np.inf)
    return (i >= 0) & (t - last < ask_s)


@dataclass(frozen=True, slots=True)
class Slot:
    """One trial on the drill's timeline (seconds from the drill's start)."""

    index: int  # 0-based over the whole session
    block: str  # PRACTICE or RETENTION
    number: int  # 1-based within its block
    rest_start_s: float
    go_s: float  # the go cue
    end_s: float
    feedback: bool  # this trial may show live feedback (blind: never)
    schedule: str  # the schedule deciding the moments ("blind" in retention)


@dataclass(frozen=True, slots=True)
class Plan:
    """The drill's timeline: an optional PPT measurement, then the trials of each block."""

    ppt_slot: tuple[float, float] | None  # (start, end) of the PPT measurement
    slots: tuple[Slot, ...]
    end_s: float

    def slot_at(self, t_s: float) -> Slot | None:
        """The trial whose rest or active part contains `t_s` (None before or after)."""
        for s in self.slots:
            if s.rest_start_s <= t_s < s.end_s:
                return s
        return None


def make_plan(drill: Drill, target_n: float, blocks: tuple[str, ...] = (PRACTICE, RETENTION)
              ) -> Plan:
    """The timeline for `drill` at `target_n` with the given blocks, in order."""
    t = 0.0
    ppt_slot = None
    if drill.needs_ppt:
        ppt_slot = (0.0, 1.0 + PPT_SLOT_S)
        t = ppt_slot[1]
    active = drill.active_s(target_n)
    slots: list[Slot] = []
    for block in blocks:
        if block == PRACTICE:
            n, shows, schedule = (drill.trials, trial_feedback(drill.feedback, drill.trials),
                                  drill.feedback.schedule)
        else:
            n, shows, schedule = drill.retention_trials, np.zeros(drill.retention_trials,
                                                                   dtype=bool), "blind"
        for k in range(n):
            go = t + drill.rest_s
            slots.append(Slot(len(slots), block, k + 1, t, go, go + active, bool(shows[k]),
                              schedule if shows[k] else "blind"))
            t = go + active
    return Plan(ppt_slot, tuple(slots), t + min(drill.rest_s, 3.0))


def tolerance_n(drill: Drill, target_n: float) -> float:
    """Bandwidth schedule's tolerance (N): the preset's %, else the band's half-width."""
    pct = drill.feedback.tolerance_pct
    return target_n * (pct if pct is not None else drill.band_pct) / 100.0


def visible_now(slot: Slot | None, t_s: float, force_n: float, drill: Drill, target_n: float,
                asks_s: list[float], guide_n: float | None = None) -> bool:
    """Whether live feedback shows at this moment (the one decision the window and the
    simulated trainee both obey). Rests between trials show nothing live."""
    if slot is None or not slot.feedback or t_s < slot.go_s:
        return False
    if slot.schedule == "bandwidth":
        centre = guide_n if guide_n is not None else target_n
        return bool(bandwidth_visible(np.array([force_n]), centre,
                                      tolerance_n(drill, max(centre, 1.0)))[0])
    if slot.schedule == "self":
        return bool(asked_visible(np.array([t_s]), np.array(asks_s), drill.feedback.ask_s)[0])
    return True
