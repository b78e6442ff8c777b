"""The streaming core: despike, filter, zones against the band, marks, phases and holds.

Time comes from the samples, never the clock, so a replay gives the live result exactly,
however the stream is chunked. Every operator input is an `Input` event applied between two
samples (`Tracker.apply`), so the samples plus the inputs recompute every decision
(`tpforce.core.replay`). Zones are computed vectorised; the hold machine
(`tpforce.core.hold`) steps only over runs of one zone.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace

import numpy as np

from tpforce.core.band import Band, BandPreset, band_for
from tpforce.core.calbench import ZeroWatch
from tpforce.core.events import (
    BandChanged,
    BandWarning,
    ButtonChanged,
    Event,
    HoldEnd,
    HoldScored,
    Input,
    InputKind,
    InputRefused,
    Phase,
    PhaseChanged,
    PointChanged,
    PressureStep,
    SignalLost,
    TargetChanged,
    ThresholdMarked,
    TimeRefused,
    ToleranceMarked,
    TrialRefiled,
    ZeroChecked,
    Zone,
)
from tpforce.core.filters import DEFAULT_WINDOW_S, Despike, MovingAverage
from tpforce.core.hold import ESCALATE_FRAC, HOLD_MODES, HoldMachine
from tpforce.core.metrics import HoldMetrics
from tpforce.core.samples import SampleFlag
from tpforce.core.session import Mark, Session, ppt_mean
from tpforce.core.threshold import History, RampSpec, Trial, capture, live_rate

LOST_FLAGS = int(SampleFlag.GAP_BEFORE | SampleFlag.RESET_BEFORE)
_GAP = int(SampleFlag.GAP_BEFORE)
# Plain ints for the per-batch path: an enum member lookup costs a microsecond on 3.11.
_UNKNOWN, _NO_CONTACT, _BELOW, _IN_BAND, _ABOVE, _OVER = (
    int(z) for z in (Zone.UNKNOWN, Zone.NO_CONTACT, Zone.BELOW, Zone.IN_BAND, Zone.ABOVE,
                     Zone.OVER))
_BUTTON, _OVER_RANGE = int(SampleFlag.BUTTON), int(SampleFlag.OVER_RANGE)
_LOST = LOST_FLAGS
SPACING_INTERVALS = 16  # the nominal sample spacing is the median of the first 16 intervals
# Batches up to this size are stepped over as Python lists (`Tracker._process_small`): at
# a few samples a batch, numpy's per-call overhead costs more than the work.
SMALL_BATCH = 8


@dataclass(frozen=True, slots=True)
class HoldConfig:
    """Hold, mark, alarm and gap rules; each default and its reason is in docs/analysis.md.

    Band 75-90 % of PPT, 30 s target (presets 60, 90), ramp 5 N/s +-20 %, 3 PPT trials,
    a 40 ms moving average after a 3-sample median (0 / False turn them off).
    """

    contact_n: float = 2.0
    grace_s: float = 1.0
    target_s: float = 30.0
    mark_window_s: float = 0.5  # the patient's button: reaction time ~200-250 ms, doubled
    key_window_s: float = 1.0  # therapist's key or pedal after a spoken "now": two reactions
    mark_merge_s: float = 0.3  # marks closer than this are one (a bounce, a double press)
    min_rise_frac: float = 0.2  # a mark needs a rise of 20 % of its peak (>= contact) ...
    rise_lookback_s: float = 25.0  # ... within 25 s before it (20 N at 1 N/s to 100 N)
    band_lo_frac: float = 0.75
    band_hi_frac: float = 0.90
    filter_window_s: float = DEFAULT_WINDOW_S
    despike: bool = True
    ramp_target_n_per_s: float = 5.0
    ramp_tolerance_frac: float = 0.2
    trials: int = 3
    drop_first: bool = False
    band_preset: str = "below_threshold"
    mode: str = "cumulative"
    alarm_margin_frac: float = 0.05  # leave over-threshold only 5 % below the level
    gap_min_s: float = 0.25
    gap_factor: float = 3.0
    tare_noise_n: float = 0.5  # the cell's noise bound: raw spread allowed for a tare
    tare_window_s: float = 0.5
    zero_full_scale_n: float = 98.0665  # the cell's full scale (10 kg): zero drift limit 1 % of it
    zero_rest_sd_n: float = 0.02  # the zero after a hold is read only this still (calbench)


@dataclass(frozen=True, slots=True)
class TrackerState:
    """A snapshot for displays: replaced whole after each batch or input, so reading it is
    atomic. It carries what a screen reads; the session's points, trials and holds are in
    `Processor.session` (a snapshot too), settings in `Tracker.config`.

    `force_n` is the filtered force the zone was decided on.
    """

    t_s: float = 0.0
    force_n: float = float("nan")
    zone: Zone = Zone.UNKNOWN
    band: Band | None = None
    hold_active: bool = False
    hold_manual: bool = False
    in_band_s: float = 0.0
    target_s: float = 30.0
    completed: bool = False
    out_of_band_s: float = 0.0  # length of the current out-of-band stretch in a hold
    trials_n: tuple[float, ...] = field(default_factory=tuple)  # the phase's trials
    rate_n_per_s: float = float("nan")  # live ramp-rate monitor (filtered force, last 0.25 s)
    ppt_n: float = float("nan")
    tolerance_n: float = float("nan")
    phase: str = "baseline"  # Phase value of the current point
    over_range: bool = False  # the last sample saturated while pushing (force beyond the cell)
    band_status: str = "needs_ppt"  # "ok", "needs_ppt" or "needs_tolerance" (Hou P2)
    alarm_silent: bool = False  # a trial phase: crossings are shown, not sounded
    time_refused: int = 0  # samples dropped because their time did not increase
    refusal: str = ""  # the reason of the last refused input (for the screen)
    zero_drift: str = ""  # the last zero check after a hold failed: what to do (until a tare)


def classify(force_n: np.ndarray, band: Band | None, contact_n: float,
             over_in: bool = False, margin_frac: float = 0.0) -> tuple[np.ndarray, bool]:
    """The zone of every sample (Zone values as int8) and the over-threshold state after it.

    Band edges belong to the band. Over-threshold has hysteresis: entered above the alarm
    level, left only below the level minus `margin_frac` of it (or on unknown data).
    """
    zone = np.full(len(force_n), _UNKNOWN, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        contact = force_n >= contact_n
        zone[force_n < contact_n] = _NO_CONTACT
        zone[contact] = _BELOW
        if band is None:
            return zone, False
        zone[contact & (force_n >= band.lo_n)] = _IN_BAND
        zone[contact & (force_n > band.hi_n)] = _ABOVE
        level = band.over_n
        enter = force_n > level
        leave = ~(force_n >= level * (1.0 - margin_frac))
    marks = enter | leave
    if not marks.any():
        state = np.full(len(force_n), over_in)
    else:
        idx = np.where(marks, np.arange(len(force_n)), -1)
        np.maximum.accumulate(idx, out=idx)
        state = np.where(idx >= 0, enter[np.maximum(idx, 0)], over_in)
    zone[contact & state] = _OVER
    return zone, bool(state[-1]) if len(state) else over_in


class Tracker:
    """Consumes calibrated batches and inputs, returns events, keeps a `state` snapshot and
    the session (points, phases, marks, holds)."""

    def __init__(self, config: HoldConfig | None = None, band: Band | None = None,
                 session: Session | None = None, phase: Phase | None = None) -> None:
        self.config = config or HoldConfig()
        cfg = self.config
        if cfg.mode not in HOLD_MODES:
            raise ValueError(f"hold mode must be cumulative or continuous, not {cfg.mode!r}")
        self.band = band
        self._fixed_band = band  # a band given up front (analysis) stands until marks move it
        self.preset = BandPreset.parse(cfg.band_preset)
        self.ramp = RampSpec(cfg.ramp_target_n_per_s, cfg.ramp_tolerance_frac)
        self.despike = Despike() if cfg.despike else None
        self.filter = MovingAverage(cfg.filter_window_s)
        self.history = History(keep_s=max(30.0, 4 * cfg.key_window_s))
        self.machine = HoldMachine(cfg.grace_s, cfg.target_s, cfg.mode)
        self.session = session or Session(drop_first=cfg.drop_first)
        self.tip_area_cm2 = 1.0
        self.arm_tolerance = False  # the next button press marks pain tolerance
        self.holds: list[HoldMetrics] = []
        self.zero = ZeroWatch(cfg.contact_n, cfg.zero_full_scale_n, cfg.zero_rest_sd_n)
        self.zero_checks: list[ZeroChecked] = []
        self._zero_drift = ""
        self.filtered_n = np.zeros(0)  # filtered force of the last batch
        self.samples_seen = 0
        self.time_refused = 0
        self._custom: tuple[str, float, float] | None = None  # ("N" | "%", lo, hi)
        self._button = False
        self._over_range = False
        self._over_state = False
        self._high_prev = False
        self._last_mark_t = -math.inf
        self._refusal = ""
        self._spacing: float | None = None
        self._intervals: list[float] = []
        self._version = 0
        self._view_version = -1
        self.session_view = copy.deepcopy(self.session)
        self._enter_phase(phase or (Phase.TREATMENT if band is not None else Phase.BASELINE))
        self.state = TrackerState(target_s=cfg.target_s, band=band)
        self._publish()

    @property
    def phase(self) -> Phase:
        """The current point's phase."""
        return self.session.current.phase

    # -- inputs --------------------------------------------------------------------------

    def apply(self, inp: Input) -> list[Event]:
        """Apply one operator input at its time; returns the input itself, then its events."""
        k, t = inp.kind, inp.t_s
        handler = {
            InputKind.MARK: lambda: self._mark(t, str(inp.arg("by", "key"))),
            InputKind.MARK_TOLERANCE: lambda: self._mark_tolerance(
                t, str(inp.arg("by", "key"))),
            InputKind.ARM_TOLERANCE: lambda: self._arm_tolerance(),
            InputKind.PHASE: lambda: self._set_phase(inp.arg("phase"), t),
            InputKind.START_HOLD: lambda: self._start_hold(t),
            InputKind.STOP_HOLD: lambda: self._collect(self.machine.stop(t, HoldEnd.STOPPED)),
            InputKind.NEXT_POINT: lambda: self._next_point(
                _opt_str(inp.arg("site")), _opt_str(inp.arg("side")), t),
            InputKind.DELETE_TRIAL: lambda: self._refile(int(_num(inp.arg("number", 0))), None, t),
            InputKind.REFILE_TRIAL: lambda: self._refile(
                int(_num(inp.arg("number", 0))), str(inp.arg("as", "")), t),
            InputKind.BAND_PRESET: lambda: self._set_preset(str(inp.arg("preset", "")), t),
            InputKind.BAND_CUSTOM: lambda: self._set_custom(
                _num(inp.arg("lo", math.nan)), _num(inp.arg("hi", math.nan)),
                str(inp.arg("unit", "N")), t),
            InputKind.TARGET: lambda: self._set_target(_num(inp.arg("target_s", math.nan)),
                                                       t),
            InputKind.GRACE: lambda: self._set_grace(_num(inp.arg("grace_s", math.nan))),
            InputKind.HOLD_MODE: lambda: self._set_mode(str(inp.arg("mode", "")), t),
        }.get(k)
        if handler is None:
            raise ValueError(f"the tracker does not apply {k.value} inputs (the processor does)")
        try:
            events = handler()
        except ValueError as exc:
            events = [InputRefused(t, k, str(exc))]
        for e in events:
            if isinstance(e, InputRefused):
                self._refusal = e.reason
        events = self._zero_after(events)
        self._version += 1
        self._publish()
        return [inp, *events]

    def _input(self, kind: InputKind, t_s: float, **args: object) -> list[Event]:
        return self.apply(Input.make(kind, t_s, self.samples_seen - 1, **args))

    # Thin command forms of the inputs, for callers that hold a time: each returns the input
    # event and what it caused.
    def mark_threshold(self, t_s: float, by: str = "key") -> list[Event]:
        """The threshold is marked at `t_s` (`by` "button" or "key")."""
        return self._input(InputKind.MARK, t_s, by=by)

    def mark_tolerance(self, t_s: float, by: str = "key") -> list[Event]:
        """Pain tolerance is marked at `t_s` (Hou P2)."""
        return self._input(InputKind.MARK_TOLERANCE, t_s, by=by)

    def set_phase(self, phase: Phase | str | None, t_s: float) -> list[Event]:
        """Move the current point to `phase` (None: the next one in the cycle)."""
        value = phase.value if isinstance(phase, Phase) else phase
        return self._input(InputKind.PHASE, t_s, phase=value)

    def start_hold(self, t_s: float) -> list[Event]:
        """Start a hold by hand (treatment only)."""
        return self._input(InputKind.START_HOLD, t_s)

    def stop_hold(self, t_s: float) -> list[Event]:
        """Stop the running hold."""
        return self._input(InputKind.STOP_HOLD, t_s)

    def next_point(self, site: str | None, side: str | None, t_s: float) -> list[Event]:
        """Move on to another point."""
        return self._input(InputKind.NEXT_POINT, t_s, site=site, side=side)

    def set_band_preset(self, name: str | BandPreset, t_s: float) -> list[Event]:
        """Use another band preset."""
        value = name.value if isinstance(name, BandPreset) else name
        return self._input(InputKind.BAND_PRESET, t_s, preset=value)

    def set_band_absolute(self, lo_n: float, hi_n: float, t_s: float) -> list[Event]:
        """A custom band in newtons."""
        return self._input(InputKind.BAND_CUSTOM, t_s, lo=float(lo_n), hi=float(hi_n),
                           unit="N")

    def set_target_s(self, target_s: float, t_s: float) -> list[Event]:
        """Another in-band target time."""
        return self._input(InputKind.TARGET, t_s, target_s=float(target_s))

    def finish(self) -> list[Event]:
        """End of the stream: a running hold ends as STOPPED at the last sample."""
        t = self.machine.last_t
        if t is None or not self.machine.active:
            return []
        events = self._collect(self.machine.stop(t, HoldEnd.STOPPED))
        self._version += 1
        self._publish()
        return events

    def on_signal_lost(self, event: SignalLost) -> list[Event]:
        """A hold cannot go on without data: it ends as interrupted; the zone is unknown."""
        events = self._zero_after(self._collect(self.machine.signal_lost(event.t_s)))
        self.zero.on_gap()
        self._over_state = False
        self._version += 1
        self._publish()
        return events

    # -- input handlers ------------------------------------------------------------------

    def _capture(self, t_s: float, by: str) -> Trial | str:
        """The trial a mark records, or the reason it is refused."""
        cfg = self.config
        if by not in ("button", "key"):
            raise ValueError(f"a mark is made by 'button' or 'key', not {by!r}")
        if t_s - self._last_mark_t < cfg.mark_merge_s:
            return f"one mark: within {cfg.mark_merge_s:g} s of the last"
        window = cfg.mark_window_s if by == "button" else cfg.key_window_s
        trial = capture(self.history, t_s, window, cfg.contact_n, self.ramp)
        if trial is None or not trial.peak_n >= cfg.contact_n:
            peak = "no force" if trial is None else f"peak {trial.peak_n:.1f} N"
            return f"no pressure on the probe ({peak}, contact is {cfg.contact_n:g} N)"
        _, f = self.history.between(trial.peak_t_s - cfg.rise_lookback_s, trial.peak_t_s)
        low = float(np.nanmin(f)) if np.isfinite(f).any() else trial.peak_n
        if trial.peak_n - low < max(cfg.contact_n, cfg.min_rise_frac * trial.peak_n):
            return (f"no rising ramp into the mark (the force rose {trial.peak_n - low:.1f} N;"
                    f" a threshold is marked at the end of a ramp)")
        self._last_mark_t = t_s
        return trial

    def _mark(self, t_s: float, by: str) -> list[Event]:
        trial = self._capture(t_s, by)
        if isinstance(trial, str):
            return [InputRefused(t_s, InputKind.MARK, trial)]
        point = self.session.current
        phase = point.phase
        events: list[Event] = []
        if phase is Phase.TREATMENT:
            old = self.band.ppt_n if self.band is not None else math.nan
            point.marks.append(Mark(t_s, trial.peak_n, "step", by, old))
            if self.machine.active:
                self.machine.pressure_steps += 1
            events.append(ThresholdMarked(t_s, trial.peak_n, len(point.marks),
                                          trial.ramp_n_per_s, trial.ramp_ok, "step", by))
            events.append(PressureStep(t_s, self.machine.index, old, trial.peak_n))
        else:
            kind = phase.value
            point.marks.append(Mark(t_s, trial.peak_n, kind, by))
            events.append(ThresholdMarked(t_s, trial.peak_n, len(point.marks),
                                          trial.ramp_n_per_s, trial.ramp_ok, kind, by))
        events += self._rebuild_band(t_s)
        if phase is Phase.BASELINE and len(point.trials_before_n) >= self.config.trials:
            events += self._change_phase(Phase.TREATMENT, t_s, auto=True)
        return events

    def _mark_tolerance(self, t_s: float, by: str) -> list[Event]:
        self.arm_tolerance = False
        trial = self._capture(t_s, by)
        if isinstance(trial, str):
            return [InputRefused(t_s, InputKind.MARK_TOLERANCE, trial)]
        point = self.session.current
        point.tolerance_n.append(trial.peak_n)
        events: list[Event] = [ToleranceMarked(t_s, trial.peak_n, len(point.tolerance_n))]
        return events + self._rebuild_band(t_s)

    def _arm_tolerance(self) -> list[Event]:
        self.arm_tolerance = True
        return []

    def _set_phase(self, phase: object, t_s: float) -> list[Event]:
        new = self.phase.next() if phase is None else Phase(str(phase))
        if new is self.phase:
            return []
        return self._change_phase(new, t_s, auto=False)

    def _change_phase(self, new: Phase, t_s: float, auto: bool) -> list[Event]:
        previous = self.phase
        events = self._collect(self.machine.stop(t_s, HoldEnd.PHASE_CHANGED))
        self._enter_phase(new)
        events.append(PhaseChanged(t_s, new, previous, auto))
        if new is Phase.TREATMENT:  # a hold starts at the band after the next contact
            self.machine.armed = self.machine.last_zone in (Zone.NO_CONTACT, Zone.UNKNOWN)
        return events + self._rebuild_band(t_s)

    def _enter_phase(self, phase: Phase) -> None:
        self.session.current.phase = phase
        self.machine.auto_start = not phase.trials
        self.machine.alarm_silent = phase.trials

    def _start_hold(self, t_s: float) -> list[Event]:
        if self.phase.trials:
            raise ValueError(f"no hold in the {self.phase.value} phase: "
                             "move to treatment first")
        if self.machine.last_t is None:
            raise ValueError("no samples yet")
        return self.machine.start(t_s, manual=True)

    def _next_point(self, site: str | None, side: str | None, t_s: float) -> list[Event]:
        events = self._collect(self.machine.stop(t_s, HoldEnd.PHASE_CHANGED))
        point = self.session.next_point(site, side)
        self._fixed_band = None
        self._custom = self._custom if self._custom and self._custom[0] == "%" else None
        self._enter_phase(Phase.BASELINE)
        self._last_mark_t = -math.inf
        events.append(PointChanged(t_s, point.index, point.site,
                                   point.side.value if point.side else None))
        return events + self._rebuild_band(t_s)

    def _refile(self, number: int, to: str | None, t_s: float) -> list[Event]:
        point = self.session.current
        if not 1 <= number <= len(point.marks) or point.marks[number - 1].deleted:
            raise ValueError(f"no mark {number} on this point (it has {len(point.marks)})")
        if to is not None and to not in ("baseline", "after", "step"):
            raise ValueError(f"a mark is filed as baseline, after or step, not {to!r}")
        old = point.marks[number - 1]
        point.marks[number - 1] = (replace(old, deleted=True) if to is None
                                   else replace(old, kind=to))
        return [TrialRefiled(t_s, number, old.kind, to), *self._rebuild_band(t_s)]

    def _set_preset(self, name: str, t_s: float) -> list[Event]:
        self.preset = BandPreset.parse(name)
        if self.preset is not BandPreset.CUSTOM:
            self._custom = None
        return self._rebuild_band(t_s)

    def _set_custom(self, lo: float, hi: float, unit: str, t_s: float) -> list[Event]:
        if unit not in ("N", "%"):
            raise ValueError(f"a custom band is in N or % of the PPT, not {unit!r}")
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 <= lo <= hi):
            raise ValueError(f"a band needs 0 <= low <= high, not {lo:g}-{hi:g} {unit}")
        ppt = self._current_ppt()
        if unit == "%" and hi > 100.0:
            raise ValueError(f"the band top {hi:g} % is above the alarm level (the PPT); "
                             "use e.g. 75%:90%")
        if unit == "N" and math.isfinite(ppt) and hi > ppt:
            raise ValueError(f"the band top {hi:g} N is above the alarm level "
                             f"(PPT {ppt:.1f} N); use e.g. 75%:90%")
        self.preset = BandPreset.CUSTOM
        self._custom = (unit, lo, hi)
        self._fixed_band = None
        return self._rebuild_band(t_s)

    def _set_target(self, target_s: float, t_s: float) -> list[Event]:
        if not (math.isfinite(target_s) and target_s > 0):
            raise ValueError("the target must be a positive number of seconds")
        self.config = replace(self.config, target_s=target_s)
        return [TargetChanged(t_s, target_s), *self.machine.retarget(target_s, t_s)]

    def _set_grace(self, grace_s: float) -> list[Event]:
        if not (math.isfinite(grace_s) and grace_s >= 0):
            raise ValueError("the grace time must be a number of seconds >= 0")
        self.config = replace(self.config, grace_s=grace_s)
        self.machine.grace_s = grace_s
        return []

    def _set_mode(self, mode: str, t_s: float) -> list[Event]:
        if mode not in HOLD_MODES:
            raise ValueError(f"hold mode must be cumulative or continuous, not {mode!r}")
        events = self._collect(self.machine.stop(t_s, HoldEnd.STOPPED))
        self.config = replace(self.config, mode=mode)
        self.machine.mode = mode
        return events

    # -- streaming -----------------------------------------------------------------------

    def process(self, batch: np.ndarray) -> list[Event]:
        """Step over one calibrated batch; returns its events in decision order."""
        n = len(batch)
        if n == 0:
            return []
        if n <= SMALL_BATCH:
            small = self._process_small(batch)
            if small is not None:
                return small
        events: list[Event] = []
        t = batch["t_s"]
        last = self.machine.last_t if self.machine.last_t is not None else -math.inf
        prior = np.maximum.accumulate(np.concatenate(([last], t[:-1])))
        keep = t > prior
        if not keep.all():
            # Time that does not increase is refused: those samples are dropped, and counted.
            keep = np.zeros(n, dtype=bool)
            hi = last
            for i, ti in enumerate(t.tolist()):
                if ti > hi:
                    keep[i], hi = True, ti
            dropped = int(n - keep.sum())
            self.time_refused += dropped
            events.append(TimeRefused(float(hi), dropped, self.time_refused))
            batch = batch[keep]
            n = len(batch)
            if n == 0:
                self._publish()
                return events
            t = batch["t_s"]
        flags = batch["flags"] | self._gap_flags(t)
        raw_f = batch["force_n"]
        x = self.despike.process(raw_f, flags) if self.despike is not None else raw_f
        f = self.filter.process(t, x, flags)
        self.filtered_n = f
        self._over_range = bool(flags[-1] & _OVER_RANGE)
        gap = (flags & LOST_FLAGS) != 0
        over_range = (flags & _OVER_RANGE) != 0
        pressed = (flags & _BUTTON) != 0
        edges = np.flatnonzero(pressed[1:] != pressed[:-1]) + 1
        if pressed[0] != self._button:
            edges = np.concatenate(([0], edges))
        start = 0
        hist = 0
        # Button edges split the batch: a mark changes the band for the samples after it,
        # so each stretch is classified against the band in force when it is stepped. The
        # history grows stretch by stretch, so a mark looks back from its own time.
        for edge in [*edges.tolist(), n]:
            if edge > start:
                events += self._zero_after(
                    self._step(t[start:edge], f[start:edge], over_range[start:edge],
                               gap[start:edge]), t[start:edge], raw_f[start:edge], gap[start:edge])
            if edge < n:
                self.history.append(t[hist:edge + 1], f[hist:edge + 1])
                hist = edge + 1
                self._button = bool(pressed[edge])
                te = float(t[edge])
                events.append(ButtonChanged(te, self._button))
                if self._button:
                    handler = self._mark_tolerance if self.arm_tolerance else self._mark
                    marked = handler(te, "button")
                    for e in marked:
                        if isinstance(e, InputRefused):
                            self._refusal = e.reason
                    events += self._zero_after(marked)
                    self._version += 1
                start = edge
        self.history.append(t[hist:], f[hist:])
        self.samples_seen += n
        if any(isinstance(e, (HoldScored, ButtonChanged)) for e in events):
            self._version += 1
        self._publish()
        return events

    def _process_small(self, batch: np.ndarray) -> list[Event] | None:
        """`process` for a few samples, stepped over as Python lists: the same comparisons
        and sums in the same order, so the same events and floats. None, with nothing
        changed, for what the general path handles: refused times or a button edge."""
        t = batch["t_s"]
        tl: list[float] = t.tolist()
        fl: list[int] = batch["flags"].tolist()
        last = self.machine.last_t
        first = last is None
        prev_t = -math.inf if last is None else last
        button = self._button
        dt: list[float] = []
        for ti, fi in zip(tl, fl, strict=True):
            if not ti > prev_t:  # not increasing (or NaN): refused samples
                return None
            if ((fi & _BUTTON) != 0) != button:  # a button edge splits the batch
                return None
            dt.append(ti - prev_t)
            prev_t = ti
        n = len(tl)
        if first:
            dt[0] = 0.0  # tl[0] - tl[0], as _gap_flags prepends the first time
        # gap flags, as _gap_flags
        cfg = self.config
        gap_min = cfg.gap_min_s
        lim = gap_min
        from_i = 0
        if self._spacing is None:
            need = SPACING_INTERVALS - len(self._intervals)
            self._intervals += (dt[1:] if first else dt)[:need]
            from_i = n
            if len(self._intervals) >= SPACING_INTERVALS:
                self._spacing = float(np.median(self._intervals))
                from_i = need + int(first)
        if self._spacing is not None:
            lim = max(gap_min, cfg.gap_factor * self._spacing)
        restart: list[bool] = []
        for i in range(n):
            if dt[i] > (lim if i >= from_i else gap_min):
                fl[i] |= _GAP
            restart.append((fl[i] & _LOST) != 0)
        raw_arr = batch["force_n"]
        raw_l: list[float] = raw_arr.tolist()
        x: list[float] | None = raw_l
        if self.despike is not None:
            x = self.despike.process_list(raw_l, restart)
            if x is None:
                x = self.despike.process(raw_arr, np.array(fl, dtype=np.uint16)).tolist()
        assert x is not None
        fv = self.filter.process_list(tl, x, restart)
        if fv is None:
            fv = self.filter.process(t, np.array(x, dtype=np.float64),
                                     np.array(fl, dtype=np.uint16)).tolist()
        f = np.array(fv, dtype=np.float64)
        self.filtered_n = f
        self._over_range = bool(fl[-1] & _OVER_RANGE)
        # zones, as classify and _step
        band = self.band
        contact_n = cfg.contact_n
        over_state = self._over_state
        zones: list[int] = []
        high: list[bool] | None = None
        if band is None:
            for v in fv:
                zones.append(_BELOW if v >= contact_n
                             else _NO_CONTACT if v < contact_n else _UNKNOWN)
            over_state = False
        else:
            lo, hi, level = band.lo_n, band.hi_n, band.over_n
            leave_below = level * (1.0 - cfg.alarm_margin_frac)
            esc = ESCALATE_FRAC * band.over_n
            high_prev = self._high_prev
            high = []
            for v, fli in zip(fv, fl, strict=True):
                enter = v > level
                if enter or not v >= leave_below:
                    over_state = enter
                if v >= contact_n:
                    z = _BELOW
                    if v >= lo:
                        z = _IN_BAND
                    if v > hi:
                        z = _ABOVE
                    if over_state:
                        z = _OVER
                else:
                    z = _NO_CONTACT if v < contact_n else _UNKNOWN
                if fli & _OVER_RANGE:
                    z = _OVER
                zones.append(z)
                h = v > esc
                high.append(h and not high_prev)
                high_prev = h
            self._high_prev = high_prev
        self._over_state = over_state
        gap = restart
        centre = band.centre_n if band is not None else math.nan
        over = band.over_n if band is not None else math.inf
        events = self._collect(self.machine.process(t, f, zones, gap, centre, over, high))
        if events or self.zero.pending:
            events = self._zero_after(events, t, raw_arr, np.array(gap, dtype=bool))
        self.history.append(t, f)
        self.samples_seen += n
        if any(isinstance(e, (HoldScored, ButtonChanged)) for e in events):
            self._version += 1
        self._publish()
        return events

    # -- internals -----------------------------------------------------------------------

    def _gap_flags(self, t: np.ndarray) -> np.ndarray:
        """GAP_BEFORE where the interval before a sample is longer than `gap_factor` times
        the nominal spacing and at least `gap_min_s`: that time is unknown, flagged or not."""
        cfg = self.config
        last = self.machine.last_t
        first = last is None
        dt = np.diff(t, prepend=t[0] if last is None else last)
        limit = np.full(len(dt), cfg.gap_min_s)
        if self._spacing is None:
            seen = dt[1:] if first else dt
            need = SPACING_INTERVALS - len(self._intervals)
            self._intervals += seen[:need].tolist()
            if len(self._intervals) >= SPACING_INTERVALS:
                self._spacing = float(np.median(self._intervals))
                limit[need + int(first):] = max(cfg.gap_min_s, cfg.gap_factor * self._spacing)
        else:
            limit[:] = max(cfg.gap_min_s, cfg.gap_factor * self._spacing)
        out = np.zeros(len(t), dtype=np.uint16)
        out[dt > limit] = _GAP
        return out

    def _step(self, t: np.ndarray, f: np.ndarray, over_range: np.ndarray, gap: np.ndarray
              ) -> list[Event]:
        band = self.band
        zones, self._over_state = classify(f, band, self.config.contact_n, self._over_state,
                                           self.config.alarm_margin_frac)
        high = None
        if band is not None:  # saturated while pushing: over, whatever the PPT
            zones[over_range] = _OVER
            with np.errstate(invalid="ignore"):
                h = f > ESCALATE_FRAC * band.over_n
            prev = np.concatenate(([self._high_prev], h[:-1]))
            high = h & ~prev
            self._high_prev = bool(h[-1])
        centre = band.centre_n if band is not None else math.nan
        over = band.over_n if band is not None else math.inf
        return self._collect(self.machine.process(t, f, zones, gap, centre, over, high))

    def _zero_after(self, events: list[Event], t: np.ndarray | None = None,
                    f: np.ndarray | None = None, gap: np.ndarray | None = None) -> list[Event]:
        """Arm the zero check at each hold's end and feed it the samples (raw force) these
        events came from; each `ZeroChecked` goes before the first later event at or after
        its time, so the order is the same however the stream was cut into batches."""
        found: list[tuple[int, ZeroChecked]] = []  # (earliest position, decision)
        pos, low = 0, 0
        for i, e in enumerate(events):
            if isinstance(e, HoldScored):
                if t is not None and f is not None and gap is not None:
                    j = int(np.searchsorted(t, e.t_s, side="right"))
                    found += [(low, z) for z in self.zero.feed(t[pos:j], f[pos:j], gap[pos:j])]
                    pos = j
                low = i + 1
                found += [(low, z) for z in self.zero.arm(e.index, e.t_s)]
        if t is not None and f is not None and gap is not None:
            found += [(low, z) for z in self.zero.feed(t[pos:], f[pos:], gap[pos:])]
        return self._zero_insert(events, found)

    def _zero_insert(self, events: list[Event], found: list[tuple[int, ZeroChecked]]
                     ) -> list[Event]:
        """Put each decision in the event list by time, and keep it for the screen."""
        out = list(events)
        for shift, (low, z) in enumerate(found):
            k = low + shift
            while k < len(out) and out[k].t_s < z.t_s:
                k += 1
            out.insert(k, z)
            self.zero_checks.append(z)
            if z.checked:
                self._zero_drift = z.message if z.exceeded else ""
        if found:
            self._version += 1
        return out

    def zero_tared(self, t_s: float) -> list[Event]:
        """A tare was taken (by the processor): the zero is fresh, any drift warning goes."""
        found = [(0, z) for z in self.zero.on_tare(t_s)]
        self._zero_drift = ""
        events = self._zero_insert([], found)
        self._publish()
        return events

    def _current_ppt(self) -> float:
        """The threshold the band follows: the last pressure step in treatment, the after
        trials in the after phase, else the baseline trials."""
        point = self.session.current
        steps = point.pressure_steps_n
        if self.phase is Phase.AFTER and point.trials_after_n:
            return ppt_mean(point.trials_after_n, self.config.drop_first)
        if self.phase is not Phase.BASELINE and steps:
            return steps[-1][2]
        if point.trials_before_n:
            return ppt_mean(point.trials_before_n, self.config.drop_first)
        if self._fixed_band is not None:
            return self._fixed_band.ppt_n
        return math.nan

    def _rebuild_band(self, t_s: float) -> list[Event]:
        """Make the band from the current threshold and preset; say so if it moved."""
        ppt = self._current_ppt()
        point = self.session.current
        cfg = self.config
        band: Band | None
        if (self._fixed_band is not None and not point.marks
                and self.preset is not BandPreset.CUSTOM):
            band = self._fixed_band
        elif self._custom is not None:
            unit, lo, hi = self._custom
            if unit == "N":
                band = Band.absolute(lo, hi, ppt if math.isfinite(ppt) else None)
            else:
                band = (Band.relative(ppt, lo / 100.0, hi / 100.0)
                        if math.isfinite(ppt) and ppt > 0 else None)
        else:
            tol = point.tolerance_n
            band = band_for(self.preset, ppt, ppt_mean(tol) if tol else None,
                            cfg.band_lo_frac, cfg.band_hi_frac)
        if band == self.band:
            return []
        self.band = band
        if band is None:
            return []
        last = self.history.last_f
        self.machine.quiet_over = last >= band.over_n * (1.0 - cfg.alarm_margin_frac)
        events: list[Event] = [BandChanged(t_s, band.lo_n, band.hi_n, band.ppt_n)]
        return events + band_warnings(band, cfg.contact_n, t_s)

    def _band_status(self) -> str:
        if self.band is not None:
            return "ok"
        if (self.preset is BandPreset.HOU_P2 and math.isfinite(self._current_ppt())
                and not self.session.current.tolerance_n):
            return "needs_tolerance"
        return "needs_ppt"

    def _collect(self, events: list[Event]) -> list[Event]:
        """File the metrics of ended holds; the point keeps every treatment hold."""
        for e in events:
            if isinstance(e, HoldScored):
                metrics: HoldMetrics = e.metrics  # type: ignore[assignment]
                self.holds.append(metrics)
                self.session.current.holds.append(metrics)
        return events

    def _publish(self) -> None:
        m = self.machine
        t = m.last_t if m.last_t is not None else 0.0
        point = self.session.current
        if self._version != self._view_version:
            self.session_view = copy.deepcopy(self.session)
            self._view_version = self._version
        band = self.band
        tol = point.tolerance_n
        phase = point.phase
        self.state = TrackerState(
            t_s=t,
            force_n=self.filtered_n[-1] if len(self.filtered_n) else math.nan,
            zone=m.last_zone,
            band=band,
            hold_active=m.active,
            hold_manual=m.active and m.manual,
            in_band_s=m.in_band_s(t),
            target_s=self.config.target_s,
            completed=m.completed,
            out_of_band_s=m.out_of_band_s(t),
            trials_n=tuple(point.trials_after_n if phase is Phase.AFTER
                           else point.trials_before_n),
            rate_n_per_s=live_rate(self.history),
            ppt_n=band.ppt_n if band is not None else math.nan,
            tolerance_n=ppt_mean(tol) if tol else math.nan,
            phase=phase.value,
            over_range=self._over_range,
            band_status=self._band_status(),
            alarm_silent=phase.trials,
            time_refused=self.time_refused,
            refusal=self._refusal,
            zero_drift=self._zero_drift,
        )


def band_warnings(band: Band, contact_n: float, t_s: float) -> list[Event]:
    """A `BandWarning` when the band centre is below contact (no hold can start) or the PPT
    is under 3x contact (a band narrower than the hand's own noise)."""
    if band.centre_n < contact_n:
        return [BandWarning(t_s, f"the band centre {band.centre_n:.1f} N is below "
                                 f"contact ({contact_n:g} N): no hold can start")]
    if band.ppt_n < 3 * contact_n:
        return [BandWarning(t_s, f"PPT {band.ppt_n:.1f} N is under 3x contact "
                                 f"({contact_n:g} N): the band is narrow")]
    return []


def _num(value: object) -> float:
    """A number argument of an input (NaN when it is not one, so the handler refuses it)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _opt_str(value: object) -> str | None:
    return None if value is None or value == "" else str(value)
