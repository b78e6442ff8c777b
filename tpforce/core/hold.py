"""The hold state machine: when a hold starts, completes and ends, stepping over zone runs.

Rules (docs/analysis.md has them in full). Two modes: `continuous` follows the rules below;
`cumulative` (the therapist's hold) differs only in that time above or below the band never
ends a hold (it pauses the timer and counts as an excursion): only release, lost or unknown
data longer than `grace_s`, the user, or a phase/point change end it.
- each sample's zone holds until the next sample; a GAP_BEFORE flag, a NaN force or a
  SignalLost makes the interval before the next sample UNKNOWN, never in band;
- a hold starts on an entry into the band (a sample in band after one that was not, or after
  unknown data); after a hold has ended, the next entry starts a new one;
- an out-of-band stretch (above, below or unknown) longer than `grace_s` ends the hold at
  the moment it began: LEFT_BAND, or SIGNAL_LOST when the stretch began with unknown data.
  That is decided only when a sample beyond the grace arrives, so the HoldEnded event comes
  late but carries the earlier time;
- a sample below contact ends the hold at once (RELEASED); HoldCompleted fires at the instant
  in-band time reaches the target and the hold runs on.
The machine only acts at samples where the zone changes (or data was lost): the work is per
zone run, not per sample, and any chunking of the samples gives the same events.
"""

from __future__ import annotations

import math

import numpy as np

from tpforce.core.events import (
    AlarmPriority,
    Event,
    HoldCompleted,
    HoldEnd,
    HoldEnded,
    HoldScored,
    HoldStarted,
    OverThreshold,
    ZoneChanged,
)
from tpforce.core.events import Zone as Z
from tpforce.core.metrics import HoldMetrics, force_stats

ABOVE_ZONES = (Z.ABOVE, Z.OVER)
BELOW_ZONES = (Z.BELOW, Z.NO_CONTACT)
_IN_BAND = int(Z.IN_BAND)  # a plain int for the per-batch checks (enum lookups are slow)
_OVER = int(Z.OVER)
HOLD_MODES = ("cumulative", "continuous")
ESCALATE_AFTER_S = 1.0  # an over-threshold alarm lasting longer becomes HIGH priority
ESCALATE_FRAC = 1.10  # ... as does a force 10 % above the alarm level


class _Tally:
    """Time per zone and excursion counts, for a hold or for a pending out-of-band stretch."""

    __slots__ = ("above", "below", "over", "times")

    def __init__(self) -> None:
        self.times = [0.0] * 6
        self.above = self.below = self.over = 0

    def add(self, other: _Tally) -> None:
        for i, v in enumerate(other.times):
            if v:
                self.times[i] += v
        self.above += other.above
        self.below += other.below
        self.over += other.over

    def enter(self, zone: Z, previous: Z) -> None:
        """Count an excursion when the stretch moves into a new kind of zone."""
        if zone in ABOVE_ZONES and previous not in ABOVE_ZONES:
            self.above += 1
        elif zone in BELOW_ZONES and previous not in BELOW_ZONES:
            self.below += 1
        if zone == Z.OVER:
            self.over += 1


class HoldMachine:
    """Turns (time, force, zone) runs into hold events and per-hold metrics."""

    def __init__(self, grace_s: float = 1.0, target_s: float = 30.0,
                 mode: str = "continuous") -> None:
        if mode not in HOLD_MODES:
            raise ValueError(f"hold mode must be cumulative or continuous, not {mode!r}")
        self.grace_s = grace_s
        self.target_s = target_s
        self.mode = mode
        self.auto_start = True  # False in trial phases: no hold starts by itself
        self.armed = True  # False after entering treatment under load, until a new contact
        # The band moved up under the force (a mark at the peak): being over the new level
        # is no crossing; only a rise past ESCALATE_FRAC of it, or a later crossing, alarms.
        self.quiet_over = False
        self.alarm_silent = False  # True in trial phases: crossings are shown, not sounded
        self._alarm_since: float | None = None  # start of the current over-threshold run
        self._alarm_high = False
        self._alarm_force = math.nan
        self._alarm_level = math.nan
        self.index = 0
        self.active = False
        self.manual = False
        self.completed = False
        self.completed_at: float | None = None
        self.start_t = math.nan
        self.last_in_band_s = 0.0
        self.pressure_steps = 0
        self.last_t: float | None = None
        self.last_zone = Z.UNKNOWN  # zone of the last sample (UNKNOWN after lost data)
        self._last_f = math.nan
        self._last_dev = math.nan
        self.run_zone = Z.UNKNOWN  # zone of the interval running since run_start
        self.run_start = 0.0
        self.out_since: float | None = None
        self._out_unknown = False
        self._contact_t: float | None = None
        self._contact_to_band: float | None = None
        self._pending_gap = False
        self._tally = _Tally()
        self._stretch = _Tally()
        self._buf: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._seg: tuple[np.ndarray, np.ndarray, float] | None = None
        self._buf_from: int | None = None

    # -- live figures --------------------------------------------------------------------

    def retarget(self, target_s: float, t_s: float) -> list[Event]:
        """Use another target from `t_s`; a running hold already past it completes now."""
        self.target_s = target_s
        if self.active and not self.completed and self.in_band_s(t_s) >= target_s:
            self.completed, self.completed_at = True, t_s
            return [HoldCompleted(t_s, self.index, target_s)]
        return []

    def in_band_s(self, t_s: float) -> float:
        """In-band time of the running hold up to `t_s` (or of the last hold)."""
        if not self.active:
            return self.last_in_band_s
        extra = t_s - self.run_start if self.run_zone == _IN_BAND else 0.0
        return self._tally.times[_IN_BAND] + max(extra, 0.0)

    def out_of_band_s(self, t_s: float) -> float:
        """How long the running hold has been out of band (0 when in band)."""
        return t_s - self.out_since if self.active and self.out_since is not None else 0.0

    # -- stepping ------------------------------------------------------------------------

    def process(self, t: np.ndarray, f: np.ndarray, z: np.ndarray | list[int],
                gap: np.ndarray | list[bool], centre_n: float, over_n: float,
                high: np.ndarray | list[bool] | None = None) -> list[Event]:
        """Step over one stretch of samples under one band; returns events in decision order.

        `high` marks the samples where the force rose past `ESCALATE_FRAC` of the alarm level.
        `z`, `gap` and `high` may be lists (a small batch, stepped over without array calls).
        """
        n = len(t)
        events: list[Event] = []
        if n == 0:
            return events
        self._alarm_level = over_n
        self._seg = (t, f, centre_n)
        self._buf_from = 0 if self.active else None
        first_lost = bool((gap[0] or self._pending_gap) and self.last_t is not None)
        self._pending_gap = False
        prev: np.ndarray | list[int]
        lost: np.ndarray | list[bool]
        todo: list[int]
        if isinstance(z, list):
            prev = [int(self.last_zone), *z[:-1]]
            lost = list(gap)
            lost[0] = first_lost
            todo = [k for k in range(n) if z[k] != prev[k] or lost[k]
                    or (high is not None and high[k])]
        else:
            prev = np.empty(n, dtype=z.dtype)
            prev[0] = self.last_zone
            prev[1:] = z[:-1]
            lost = np.array(gap, dtype=bool)
            lost[0] = first_lost
            todo_mask = (z != prev) | lost
            if high is not None:
                todo_mask |= np.asarray(high, dtype=bool)
            todo = np.flatnonzero(todo_mask).tolist()
        for k in todo:
            tk = float(t[k])
            zp = Z(int(prev[k]))
            if lost[k]:
                tp = float(t[k - 1]) if k else float(self.last_t)  # type: ignore[arg-type]
                events += self._advance(tp, k)
                self._alarm_since = None
                if zp != Z.UNKNOWN:
                    events.append(ZoneChanged(tp, Z.UNKNOWN, zp))
                    zp = Z.UNKNOWN
                self._switch_run(Z.UNKNOWN, tp)
            events += self._advance(tk, k)
            zk = Z(int(z[k]))
            if zk != zp:
                events += self._on_sample(k, zk, zp, tk, float(f[k]), over_n)
            elif zk == Z.OVER and high is not None and high[k] and not self._alarm_high:
                crossing = self._alarm_since is None  # quiet until now: this is the crossing
                self._alarm_high = True
                self._alarm_since = tk if crossing else self._alarm_since
                events.append(OverThreshold(tk, float(f[k]), over_n, AlarmPriority.HIGH,
                                            not crossing, self.alarm_silent))
        events += self._advance(float(t[-1]), n)
        if self.active and self._buf_from is not None:
            self._keep(self._buf_from, n)
        self._seg, self._buf_from = None, None
        self.last_t = float(t[-1])
        if z[-1] != self.last_zone:
            self.last_zone = Z(int(z[-1]))
        self._last_f = float(f[-1])
        self._last_dev = self._last_f - centre_n
        return events

    def start(self, t_s: float, manual: bool = True) -> list[Event]:
        """Start a hold by hand at `t_s` (the last sample's time); no-op while one runs.

        A manual hold ignores the grace rule and release: only stop() or lost signal end it.
        """
        if self.active or self.last_t is None:
            return []
        self._begin(t_s, None, manual)
        if self.last_t >= t_s:
            self._buf.append((np.array([self.last_t]), np.array([self._last_f]),
                              np.array([self._last_dev])))
        return [HoldStarted(t_s, self.index, manual)]

    def stop(self, t_s: float, reason: HoldEnd = HoldEnd.STOPPED) -> list[Event]:
        """End the running hold at `t_s` (user stop, end of stream, lost signal)."""
        if not self.active:
            return []
        return self._end(max(t_s, self.start_t), reason, keep=True, upto=None)

    def signal_lost(self, t_s: float) -> list[Event]:
        """The source lost the signal after the sample at `t_s`: end the hold, zone unknown."""
        events = self.stop(t_s, HoldEnd.SIGNAL_LOST)
        self._alarm_since = None
        if self.last_zone != Z.UNKNOWN:
            events.append(ZoneChanged(t_s, Z.UNKNOWN, self.last_zone))
        self._switch_run(Z.UNKNOWN, t_s)
        self.last_zone = Z.UNKNOWN
        self._pending_gap = True
        return events

    # -- internals -----------------------------------------------------------------------

    def _advance(self, t_s: float, upto: int) -> list[Event]:
        """Let time pass in the current run up to `t_s`: escalation, completion, grace.

        When both an escalation and a hold decision fall due in one step, they are listed
        in the order of the instants they fell due, so chunking never changes the order.
        """
        alarm: list[Event] = []
        alarm_at = math.inf
        if (self._alarm_since is not None and not self._alarm_high
                and t_s > self._alarm_since + ESCALATE_AFTER_S):
            self._alarm_high = True
            alarm_at = self._alarm_since + ESCALATE_AFTER_S
            alarm.append(OverThreshold(alarm_at, self._alarm_force, self._alarm_level,
                                       AlarmPriority.HIGH, True, self.alarm_silent))
        hold: list[Event] = []
        hold_at = math.inf
        if not self.active:
            return alarm
        if self.run_zone == _IN_BAND:
            if not self.completed:
                at = self.run_start + (self.target_s - self._tally.times[_IN_BAND])
                if t_s >= at:
                    self.completed, self.completed_at = True, at
                    hold, hold_at = [HoldCompleted(at, self.index, self.target_s)], at
        elif self.mode == "cumulative":
            if self.run_zone == Z.UNKNOWN and t_s - self.run_start > self.grace_s:
                hold_at = self.run_start + self.grace_s
                hold = self._end(self.run_start, HoldEnd.SIGNAL_LOST, keep=True, upto=upto)
        elif (not self.manual and self.out_since is not None
              and t_s - self.out_since > self.grace_s):
            reason = HoldEnd.SIGNAL_LOST if self._out_unknown else HoldEnd.LEFT_BAND
            hold_at = self.out_since + self.grace_s
            hold = self._end(self.out_since, reason, keep=False, upto=upto)
        return alarm + hold if alarm_at < hold_at else hold + alarm

    def _on_sample(self, k: int, zone: Z, previous: Z, t_s: float, force_n: float,
                   over_n: float) -> list[Event]:
        """A sample whose zone differs from the one before."""
        events: list[Event] = [ZoneChanged(t_s, zone, previous)]
        if zone == Z.OVER:
            high = force_n > ESCALATE_FRAC * over_n
            self._alarm_force = force_n
            if self.quiet_over and not high:
                self._alarm_since, self._alarm_high = None, False
            else:
                self._alarm_since, self._alarm_high = t_s, high
                events.append(OverThreshold(t_s, force_n, over_n,
                                            AlarmPriority.HIGH if high else AlarmPriority.MEDIUM,
                                            False, self.alarm_silent))
        elif previous == Z.OVER:
            self._alarm_since = None
        if zone != Z.OVER:
            self.quiet_over = False
        if zone in (Z.NO_CONTACT, Z.UNKNOWN):
            self.armed = True
        if zone == Z.NO_CONTACT:
            self._contact_t = None
            if self.active and (not self.manual or self.mode == "cumulative"):
                events += self._end(t_s, HoldEnd.RELEASED, keep=True, upto=k)
        elif zone != Z.UNKNOWN and (previous == Z.NO_CONTACT or self._contact_t is None):
            self._contact_t = t_s
        self._switch_run(zone, t_s)
        if zone == Z.IN_BAND and not self.active and self.auto_start and self.armed:
            self._begin(t_s, k, manual=False)
            events.append(HoldStarted(t_s, self.index))
        return events

    def _switch_run(self, zone: Z, t_s: float) -> None:
        """Close the running zone interval at `t_s` and open one of `zone`."""
        if zone == self.run_zone:
            return
        if self.active:
            dur = t_s - self.run_start
            if self.run_zone == Z.IN_BAND:
                self._tally.times[Z.IN_BAND] += dur
            else:
                self._stretch.times[self.run_zone] += dur
            if zone == Z.IN_BAND:
                if self.out_since is not None:
                    self._tally.add(self._stretch)
                    self._stretch = _Tally()
                    self.out_since = None
            else:
                if self.out_since is None:
                    self.out_since, self._out_unknown = t_s, zone == Z.UNKNOWN
                self._stretch.enter(zone, self.run_zone)
        self.run_zone, self.run_start = zone, t_s

    def _begin(self, t_s: float, k: int | None, manual: bool) -> None:
        self.active, self.manual = True, manual
        self.index += 1
        self.start_t = t_s
        self.completed, self.completed_at = False, None
        self.pressure_steps = 0
        self._tally, self._stretch = _Tally(), _Tally()
        self._buf = []
        self._buf_from = k
        self.run_start = t_s
        self.out_since = None
        if self.run_zone != Z.IN_BAND:
            self.out_since, self._out_unknown = t_s, self.run_zone == Z.UNKNOWN
            self._stretch.enter(self.run_zone, Z.IN_BAND)
        contact = self._contact_t
        self._contact_to_band = None if manual or contact is None else t_s - contact

    def _keep(self, i0: int, i1: int) -> None:
        """Keep the samples [i0, i1) of the current stretch of samples for the hold's stats."""
        if self._seg is None or i1 <= i0:
            return
        t, f, centre = self._seg
        fs = f[i0:i1]
        self._buf.append((t[i0:i1], fs, fs - centre))

    def _end(self, t_end: float, reason: HoldEnd, keep: bool, upto: int | None) -> list[Event]:
        """Close the hold at `t_end`; `keep` counts the pending stretch, else it is dropped."""
        if keep:
            dur = t_end - self.run_start
            if dur > 0:
                if self.run_zone == Z.IN_BAND:
                    self._tally.times[Z.IN_BAND] += dur
                else:
                    self._stretch.times[self.run_zone] += dur
            self._tally.add(self._stretch)
            self.run_start = max(self.run_start, t_end)
        self._stretch = _Tally()
        if upto is not None and self._buf_from is not None:
            self._keep(self._buf_from, upto)
        self._buf_from = None
        # A cumulative hold released after leaving the band: the release ramp is not the
        # hold's steadiness, so the force statistics stop where the force last left the band.
        stats_end = (self.out_since if reason == HoldEnd.RELEASED and self.mode == "cumulative"
                     and self.out_since is not None else t_end)
        metrics = self._metrics(t_end, reason, stats_end)
        self.active, self.out_since = False, None
        self.last_in_band_s = metrics.in_band_s
        return [HoldEnded(t_end, self.index, reason, metrics.in_band_s, self.completed),
                HoldScored(t_end, self.index, metrics)]

    def _metrics(self, t_end: float, reason: HoldEnd, stats_end: float | None = None
                 ) -> HoldMetrics:
        if self._buf:
            t = np.concatenate([b[0] for b in self._buf])
            f = np.concatenate([b[1] for b in self._buf])
            d = np.concatenate([b[2] for b in self._buf])
            cut = int(np.searchsorted(t, t_end if stats_end is None else stats_end,
                                      side="left"))
            t, f, d = t[:cut], f[:cut], d[:cut]
        else:
            t = f = d = np.zeros(0)
        self._buf = []
        stats = force_stats(t, f, d)
        times = self._tally.times
        duration = t_end - self.start_t
        in_band = times[Z.IN_BAND]
        return HoldMetrics(
            index=self.index, start_s=self.start_t, end_s=t_end, ended_by=reason,
            manual=self.manual, completed=self.completed, completed_at_s=self.completed_at,
            target_s=self.target_s, in_band_s=in_band,
            in_band_pct=100.0 * in_band / duration if duration > 0 else 0.0,
            contact_to_band_s=self._contact_to_band,
            above_count=self._tally.above, above_s=times[Z.ABOVE] + times[Z.OVER],
            below_count=self._tally.below, below_s=times[Z.BELOW] + times[Z.NO_CONTACT],
            over_count=self._tally.over, over_s=times[Z.OVER], unknown_s=times[Z.UNKNOWN],
            pressure_steps=self.pressure_steps, samples=stats.samples, mean_n=stats.mean_n,
            sd_n=stats.sd_n, cv=stats.cv, rmse_n=stats.rmse_n, max_n=stats.max_n,
            drift_n_per_s=stats.drift_n_per_s,
        )
