"""The streaming core: zones against the band, threshold marks and the hold timer.

Time comes from the samples, never the clock, so a replay gives the live result exactly.
Zones are computed vectorised; the hold state machine steps only over runs of one zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from tpforce.core.band import Band, BandPreset, band_for
from tpforce.core.events import (
    BandChanged,
    ButtonChanged,
    Event,
    HoldCompleted,
    HoldEnd,
    HoldEnded,
    HoldStarted,
    OverThreshold,
    SignalLost,
    TargetChanged,
    ThresholdMarked,
    Zone,
    ZoneChanged,
)
from tpforce.core.samples import SampleFlag


@dataclass(frozen=True, slots=True)
class HoldConfig:
    """Hold rules: contact force, grace time out of band, target in-band time, mark window."""

    contact_n: float = 2.0
    grace_s: float = 1.0
    target_s: float = 30.0
    mark_window_s: float = 0.5
    band_lo_frac: float = 0.75
    band_hi_frac: float = 0.90


@dataclass(frozen=True, slots=True)
class TrackerState:
    """A snapshot for displays: replaced whole after each batch, so reading it is atomic."""

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


def classify(force_n: np.ndarray, band: Band | None, contact_n: float) -> np.ndarray:
    """The zone of every sample (Zone values as int8)."""
    zone = np.full(len(force_n), Zone.UNKNOWN, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        known = np.isfinite(force_n)
        contact = known & (force_n >= contact_n)
        zone[known & ~contact] = Zone.NO_CONTACT
        if band is None:
            zone[contact] = Zone.BELOW
            return zone
        zone[contact & (force_n < band.lo_n)] = Zone.BELOW
        zone[contact & (force_n >= band.lo_n) & (force_n <= band.hi_n)] = Zone.IN_BAND
        zone[contact & (force_n > band.hi_n) & (force_n <= band.ppt_n)] = Zone.ABOVE
        zone[contact & (force_n > band.ppt_n)] = Zone.OVER
    return zone


class Tracker:
    """Consumes calibrated batches, returns events, keeps a `state` snapshot."""

    def __init__(self, config: HoldConfig | None = None, band: Band | None = None) -> None:
        self.config = config or HoldConfig()
        self.band = band
        self.state = TrackerState(target_s=self.config.target_s, band=band)
        self._zone = Zone.UNKNOWN
        self._zone_t = 0.0  # when the current zone began
        self._last_t: float | None = None
        self._hold_active = False
        self._hold_index = 0
        self._in_band_s = 0.0
        self._completed = False
        self._out_since: float | None = None
        self._button = False
        self._trials: list[float] = []
        self._recent_t = np.zeros(0)
        self._recent_f = np.zeros(0)
        self.preset = BandPreset.BELOW_THRESHOLD

    def set_band(self, band: Band | None, t_s: float) -> list[Event]:
        """Use another band from now on."""
        self.band = band
        if band is None:
            return []
        return [BandChanged(t_s, band.lo_n, band.hi_n, band.ppt_n)]

    def mark_threshold(self, t_s: float) -> list[Event]:
        """The patient signals the threshold at `t_s`: PPT = peak force in the mark window."""
        window = self._recent_t >= t_s - self.config.mark_window_s
        forces = self._recent_f[window & (self._recent_t <= t_s)]
        forces = forces[np.isfinite(forces)]
        if len(forces) == 0:
            return []
        ppt = float(forces.max())
        self._trials.append(ppt)
        cfg = self.config
        events: list[Event] = [ThresholdMarked(t_s, ppt, len(self._trials))]
        events += self.set_band(Band.relative(ppt, cfg.band_lo_frac, cfg.band_hi_frac), t_s)
        return events

    def start_hold(self, t_s: float) -> list[Event]:
        """Start a hold by hand at `t_s` (no-op if one runs)."""
        if self._hold_active:
            return []
        self._hold_active = True
        self._hold_index += 1
        self._in_band_s = 0.0
        self._completed = False
        return [HoldStarted(t_s, self._hold_index)]

    def set_target_s(self, target_s: float, t_s: float) -> list[Event]:
        """Use another in-band target time from now on."""
        self.config = replace(self.config, target_s=float(target_s))
        self._publish(self.state.t_s, self.state.force_n)
        return [TargetChanged(t_s, float(target_s))]

    def set_band_preset(self, name: str, t_s: float) -> list[Event]:
        """Rebuild the band from the current threshold with another preset."""
        self.preset = BandPreset.parse(name)
        if not self._trials:
            return []
        ppt = float(np.mean(self._trials))
        band = band_for(self.preset, ppt, None, self.config.band_lo_frac, self.config.band_hi_frac)
        return self.set_band(band, t_s) if band is not None else []

    def stop_hold(self, t_s: float) -> list[Event]:
        """End a hold in progress at `t_s` (user stop or end of stream)."""
        return self._end_hold(t_s, HoldEnd.STOPPED)

    def on_signal_lost(self, event: SignalLost) -> list[Event]:
        """A hold cannot go on without data: it ends as interrupted."""
        events = self._end_hold(event.t_s, HoldEnd.SIGNAL_LOST)
        if self._zone != Zone.UNKNOWN:
            events.append(ZoneChanged(event.t_s, Zone.UNKNOWN, self._zone))
            self._zone, self._zone_t = Zone.UNKNOWN, event.t_s
        self._last_t = None
        self._publish(event.t_s, float("nan"))
        return events

    def process(self, batch: np.ndarray) -> list[Event]:
        """Step the state machine over one calibrated batch; returns its events in time order."""
        events: list[Event] = []
        n = len(batch)
        if n == 0:
            return events
        t = batch["t_s"]
        f = batch["force_n"]
        self._remember(t, f)
        pressed = (batch["flags"] & SampleFlag.BUTTON) != 0
        edges = np.flatnonzero(np.diff(pressed.astype(np.int8), prepend=np.int8(self._button)))
        zones = classify(f, self.band, self.config.contact_n)
        start = 0
        # Button edges split the batch: a mark changes the band for the samples after it.
        for edge in [*edges.tolist(), n]:
            if edge > start:
                events += self._step_runs(t[start:edge], f[start:edge], zones[start:edge])
            if edge < n:
                self._button = bool(pressed[edge])
                events.append(ButtonChanged(float(t[edge]), self._button))
                if self._button:
                    events += self.mark_threshold(float(t[edge]))
                    zones[edge:] = classify(f[edge:], self.band, self.config.contact_n)
                start = edge
        self._publish(float(t[-1]), float(f[-1]))
        return events

    # -- internals -------------------------------------------------------------------------

    def _remember(self, t: np.ndarray, f: np.ndarray) -> None:
        keep_from = t[-1] - max(2.0, self.config.mark_window_s * 2)
        rt = np.concatenate((self._recent_t, t))
        rf = np.concatenate((self._recent_f, f))
        cut = np.searchsorted(rt, keep_from)
        self._recent_t, self._recent_f = rt[cut:], rf[cut:]

    def _step_runs(self, t: np.ndarray, f: np.ndarray, zones: np.ndarray) -> list[Event]:
        """Advance time in the current zone to each zone change, then enter the new zone."""
        events: list[Event] = []
        for b in np.flatnonzero(np.diff(zones, prepend=np.int8(self._zone))).tolist():
            tb = float(t[b])
            events += self._advance(tb)
            events += self._enter(Zone(int(zones[b])), tb, float(f[b]))
        events += self._advance(float(t[-1]))
        return events

    def _advance(self, t_s: float) -> list[Event]:
        """Let time pass in the current zone up to `t_s`."""
        events: list[Event] = []
        last = self._last_t
        self._last_t = t_s if last is None else max(last, t_s)
        if last is None or t_s <= last:
            return events
        if self._hold_active:
            if self._zone == Zone.IN_BAND:
                before = self._in_band_s
                self._in_band_s += t_s - last
                target = self.config.target_s
                if not self._completed and before < target <= self._in_band_s:
                    self._completed = True
                    at = last + (target - before)
                    events.append(HoldCompleted(at, self._hold_index, target))
            elif self._out_since is not None and t_s - self._out_since > self.config.grace_s:
                events += self._end_hold(self._out_since, HoldEnd.LEFT_BAND)
        return events

    def _enter(self, zone: Zone, t_s: float, force_n: float) -> list[Event]:
        events: list[Event] = [ZoneChanged(t_s, zone, self._zone)]
        previous, self._zone, self._zone_t = self._zone, zone, t_s
        if zone == Zone.OVER and previous != Zone.OVER and self.band is not None:
            events.append(OverThreshold(t_s, force_n, self.band.ppt_n))
        if zone == Zone.IN_BAND:
            self._out_since = None
            if not self._hold_active:
                self._hold_active = True
                self._hold_index += 1
                self._in_band_s = 0.0
                self._completed = False
                events.append(HoldStarted(t_s, self._hold_index))
        elif zone in (Zone.NO_CONTACT, Zone.UNKNOWN):
            reason = HoldEnd.RELEASED if zone == Zone.NO_CONTACT else HoldEnd.SIGNAL_LOST
            events += self._end_hold(t_s, reason)
        elif self._hold_active and self._out_since is None:
            self._out_since = t_s
        return events

    def _end_hold(self, t_s: float, reason: HoldEnd) -> list[Event]:
        if not self._hold_active:
            return []
        self._hold_active = False
        self._out_since = None
        return [HoldEnded(t_s, self._hold_index, reason, self._in_band_s, self._completed)]

    def _publish(self, t_s: float, force_n: float) -> None:
        self.state = TrackerState(
            t_s=t_s,
            force_n=force_n,
            zone=self._zone,
            band=self.band,
            hold_index=self._hold_index,
            hold_active=self._hold_active,
            in_band_s=self._in_band_s,
            target_s=self.config.target_s,
            completed=self._completed,
            trials_n=tuple(self._trials),
        )
