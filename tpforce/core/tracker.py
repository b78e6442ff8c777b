"""The streaming core: filter, zones against the band, threshold marks and the hold timer.

Time comes from the samples, never the clock, so a replay gives the live result exactly,
however the stream is chunked. Zones are computed vectorised; the hold machine
(`tpforce.core.hold`) steps only over runs of one zone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from tpforce.core.band import Band, BandPreset, band_for
from tpforce.core.events import (
    BandChanged,
    ButtonChanged,
    Event,
    HoldEnd,
    HoldScored,
    PointChanged,
    PressureStep,
    SignalLost,
    TargetChanged,
    ThresholdMarked,
    ToleranceMarked,
    Zone,
)
from tpforce.core.filters import DEFAULT_WINDOW_S, MovingAverage
from tpforce.core.hold import HoldMachine
from tpforce.core.metrics import HoldMetrics
from tpforce.core.samples import SampleFlag
from tpforce.core.session import Session, ppt_mean
from tpforce.core.threshold import History, RampSpec, capture, live_rate
from tpforce.core.units import pressure_kpa

LOST_FLAGS = int(SampleFlag.GAP_BEFORE | SampleFlag.RESET_BEFORE)
# Plain ints for the per-batch path: an enum member lookup costs a microsecond on 3.11.
_UNKNOWN, _NO_CONTACT, _BELOW, _IN_BAND, _ABOVE, _OVER = (
    int(z) for z in (Zone.UNKNOWN, Zone.NO_CONTACT, Zone.BELOW, Zone.IN_BAND, Zone.ABOVE,
                     Zone.OVER))
_BUTTON, _OVER_RANGE = int(SampleFlag.BUTTON), int(SampleFlag.OVER_RANGE)


@dataclass(frozen=True, slots=True)
class HoldConfig:
    """Hold rules: contact force, grace time out of band, target in-band time, mark window.

    Defaults (DOMAIN.md): band 75-90 % of PPT, 30 s target (presets 60, 90), ramp 5 N/s
    +-20 %, 3 PPT trials, a 40 ms moving average (under 20 ms lag; 0 turns it off).
    """

    contact_n: float = 2.0
    grace_s: float = 1.0
    min_hold_s: float = 3.0  # in-band time that makes a hold treatment, not a transit
    target_s: float = 30.0
    mark_window_s: float = 0.5
    band_lo_frac: float = 0.75
    band_hi_frac: float = 0.90
    filter_window_s: float = DEFAULT_WINDOW_S
    ramp_target_n_per_s: float = 5.0
    ramp_tolerance_frac: float = 0.2
    trials: int = 3
    drop_first: bool = False
    band_preset: str = "below_threshold"


@dataclass(frozen=True, slots=True)
class TrackerState:
    """A snapshot for displays: replaced whole after each batch, so reading it is atomic.

    `force_n` is the filtered force the zone was decided on; `raw_force_n` the last sample.
    """

    t_s: float = 0.0
    force_n: float = float("nan")
    zone: Zone = Zone.UNKNOWN
    band: Band | None = None
    hold_index: int = 0
    hold_active: bool = False
    in_band_s: float = 0.0
    target_s: float = 30.0
    completed: bool = False
    trials_n: tuple[float, ...] = field(default_factory=tuple)
    raw_force_n: float = float("nan")
    rate_n_per_s: float = float("nan")  # live ramp-rate monitor (filtered force, last 0.25 s)
    rate_kpa_per_s: float = float("nan")
    ramp_target_n_per_s: float = 5.0
    ramp_tolerance_frac: float = 0.2
    hold_manual: bool = False
    out_of_band_s: float = 0.0  # length of the current out-of-band stretch in a hold
    grace_s: float = 1.0
    ppt_n: float = float("nan")
    tolerance_n: float = float("nan")
    preset: str = "below_threshold"
    point_index: int = 1
    point_label: str = "point 1"
    phase: str = "before"  # which trials a threshold mark adds to: "before" or "after"
    trials_needed: int = 3
    ppt_before_n: float = float("nan")
    ppt_after_n: float = float("nan")
    last_hold: HoldMetrics | None = None
    over_range: bool = False  # the last sample saturated while pushing (force beyond the cell)


def classify(force_n: np.ndarray, band: Band | None, contact_n: float) -> np.ndarray:
    """The zone of every sample (Zone values as int8); band edges belong to the band."""
    zone = np.full(len(force_n), _UNKNOWN, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        contact = force_n >= contact_n
        zone[force_n < contact_n] = _NO_CONTACT
        if band is None:
            zone[contact] = _BELOW
            return zone
        zone[contact] = _BELOW
        zone[contact & (force_n >= band.lo_n)] = _IN_BAND
        zone[contact & (force_n > band.hi_n)] = _ABOVE
        zone[contact & (force_n > band.over_n)] = _OVER
    return zone


class Tracker:
    """Consumes calibrated batches, returns events, keeps a `state` snapshot and a session."""

    def __init__(self, config: HoldConfig | None = None, band: Band | None = None,
                 session: Session | None = None) -> None:
        self.config = config or HoldConfig()
        cfg = self.config
        self.band = band
        self.preset = BandPreset.parse(cfg.band_preset)
        self.ramp = RampSpec(cfg.ramp_target_n_per_s, cfg.ramp_tolerance_frac)
        self.filter = MovingAverage(cfg.filter_window_s)
        self.history = History(keep_s=max(30.0, 4 * cfg.mark_window_s))
        self.machine = HoldMachine(cfg.grace_s, cfg.target_s)
        self.session = session or Session(drop_first=cfg.drop_first)
        self.tip_area_cm2 = 1.0
        self.arm_tolerance = False  # the next button press marks pain tolerance
        self.holds: list[HoldMetrics] = []
        self.filtered_n = np.zeros(0)  # filtered force of the last batch
        self._absolute_n: tuple[float, float] | None = None
        self._button = False
        self._raw_n = math.nan
        self._over_range = False
        self.state = TrackerState(target_s=cfg.target_s, band=band)
        self._publish()

    # -- commands ------------------------------------------------------------------------

    def set_band(self, band: Band | None, t_s: float) -> list[Event]:
        """Use another band from now on."""
        self.band = band
        self._publish()
        return [] if band is None else [BandChanged(t_s, band.lo_n, band.hi_n, band.ppt_n)]

    def mark_threshold(self, t_s: float) -> list[Event]:
        """The patient signals the threshold at `t_s`: PPT = peak force in the mark window."""
        cfg = self.config
        trial = capture(self.history, t_s, cfg.mark_window_s, cfg.contact_n, self.ramp)
        if trial is None:
            return []
        point = self.session.current
        events: list[Event] = []
        if self._treating(t_s):  # a re-mark during a hold: the next barrier
            old = self.band.ppt_n if self.band is not None else math.nan
            point.pressure_steps_n.append((t_s, old, trial.peak_n))
            self.machine.pressure_steps += 1
            events.append(ThresholdMarked(t_s, trial.peak_n, 0, trial.ramp_n_per_s,
                                          trial.ramp_ok, "step"))
            events.append(PressureStep(t_s, self.machine.index, old, trial.peak_n))
            ppt = trial.peak_n
        else:
            phase = "after" if point.holds else "before"
            trials = point.trials_after_n if point.holds else point.trials_before_n
            trials.append(trial.peak_n)
            events.append(ThresholdMarked(t_s, trial.peak_n, len(trials), trial.ramp_n_per_s,
                                          trial.ramp_ok, phase))
            ppt = ppt_mean(trials, self.config.drop_first)
        band = self._band_for(ppt)
        if band is not None:
            events += self.set_band(band, t_s)
        self._publish()
        return events

    def mark_tolerance(self, t_s: float) -> list[Event]:
        """The patient signals pain tolerance (Hou P2): peak in the mark window."""
        cfg = self.config
        trial = capture(self.history, t_s, cfg.mark_window_s, cfg.contact_n, self.ramp)
        self.arm_tolerance = False
        if trial is None:
            return []
        point = self.session.current
        point.tolerance_n.append(trial.peak_n)
        events: list[Event] = [ToleranceMarked(t_s, trial.peak_n, len(point.tolerance_n))]
        if self.band is not None and self.preset is BandPreset.HOU_P2:
            band = self._band_for(self.band.ppt_n)
            if band is not None:
                events += self.set_band(band, t_s)
        self._publish()
        return events

    def set_band_preset(self, name: str | BandPreset, t_s: float) -> list[Event]:
        """Rebuild the band from the current threshold with another preset."""
        self.preset = BandPreset.parse(name)
        self._absolute_n = None
        events: list[Event] = []
        if self.band is not None:
            band = self._band_for(self.band.ppt_n)
            if band is not None:
                events = self.set_band(band, t_s)
        self._publish()
        return events

    def set_band_absolute(self, lo_n: float, hi_n: float, t_s: float) -> list[Event]:
        """A custom band in newtons (the PPT, if marked, stays the alarm level)."""
        self.preset = BandPreset.CUSTOM
        self._absolute_n = (float(lo_n), float(hi_n))
        ppt = self.band.ppt_n if self.band is not None else None
        return self.set_band(Band.absolute(lo_n, hi_n, ppt), t_s)

    def set_target_s(self, target_s: float, t_s: float) -> list[Event]:
        """Use another in-band target time from now on (also for the running hold)."""
        self.config = replace(self.config, target_s=float(target_s))
        events: list[Event] = [TargetChanged(t_s, float(target_s))]
        events += self.machine.retarget(float(target_s), t_s)
        self._publish()
        return events

    def start_hold(self, t_s: float) -> list[Event]:
        """Start a hold by hand at `t_s` (no-op if one runs or no sample came yet)."""
        events = self.machine.start(t_s, manual=True)
        self._publish()
        return events

    def stop_hold(self, t_s: float) -> list[Event]:
        """End a hold in progress at `t_s` (user stop or end of stream)."""
        return self._collect(self.machine.stop(t_s, HoldEnd.STOPPED))

    def finish(self) -> list[Event]:
        """End of the stream: a running hold ends as STOPPED at the last sample."""
        t = self.machine.last_t
        return [] if t is None else self.stop_hold(t)

    def next_point(self, site: str | None, side: str | None, t_s: float) -> list[Event]:
        """Move on to another point: ends a running hold; the band waits for a new PPT."""
        events = self.stop_hold(t_s)
        point = self.session.next_point(site, side)
        self.band = None
        events.append(PointChanged(t_s, point.index, point.site,
                                   point.side.value if point.side else None))
        self._publish()
        return events

    def on_signal_lost(self, event: SignalLost) -> list[Event]:
        """A hold cannot go on without data: it ends as interrupted; the zone is unknown."""
        events = self._collect(self.machine.signal_lost(event.t_s))
        self._publish()
        return events

    # -- streaming -----------------------------------------------------------------------

    def process(self, batch: np.ndarray) -> list[Event]:
        """Step over one calibrated batch; returns its events in decision order."""
        n = len(batch)
        if n == 0:
            return []
        t = batch["t_s"]
        flags = batch["flags"]
        f = self.filter.process(t, batch["force_n"], flags)
        self.filtered_n = f
        self._raw_n = float(batch["force_n"][-1])
        self._over_range = bool(batch["flags"][-1] & _OVER_RANGE)
        self.history.append(t, f)
        gap = (flags & LOST_FLAGS) != 0
        over_range = (flags & _OVER_RANGE) != 0
        pressed = (flags & _BUTTON) != 0
        edges = np.flatnonzero(pressed[1:] != pressed[:-1]) + 1
        if pressed[0] != self._button:
            edges = np.concatenate(([0], edges))
        events: list[Event] = []
        start = 0
        # Button edges split the batch: a mark changes the band for the samples after it,
        # so each stretch is classified against the band in force when it is stepped.
        for edge in [*edges.tolist(), n]:
            if edge > start:
                fs = f[start:edge]
                zones = classify(fs, self.band, self.config.contact_n)
                if self.band is not None:  # saturated while pushing: over, whatever the PPT
                    zones[over_range[start:edge]] = _OVER
                events += self._step(t[start:edge], fs, zones, gap[start:edge])
            if edge < n:
                self._button = bool(pressed[edge])
                te = float(t[edge])
                events.append(ButtonChanged(te, self._button))
                if self._button:
                    events += (self.mark_tolerance(te) if self.arm_tolerance
                               else self.mark_threshold(te))
                start = edge
        self._publish()
        return events

    # -- internals -----------------------------------------------------------------------

    def _step(self, t: np.ndarray, f: np.ndarray, z: np.ndarray, gap: np.ndarray
              ) -> list[Event]:
        band = self.band
        centre = band.centre_n if band is not None else math.nan
        over = band.over_n if band is not None else math.inf
        return self._collect(self.machine.process(t, f, z, gap, centre, over))

    def _treating(self, t_s: float) -> bool:
        """A hold runs that is treatment: started by hand, or `min_hold_s` in band already."""
        m = self.machine
        return m.active and (m.manual or m.in_band_s(t_s) >= self.config.min_hold_s)

    def _collect(self, events: list[Event]) -> list[Event]:
        """File the metrics of ended holds; the session's point keeps only treatment holds,
        not the transits of a threshold trial (its ramp or release crossing the band)."""
        for e in events:
            if isinstance(e, HoldScored):
                metrics: HoldMetrics = e.metrics  # type: ignore[assignment]
                self.holds.append(metrics)
                if metrics.manual or metrics.in_band_s >= self.config.min_hold_s:
                    self.session.current.holds.append(metrics)
        return events

    def _band_for(self, ppt_n: float) -> Band | None:
        tol = self.session.current.tolerance_n
        cfg = self.config
        return band_for(self.preset, ppt_n, ppt_mean(tol) if tol else None,
                        cfg.band_lo_frac, cfg.band_hi_frac, self._absolute_n)

    def _publish(self) -> None:
        m = self.machine
        t = m.last_t if m.last_t is not None else 0.0
        point = self.session.current
        rate = live_rate(self.history)
        band = self.band
        tol = point.tolerance_n
        self.state = TrackerState(
            t_s=t,
            force_n=self.filtered_n[-1] if len(self.filtered_n) else math.nan,
            zone=m.last_zone,
            band=band,
            hold_index=m.index,
            hold_active=m.active,
            in_band_s=m.in_band_s(t),
            target_s=self.config.target_s,
            completed=m.completed,
            trials_n=tuple(point.trials_after_n if point.holds else point.trials_before_n),
            raw_force_n=self._raw_n,
            over_range=self._over_range,
            rate_n_per_s=rate,
            rate_kpa_per_s=float(pressure_kpa(rate, self.tip_area_cm2)),
            ramp_target_n_per_s=self.ramp.target_n_per_s,
            ramp_tolerance_frac=self.ramp.tolerance_frac,
            hold_manual=m.active and m.manual,
            out_of_band_s=m.out_of_band_s(t),
            grace_s=self.config.grace_s,
            ppt_n=band.ppt_n if band is not None else math.nan,
            tolerance_n=ppt_mean(tol) if tol else math.nan,
            preset=self.preset.value,
            point_index=point.index,
            point_label=point.label,
            phase="after" if point.holds else "before",
            trials_needed=self.config.trials,
            ppt_before_n=point.ppt_before_n(self.config.drop_first),
            ppt_after_n=point.ppt_after_n(self.config.drop_first),
            last_hold=self.holds[-1] if self.holds else None,
        )
