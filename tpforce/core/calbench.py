"""The guided calibration bench: settled readings, the procedure's steps, the fit and its verdict.

Pure (numpy only): the caller feeds raw counts with their device times and tells the
procedure what the operator did (a mass placed, a creep test started); the procedure detects
when each reading has settled, checks every input, fits, and judges the result against
typical bar-cell figures and the project's acceptance limits (calibration/README.md).
Also: the zero check at the end of a hold, and the age of a record.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from tpforce.core.calfit import MAX_HYSTERESIS_PCT, MAX_NON_LINEARITY_PCT, MAX_ZERO_RETURN_PCT
from tpforce.core.events import ZeroChecked
from tpforce.core.protocol import CalRecord

G_STANDARD = 9.80665  # m/s^2
MIN_LOADS = 5  # distinct non-zero masses a calibration needs
WARMUP_S = 60.0
WARMUP_LIMIT_PCT_FS = 0.02  # zero may wander this much (of capacity) over the warm-up minute
WINDOW_S = 2.0  # a settled reading is the mean of this long a window
MAX_SETTLE_S = 30.0  # a reading that has not settled by then is refused as unstable
CREEP_S = 90.0
# the project's acceptance limits beyond those of calfit (calibration/README.md)
MAX_REPEATABILITY_PCT = 0.2
MAX_CREEP_PCT = 0.25  # drift over the creep test (a hold's length), % of the load
# typical figures of a bar (single-point) load cell's data sheet
TYPICAL_NON_LINEARITY_PCT = 0.05
TYPICAL_HYSTERESIS_PCT = 0.05
TYPICAL_CREEP_PCT_30MIN = 0.1
# the zero check after a hold: the smaller of the two limits applies
ZERO_DRIFT_LIMIT_N = 1.0
ZERO_DRIFT_LIMIT_PCT_FS = 1.0
DEFAULT_MAX_AGE_DAYS = 183  # about six months
# when the zero is read after a hold: the probe out of contact this long first, then a window
ZERO_SETTLE_S = 1.0
ZERO_WINDOW_S = 1.0
ZERO_MAX_WAIT_S = 10.0  # not at rest by then (after the release): reported as unchecked
ZERO_REST_SD_N = 0.02  # at rest: the window's SD within this (a touch on skin trembles more)
ZERO_MIN_SAMPLES = 8  # a window holds at least this many samples (longer for slow gauges)
_FEED_BLOCK = 1024  # samples converted to Python scalars at a time by ZeroWatch.feed


class BenchError(ValueError):
    """Input the procedure refuses; the message says what is wrong and what to do."""


class UnstableError(BenchError):
    """A reading did not settle in time."""


def noise_sd(raw: np.ndarray) -> float:
    """Sample-to-sample noise in counts, blind to a slow drift (SD of differences / sqrt 2)."""
    x = np.asarray(raw, dtype=np.float64)
    if len(x) < 3:
        return 0.0
    return float(np.std(np.diff(x)) / math.sqrt(2.0))


@dataclass(frozen=True, slots=True)
class Settled:
    """The mean of a window of counts judged to be at rest, and where it lies in device time."""

    mean_counts: float
    sd_counts: float
    n: int
    t_start_s: float
    t_end_s: float


class SettleDetector:
    """Finds the first window of `window_s` after `from_t_s` whose readings are at rest.

    At rest: the window's SD is within `sd_factor` times the noise, and (unless
    `check_drift` is off) its two halves agree within `drift_factor` standard errors.
    Raises UnstableError when `max_wait_s` of samples passed without such a window.
    """

    def __init__(self, rate_sps: float, noise_counts: float, from_t_s: float = -math.inf,
                 window_s: float = WINDOW_S, max_wait_s: float = MAX_SETTLE_S,
                 sd_factor: float = 1.3, drift_factor: float = 4.0,
                 check_drift: bool = True, ref_counts: float | None = None,
                 rel_drift_per_s: float = 5e-5) -> None:
        self.window = max(8, round(window_s * rate_sps))
        self.noise = max(noise_counts, 0.5)  # counts are whole: never demand less than that
        self.from_t_s = from_t_s
        self.max_wait_s = max_wait_s
        self.sd_factor = sd_factor
        self.drift_factor = drift_factor
        self.check_drift = check_drift
        # a load may creep: a drift below this fraction of (reading - ref) per second is rest
        self.ref_counts = ref_counts
        self.rel_drift_per_s = rel_drift_per_s
        self.rate_sps = rate_sps
        self._t = np.zeros(0)
        self._x = np.zeros(0)
        self._t0: float | None = None

    def feed(self, t_s: np.ndarray, raw: np.ndarray) -> Settled | None:
        """Add samples; the settled reading once there is one, else None."""
        keep = np.asarray(t_s) >= self.from_t_s
        t = np.asarray(t_s, dtype=np.float64)[keep]
        x = np.asarray(raw, dtype=np.float64)[keep]
        if len(t) == 0:
            return None
        if self._t0 is None:
            self._t0 = float(t[0])
        self._t = np.concatenate([self._t, t])[-4 * self.window:]
        self._x = np.concatenate([self._x, x])[-4 * self.window:]
        n = len(self._x)
        # try every window end in the new samples, oldest first, so the earliest rest counts
        for end in range(max(self.window, n - len(x) + 1), n + 1):
            w = self._x[end - self.window:end]
            if self._at_rest(w):
                return Settled(float(np.mean(w)), float(np.std(w)), len(w),
                               float(self._t[end - self.window]), float(self._t[end - 1]))
        waited = float(self._t[-1]) - self._t0
        if waited > self.max_wait_s:
            w = self._x[-self.window:]
            raise UnstableError(
                f"the reading did not settle in {self.max_wait_s:g} s (SD {np.std(w):.0f} "
                f"counts against a noise of {self.noise:.0f}): make sure the mass rests "
                "centred, nothing touches the probe or the stand, and there is no draught")
        return None

    def _at_rest(self, w: np.ndarray) -> bool:
        if not self.check_drift:  # a creeping reading: at rest once it is smooth about its trend
            k = np.arange(len(w), dtype=np.float64)
            slope, icpt = np.polyfit(k, w, 1)
            return float(np.std(w - (slope * k + icpt))) <= self.sd_factor * self.noise
        if float(np.std(w)) > self.sd_factor * self.noise:
            return False
        half = len(w) // 2
        diff = abs(float(np.mean(w[half:]) - np.mean(w[:half])))
        allowed = self.drift_factor * self.noise * 2.0 / math.sqrt(len(w))
        if self.ref_counts is not None:
            apart_s = half / self.rate_sps
            allowed = max(allowed, self.rel_drift_per_s * apart_s
                          * abs(float(np.mean(w)) - self.ref_counts))
        return diff <= allowed


@dataclass(frozen=True, slots=True)
class Warmup:
    """The warm-up minute: how far the zero wandered, and the noise."""

    wander_counts: float
    limit_counts: float
    noise_counts: float
    duration_s: float

    @property
    def stable(self) -> bool:
        """The zero stayed within the bound."""
        return self.wander_counts <= self.limit_counts


def warmup_check(t_s: np.ndarray, raw: np.ndarray, limit_counts: float) -> Warmup:
    """The range of the 1 s means of a no-load stream (a warm cell's zero is flat)."""
    t = np.asarray(t_s, dtype=np.float64)
    x = np.asarray(raw, dtype=np.float64)
    if len(t) < 16:
        raise BenchError("too few samples for the warm-up check: is the probe streaming?")
    bins = np.floor(t - t[0]).astype(np.int64)
    sums = np.bincount(bins, weights=x)
    counts = np.bincount(bins)
    means = sums[counts > 0] / counts[counts > 0]
    full = counts[counts > 0] >= max(2, int(0.5 * np.median(counts[counts > 0])))
    means = means[full]
    wander = float(np.ptp(means)) if len(means) else 0.0
    return Warmup(wander, limit_counts, noise_sd(x), float(t[-1] - t[0]))


@dataclass(frozen=True, slots=True)
class Reading:
    """One settled reading of a known mass."""

    mass_kg: float
    force_n: float
    direction: str  # "up" while loading, "down" while unloading; the tare is "up"
    cycle: int
    settled: Settled


@dataclass(frozen=True, slots=True)
class Creep:
    """A mass held: how far the reading moved between the first and the last window."""

    mass_kg: float
    load_n: float
    duration_s: float
    drift_n: float
    t_first_s: float
    t_last_s: float

    @property
    def drift_pct(self) -> float:
        """Drift in % of the load."""
        return 100.0 * self.drift_n / self.load_n

    @property
    def pct_per_30min(self) -> float:
        """The drift at the test's average rate over 30 min: an upper bound, creep slows down."""
        return self.drift_pct * 1800.0 / self.duration_s


class Phase(enum.Enum):
    """Where the procedure is."""

    WARMUP = "warm-up"
    TARE = "tare"
    READY = "ready"  # waiting for the operator's next mass
    READING = "reading"  # a mass is on; waiting for it to settle
    CREEP = "creep"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Check:
    """One figure against one limit."""

    name: str
    value: float
    limit: float
    unit: str
    advice: str

    @property
    def passed(self) -> bool:
        """Within the limit."""
        return abs(self.value) <= self.limit


@dataclass(frozen=True, slots=True)
class BenchResult:
    """The fit and the figures of a finished procedure."""

    zero_counts: float
    n_per_count: float  # linear fit through the tare
    poly: tuple[float, ...]  # the quadratic's (c1, c2) if asked for, else ()
    full_scale_n: float  # the largest load applied
    capacity_n: float
    readings: tuple[Reading, ...]
    residuals_n: tuple[float, ...]  # of the fit used, one per reading
    non_linearity_pct_fs: float  # cell: up/down mean against the terminal line
    fit_error_pct_fs: float  # the fit used: largest residual
    hysteresis_pct_fs: float
    zero_return_pct_fs: float
    repeatability_pct_fs: float | None  # None with a single cycle
    noise_counts: float
    warmup: Warmup | None
    creep: Creep | None
    sensitivity_counts_per_n: float  # terminal: tare to the top load on the way up

    @property
    def noise_n(self) -> float:
        """Noise, N RMS."""
        return self.noise_counts * abs(self.n_per_count)

    @property
    def count_n(self) -> float:
        """One count in newtons."""
        return abs(self.n_per_count)

    @property
    def noise_free_n(self) -> float:
        """Noise-free resolution (6.6 sigma peak to peak), N."""
        return 6.6 * self.noise_n

    def force_n(self, counts: np.ndarray | float) -> np.ndarray:
        """Force by the fit used (the quadratic if there is one)."""
        d = np.asarray(counts, dtype=np.float64) - self.zero_counts
        if self.poly:
            return d * (self.poly[0] + self.poly[1] * d)
        return d * self.n_per_count


@dataclass
class Verdict:
    """Acceptance (the project's limits) and comparison with typical bar-cell figures."""

    acceptance: list[Check] = field(default_factory=list)
    typical: list[Check] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """Every acceptance check passed."""
        return all(c.passed for c in self.acceptance)


class BenchProcedure:
    """The procedure as a state machine: warm-up, tare, masses up then down, optional creep.

    Feed every sample with `feed`; tell it what the operator did with `place` and `creep`.
    `feed` returns a Reading (or Creep) when one completes. `result` fits the readings.
    """

    def __init__(self, rate_sps: float, capacity_kg: float, g: float = G_STANDARD,
                 warmup_s: float = WARMUP_S, warmup_limit_pct: float = WARMUP_LIMIT_PCT_FS,
                 counts_per_n_hint: float | None = None, window_s: float = WINDOW_S,
                 max_settle_s: float = MAX_SETTLE_S, min_loads: int = MIN_LOADS) -> None:
        if not capacity_kg > 0:
            raise BenchError("give the cell's capacity in kg (above 0)")
        self.rate_sps = rate_sps
        self.capacity_kg = capacity_kg
        self.g = g
        self.warmup_s = warmup_s
        self.warmup_limit_pct = warmup_limit_pct
        self.counts_per_n_hint = counts_per_n_hint
        self.window_s = window_s
        self.max_settle_s = max_settle_s
        self.min_loads = min_loads
        self.phase = Phase.WARMUP if warmup_s > 0 else Phase.TARE
        self.readings: list[Reading] = []
        self.warmup: Warmup | None = None
        self.creep_result: Creep | None = None
        self.noise_counts = 0.0
        self.tare: Settled | None = None
        self._buf_t: list[np.ndarray] = []
        self._buf_x: list[np.ndarray] = []
        self._detector: SettleDetector | None = None
        self._pending: tuple[float, str] | None = None  # (mass, direction) being read
        self._direction = "up"
        self._cycle = 0
        self._creep: tuple[float, float, float, Settled | None] | None = None
        self._before = ("up", 0)

    @property
    def direction(self) -> str:
        """'up' while the masses go up, 'down' once they come down."""
        return self._direction

    def cancel(self) -> None:
        """Forget the mass being read (it did not settle, or was refused): ready for another."""
        if self.phase in (Phase.READING, Phase.CREEP):
            if self.phase is Phase.READING:
                self._direction, self._cycle = self._before
            self._pending = None
            self._creep = None
            self.phase = Phase.READY

    # -- operator events ------------------------------------------------------------------

    def place(self, mass_kg: float, from_t_s: float) -> str:
        """The operator says `mass_kg` rests on the probe from device time `from_t_s` on.

        Checks the order (up, then down, back to 0) and the capacity; returns the direction.
        """
        if self.phase is not Phase.READY:
            raise BenchError(f"a mass cannot be read now (the procedure is at {self.phase.value})")
        mass = self._valid_mass(mass_kg)
        last = self.readings[-1].mass_kg
        self._before = (self._direction, self._cycle)
        if self._direction == "up":
            if mass > last:
                direction = "up"
            elif mass < last and (mass == 0 or any(r.mass_kg == mass and r.cycle == self._cycle
                                                   for r in self.readings)):
                direction = "down"
            elif mass < last:
                raise BenchError(f"{mass:g} kg was not loaded on the way up; unload through "
                                 "the same masses you loaded")
            else:
                raise BenchError(f"{mass:g} kg again: the next mass must differ from the last")
        else:
            if last == 0.0 and mass > 0.0:
                self._cycle += 1
                direction = "up"
            elif mass < last:
                if mass > 0 and not any(r.mass_kg == mass and r.cycle == self._cycle
                                        and r.direction == "up" for r in self.readings):
                    raise BenchError(f"{mass:g} kg was not loaded on the way up; unload "
                                     "through the same masses you loaded")
                direction = "down"
            else:
                raise BenchError(f"masses out of order: {mass:g} kg after {last:g} kg while "
                                 "unloading; unload down to 0 kg first (masses go up, then down)")
        self._direction = direction
        self._pending = (mass, direction)
        assert self.tare is not None
        self._detector = SettleDetector(self.rate_sps, self.noise_counts, from_t_s,
                                        self.window_s, self.max_settle_s,
                                        ref_counts=self.tare.mean_counts)
        self.phase = Phase.READING
        return direction

    def creep(self, mass_kg: float, from_t_s: float, duration_s: float = CREEP_S) -> None:
        """The operator places `mass_kg` at `from_t_s` and leaves it for `duration_s`."""
        if self.phase is not Phase.READY or not self._back_at_zero():
            raise BenchError("the creep test comes after the masses, with the probe unloaded")
        mass = self._valid_mass(mass_kg)
        if mass <= 0:
            raise BenchError("the creep test needs a mass above 0 kg (the largest you have)")
        if not 10.0 <= duration_s <= 3600.0:
            raise BenchError("hold the creep mass between 10 s and 1 h (60-90 s is usual)")
        self._creep = (mass, from_t_s, duration_s, None)
        self._detector = SettleDetector(self.rate_sps, self.noise_counts, from_t_s,
                                        self.window_s, self.max_settle_s, check_drift=False)
        self.phase = Phase.CREEP

    # -- samples --------------------------------------------------------------------------

    def feed(self, t_s: np.ndarray, raw: np.ndarray) -> Warmup | Reading | Creep | None:
        """Add samples; returns the step they completed, if any."""
        if len(t_s) == 0 or self.phase in (Phase.READY, Phase.DONE):
            return None
        if self.phase is Phase.WARMUP:
            return self._feed_warmup(np.asarray(t_s, float), np.asarray(raw, float))
        if self.phase is Phase.TARE:
            if self._detector is None:
                if self.noise_counts <= 0:  # no warm-up: the noise of a first window
                    self._buf_t.append(np.asarray(t_s, float))
                    self._buf_x.append(np.asarray(raw, float))
                    x_all = np.concatenate(self._buf_x)
                    if len(x_all) < max(8, round(self.window_s * self.rate_sps)):
                        return None
                    t_s, raw = np.concatenate(self._buf_t), x_all
                    self._buf_t, self._buf_x = [], []
                    self.noise_counts = noise_sd(raw)
                self._detector = SettleDetector(self.rate_sps, self.noise_counts,
                                                window_s=self.window_s,
                                                max_wait_s=self.max_settle_s)
            got = self._detector.feed(t_s, raw)
            if got is None:
                return None
            self.tare = got
            self.readings.append(Reading(0.0, 0.0, "up", 0, got))
            self.phase = Phase.READY
            return self.readings[-1]
        if self.phase is Phase.READING:
            assert self._detector is not None and self._pending is not None
            got = self._detector.feed(t_s, raw)
            if got is None:
                return None
            mass, direction = self._pending
            self._check_reading(mass, got)
            reading = Reading(mass, mass * self.g, direction, self._cycle, got)
            self.readings.append(reading)
            self._pending = None
            self.phase = Phase.READY
            return reading
        return self._feed_creep(np.asarray(t_s, float), np.asarray(raw, float))

    def _feed_warmup(self, t: np.ndarray, x: np.ndarray) -> Warmup | None:
        self._buf_t.append(t)
        self._buf_x.append(x)
        t_all = np.concatenate(self._buf_t)
        if t_all[-1] - t_all[0] < self.warmup_s:
            return None
        x_all = np.concatenate(self._buf_x)
        self._buf_t, self._buf_x = [], []
        span = self._capacity_counts() * self.warmup_limit_pct / 100.0
        w = warmup_check(t_all, x_all, span if span > 0 else math.inf)
        self.warmup = w
        if self._capacity_counts() > 0 and not w.stable:
            raise BenchError(
                f"the zero moved {w.wander_counts:.0f} counts in {w.duration_s:.0f} s (limit "
                f"{w.limit_counts:.0f}, {self.warmup_limit_pct:g} % of capacity): let the probe "
                "warm up longer (10 min powered), keep it out of draughts and sun, then run again")
        self.noise_counts = w.noise_counts
        self.phase = Phase.TARE
        return w

    def _feed_creep(self, t: np.ndarray, x: np.ndarray) -> Creep | None:
        assert self._creep is not None and self._detector is not None
        mass, t0, duration, first = self._creep
        if first is None:
            first = self._detector.feed(t, x)
            if first is None:
                return None
            self._creep = (mass, t0, duration, first)
            self._buf_t, self._buf_x = [], []
        keep = t > first.t_end_s
        self._buf_t.append(t[keep])
        self._buf_x.append(x[keep])
        t_all = np.concatenate(self._buf_t)
        if len(t_all) == 0 or t_all[-1] < t0 + duration:
            return None
        x_all = np.concatenate(self._buf_x)
        last = (t_all > t0 + duration - self.window_s) & (t_all <= t0 + duration)
        if last.sum() < 4:
            raise BenchError("too few samples at the end of the creep test: is it streaming?")
        n_per_count = self._slope_hint()
        load = mass * self.g
        drift_n = (float(np.mean(x_all[last])) - first.mean_counts) * n_per_count
        t_first = 0.5 * (first.t_start_s + first.t_end_s)
        t_last = 0.5 * (float(t_all[last][0]) + float(t_all[last][-1]))
        self.creep_result = Creep(mass, load, t_last - t_first, drift_n, t_first, t_last)
        self._buf_t, self._buf_x = [], []
        self.phase = Phase.READY
        return self.creep_result

    # -- checks ---------------------------------------------------------------------------

    def _valid_mass(self, mass_kg: float) -> float:
        mass = float(mass_kg)
        if not math.isfinite(mass) or mass < 0:
            raise BenchError(f"{mass_kg!r} is not a mass: give kilograms, 0 or more")
        if mass > self.capacity_kg:
            raise BenchError(f"{mass:g} kg is beyond the cell's capacity of "
                             f"{self.capacity_kg:g} kg: it could damage it; use a smaller mass")
        return mass

    def _capacity_counts(self) -> float:
        if self.counts_per_n_hint:
            return abs(self.counts_per_n_hint) * self.capacity_kg * self.g
        return 0.0

    def _slope_hint(self) -> float:
        """Newtons per count from the readings so far (for the creep test)."""
        loaded = [r for r in self.readings if r.mass_kg > 0]
        if not loaded or self.tare is None:
            if self.counts_per_n_hint:
                return 1.0 / self.counts_per_n_hint
            raise BenchError("read the masses before the creep test (its drift needs the scale)")
        d = np.array([r.settled.mean_counts - self.tare.mean_counts for r in loaded])
        f = np.array([r.force_n for r in loaded])
        return float(np.dot(d, f) / np.dot(d, d))

    def _check_reading(self, mass: float, got: Settled) -> None:
        """A reading that contradicts the ones before is refused, never fitted."""
        assert self.tare is not None
        d = got.mean_counts - self.tare.mean_counts
        loaded = [r for r in self.readings if r.mass_kg > 0]
        if mass > 0 and abs(d) < 20 * max(self.noise_counts, 1.0):
            raise BenchError(f"{mass:g} kg gives no reading above the noise: is the mass on "
                             "the tip, the cell wired, the right probe connected?")
        if not loaded or mass == 0:
            return
        ref = loaded[-1]
        d_ref = ref.settled.mean_counts - self.tare.mean_counts
        expect = d_ref * mass / ref.mass_kg
        if abs(d - expect) > 0.1 * abs(expect) + 20 * max(self.noise_counts, 1.0):
            raise BenchError(
                f"{mass:g} kg reads {d:.0f} counts above zero where {ref.mass_kg:g} kg read "
                f"{d_ref:.0f}: more than 10 % off a straight line. Check the mass's value, that "
                "it rests only on the tip, then place it again")

    def _back_at_zero(self) -> bool:
        return self._direction == "down" and self.readings[-1].mass_kg == 0.0

    # -- the fit --------------------------------------------------------------------------

    def result(self, quadratic: bool = False) -> BenchResult:
        """Fit the readings; BenchError if they cannot give a calibration one can trust."""
        if self.phase is not Phase.READY or self.tare is None:
            raise BenchError("the procedure is not finished: tare, then masses up and down")
        loads = sorted({r.mass_kg for r in self.readings if r.mass_kg > 0})
        if len(loads) < self.min_loads:
            raise BenchError(f"{len(loads)} different masses read; a calibration needs at least "
                             f"{self.min_loads} above 0 kg, spread over the working range")
        if not self._back_at_zero():
            raise BenchError("unload down to 0 kg to finish: the readings on the way down give "
                             "the hysteresis and the zero return")
        self.phase = Phase.DONE
        return fit_readings(self.readings, self.tare, self.noise_counts,
                            self.capacity_kg * self.g, quadratic, self.warmup, self.creep_result)


def fit_readings(readings: list[Reading], tare: Settled, noise_counts: float,
                 capacity_n: float, quadratic: bool = False, warmup: Warmup | None = None,
                 creep: Creep | None = None) -> BenchResult:
    """Least squares through the tare (linear, or quadratic) and the cell's figures, % FS."""
    zero = tare.mean_counts
    d = np.array([r.settled.mean_counts - zero for r in readings])
    f = np.array([r.force_n for r in readings])
    if not np.all(np.isfinite(d)) or np.ptp(d) == 0:
        raise BenchError("the readings do not span a range of counts: check the wiring")
    slope = float(np.dot(d, f) / np.dot(d, d))
    poly: tuple[float, ...] = ()
    fitted = slope * d
    if quadratic:
        coef, *_ = np.linalg.lstsq(np.vstack([d, d * d]).T, f, rcond=None)
        poly = (float(coef[0]), float(coef[1]))
        fitted = d * (poly[0] + poly[1] * d)
    fs = float(np.max(np.abs(f)))
    residuals = f - fitted
    cycles = sorted({r.cycle for r in readings})
    # the cell's own figures, each cycle against its own terminal line, in newtons
    nonlin, hyst, zret = 0.0, 0.0, 0.0
    per_mass: dict[tuple[float, str], list[float]] = {}
    g = _g(readings)
    first_up = [r for r in readings if r.cycle == cycles[0] and r.direction == "up"]
    top_r = max(first_up, key=lambda r: r.mass_kg)
    sensitivity = (top_r.settled.mean_counts - zero) / top_r.force_n if top_r.force_n else 0.0
    for c in cycles:
        rs = [r for r in readings if r.cycle == c]
        up = {r.mass_kg: r.settled.mean_counts for r in rs if r.direction == "up"}
        down = {r.mass_kg: r.settled.mean_counts for r in rs if r.direction == "down"}
        for r in rs:
            per_mass.setdefault((r.mass_kg, r.direction), []).append(r.settled.mean_counts)
        top = max(up)
        if top <= 0:
            continue
        line = (up[top] - zero) / (top * g)  # counts per newton, zero to the top load
        for m in set(up) | set(down):
            mean = float(np.mean([v for v in (up.get(m), down.get(m)) if v is not None]))
            nonlin = max(nonlin, abs((mean - zero) / line - m * g))
            if m in up and m in down and m not in (0.0, top):
                hyst = max(hyst, abs(down[m] - up[m]) / abs(line))
        if 0.0 in down:
            zret = max(zret, abs(down[0.0] - zero) * abs(slope))
    repeat: float | None = None
    spreads = [np.ptp(v) for v in per_mass.values() if len(v) > 1]
    if len(cycles) > 1 and spreads:
        repeat = 100.0 * float(max(spreads)) * abs(slope) / fs
    return BenchResult(
        zero, slope, poly, fs, capacity_n, tuple(readings), tuple(float(v) for v in residuals),
        100.0 * nonlin / fs, 100.0 * float(np.max(np.abs(residuals))) / fs, 100.0 * hyst / fs,
        100.0 * zret / fs, repeat, noise_counts, warmup, creep, sensitivity)


def _g(readings: list[Reading]) -> float:
    """The gravity the readings were made with (force / mass of any loaded reading)."""
    for r in readings:
        if r.mass_kg > 0:
            return r.force_n / r.mass_kg
    return G_STANDARD


def verdict(result: BenchResult) -> Verdict:
    """Each figure against the project's acceptance limit and against a typical bar cell."""
    v = Verdict()
    v.acceptance += [
        Check("fit error", result.fit_error_pct_fs, MAX_NON_LINEARITY_PCT, "% FS",
              "check each mass's value and that it rests only on the tip; try --quadratic; "
              "a cell that stays non-linear is overloaded or bent: replace it"),
        Check("hysteresis", result.hysteresis_pct_fs, MAX_HYSTERESIS_PCT, "% FS",
              "re-seat the cell: a loose screw, or the tip rubbing its housing; then repeat"),
        Check("zero return", result.zero_return_pct_fs, MAX_ZERO_RETURN_PCT, "% FS",
              "let the probe warm up longer and keep each mass on only as long as asked"),
    ]
    if result.warmup is not None and result.capacity_n > 0:
        wander = 100.0 * result.warmup.wander_counts * abs(result.n_per_count) / result.capacity_n
        v.acceptance.append(Check("zero wander in the warm-up", wander, WARMUP_LIMIT_PCT_FS,
                                  "% of capacity", "let the probe warm up longer (10 min "
                                                   "powered), away from draughts and sun"))
    if result.repeatability_pct_fs is not None:
        v.acceptance.append(Check("repeatability", result.repeatability_pct_fs,
                                  MAX_REPEATABILITY_PCT, "% FS",
                                  "centre each mass the same way; make the stand rigid and level"))
    if result.creep is not None:
        v.acceptance.append(Check(
            f"creep over {result.creep.duration_s:.0f} s", result.creep.drift_pct, MAX_CREEP_PCT,
            "% of load", "a hold's numbers drift with the cell: look for glue or plastic "
                         "in the load path; re-tare before each hold; else replace the cell"))
        v.typical.append(Check("creep (at the test's rate, an upper bound)",
                               result.creep.pct_per_30min, TYPICAL_CREEP_PCT_30MIN,
                               "% / 30 min", "creep slows down, so this overstates it: hold a "
                                             "mass for 30 min (--creep-s 1800) to measure it"))
    v.typical += [
        Check("non-linearity", result.non_linearity_pct_fs, TYPICAL_NON_LINEARITY_PCT, "% FS",
              "above a bar cell's data sheet: the cell is strained or mounted off-axis"),
        Check("hysteresis", result.hysteresis_pct_fs, TYPICAL_HYSTERESIS_PCT, "% FS",
              "above a bar cell's data sheet: check the mounting screws"),
    ]
    return v


# -- words ----------------------------------------------------------------------------------


def reading_line(r: Reading, placed_t_s: float) -> str:
    """One settled reading as the terminal and the dialog show it."""
    s = r.settled
    return (f"{r.mass_kg:7.3f} kg {r.direction:4s} {s.mean_counts:12.1f} counts (SD "
            f"{s.sd_counts:5.1f}) settled {s.t_start_s - placed_t_s:4.1f} s after placing")


def report_lines(result: BenchResult) -> list[str]:
    """The fit, the figures and the verdict, line by line (calibration/README.md, step 7)."""
    out = [f"fit through the tare: zero {result.zero_counts:.1f} counts, "
           f"{result.n_per_count:.6e} N/count" + (
               f", quadratic c2 {result.poly[1]:.3e} N/count^2" if result.poly else ""),
           "  mass kg  dir   force N   residual N"]
    for r, res in zip(result.readings, result.residuals_n, strict=True):
        out.append(f"  {r.mass_kg:7.3f}  {r.direction:4s} {r.force_n:8.3f}   {res:+.4f}")
    rep = (f"{result.repeatability_pct_fs:.3f} % FS" if result.repeatability_pct_fs is not None
           else "not measured (one cycle)")
    out.append(f"full scale {result.full_scale_n:.2f} N: non-linearity "
               f"{result.non_linearity_pct_fs:.3f} % FS, fit error "
               f"{result.fit_error_pct_fs:.3f} % FS, hysteresis {result.hysteresis_pct_fs:.3f} "
               f"% FS, zero return {result.zero_return_pct_fs:.3f} % FS, repeatability {rep}")
    out.append(f"noise {result.noise_n:.4f} N RMS; resolution {result.count_n:.2e} N per "
               f"count, {result.noise_free_n:.3f} N noise-free")
    if result.creep is not None:
        c = result.creep
        out.append(f"creep {c.drift_n:+.4f} N, {c.drift_pct:+.3f} % of the load in "
                   f"{c.duration_s:.0f} s, {c.pct_per_30min:+.3f} % per 30 min at that rate")
    v = verdict(result)
    for check in v.acceptance:
        mark = "pass" if check.passed else "FAIL"
        out.append(f"  acceptance {mark}: {check.name} {check.value:.3f} {check.unit} "
                   f"(limit {check.limit:g})" + ("" if check.passed else f": {check.advice}"))
    for check in v.typical:
        mark = "meets" if check.passed else "above"
        out.append(f"  bar-cell typical {mark}: {check.name} {check.value:.3f} {check.unit} "
                   f"(typical {check.limit:g})" + ("" if check.passed else f": {check.advice}"))
    return out


def batch_problem(flags: np.ndarray) -> str:
    """Why samples cannot go on into the procedure ("" if they can): a restart, saturation."""
    from tpforce.core.samples import SampleFlag

    if np.any(flags & SampleFlag.RESET_BEFORE):
        return "the probe restarted during the procedure: start again"
    if np.any(flags & SampleFlag.SATURATED):
        return "the ADC saturated: the load is beyond what the cell reads; use smaller masses"
    return ""


# -- records --------------------------------------------------------------------------------


def build_record(result: BenchResult, serial: str, operator: str, when: datetime,
                 tip_area_mm2: int = 100, gain: int = 0) -> dict[str, object]:
    """The JSON record (calibration/README.md) of a finished procedure."""
    if not serial or len(serial.encode("ascii", "replace")) > 8:
        raise BenchError(f"probe serial {serial!r} must be 1 to 8 ASCII characters")
    g = _g(list(result.readings))
    v = verdict(result)
    record: dict[str, object] = {
        "serial": serial,
        "zero_counts": round(result.zero_counts),
        "n_per_count": result.n_per_count,
        "tip_area_mm2": tip_area_mm2,
        "gain": gain,
        "calibrated_utc": when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "g_m_per_s2": g,
        "capacity_kg": result.capacity_n / g,
        "points": [
            {"mass_kg": r.mass_kg, "force_n": r.force_n,
             "mean_counts": round(r.settled.mean_counts, 1),
             "sd_counts": round(r.settled.sd_counts, 1), "direction": r.direction,
             "cycle": r.cycle, "residual_n": round(res, 6)}
            for r, res in zip(result.readings, result.residuals_n, strict=True)
        ],
        "checks": {
            "non_linearity_pct_fs": round(result.non_linearity_pct_fs, 4),
            "fit_error_pct_fs": round(result.fit_error_pct_fs, 4),
            "hysteresis_pct_fs": round(result.hysteresis_pct_fs, 4),
            "zero_return_pct_fs": round(result.zero_return_pct_fs, 4),
            "repeatability_pct_fs": None if result.repeatability_pct_fs is None
            else round(result.repeatability_pct_fs, 4),
            "noise_n_rms": round(result.noise_n, 6),
            "count_n": result.count_n,
            "noise_free_resolution_n": round(result.noise_free_n, 6),
        },
        "accepted": v.accepted,
        "by": operator,
    }
    if result.poly:
        record["poly"] = list(result.poly)
    if result.creep is not None:
        c = result.creep
        record["creep"] = {"mass_kg": c.mass_kg, "duration_s": round(c.duration_s, 2),
                           "drift_n": round(c.drift_n, 6), "drift_pct": round(c.drift_pct, 4),
                           "pct_per_30min": round(c.pct_per_30min, 4)}
    if result.warmup is not None:
        record["warmup"] = {"duration_s": round(result.warmup.duration_s, 1),
                            "zero_wander_counts": round(result.warmup.wander_counts, 1)}
    return record


def eeprom_record(record: Mapping[str, object]) -> CalRecord:
    """The probe's EEPROM record (the linear fit; a quadratic stays in the JSON file)."""
    when = datetime.fromisoformat(str(record["calibrated_utc"]).replace("Z", "+00:00"))
    num: Mapping[str, Any] = record
    return CalRecord(1, int(num["zero_counts"]), float(num["n_per_count"]),
                     int(num.get("tip_area_mm2", 100)), int(when.timestamp()),
                     str(num["serial"]), int(num.get("gain", 0)))


def check_serial(record_serial: str, probe_serial: str) -> None:
    """BenchError if a record belongs to another probe."""
    if record_serial != probe_serial:
        raise BenchError(f"the record is for probe {record_serial}, but the probe connected is "
                         f"{probe_serial}; use its own record or calibrate it")


@dataclass(frozen=True, slots=True)
class Expiry:
    """How old a record is and whether it is past its time."""

    age_days: float
    expired: bool
    message: str


def record_expiry(calibrated_utc: str, now: datetime | None = None,
                  max_age_days: float = DEFAULT_MAX_AGE_DAYS) -> Expiry:
    """The age of a record; a record with no readable date counts as expired."""
    now = now or datetime.now(timezone.utc)
    try:
        when = datetime.fromisoformat(calibrated_utc.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return Expiry(math.inf, True, f"the calibration date {calibrated_utc!r} cannot be read: "
                                      "recalibrate the probe (tpforce calibrate)")
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    age = (now - when).total_seconds() / 86400.0
    if age < -1.0:
        return Expiry(age, True, f"the calibration is dated {calibrated_utc}, in the future: "
                                 "check the computer's clock, or recalibrate")
    if age > max_age_days:
        return Expiry(age, True, f"the calibration is {age:.0f} days old (limit "
                                 f"{max_age_days:g}): recalibrate the probe (tpforce calibrate)")
    return Expiry(age, False, f"calibrated {age:.0f} days ago")


# -- the zero after a hold --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ZeroCheck:
    """The zero at release against the tare."""

    drift_n: float
    drift_pct_fs: float
    limit_n: float
    at_rest: bool
    exceeded: bool
    message: str


def zero_limit_n(full_scale_n: float, limit_n: float = ZERO_DRIFT_LIMIT_N,
                 limit_pct_fs: float = ZERO_DRIFT_LIMIT_PCT_FS) -> float:
    """The zero drift allowed: the smaller of `limit_n` and `limit_pct_fs` of full scale."""
    return min(limit_n, abs(full_scale_n) * limit_pct_fs / 100.0)


def zero_check(tare_counts: float, rest_counts: np.ndarray, n_per_count: float,
               full_scale_n: float, noise_counts: float | None = None,
               limit_n: float = ZERO_DRIFT_LIMIT_N,
               limit_pct_fs: float = ZERO_DRIFT_LIMIT_PCT_FS,
               reference: str = "the tare") -> ZeroCheck:
    """Compare the probe's zero after a release with the tare; beyond the limit, re-tare.

    `rest_counts` is a window with the probe at rest after the release. With `noise_counts`
    given, a window that is not at rest (SD over 3x the noise) is reported as unchecked.
    `reference` names the zero compared against in the message.
    """
    x = np.asarray(rest_counts, dtype=np.float64)
    limit = zero_limit_n(full_scale_n, limit_n, limit_pct_fs)
    if len(x) == 0:
        return ZeroCheck(math.nan, math.nan, limit, False, False,
                         "zero not checked: no samples after the release")
    if noise_counts is not None and float(np.std(x)) > 3.0 * max(noise_counts, 0.5):
        return ZeroCheck(math.nan, math.nan, limit, False, False,
                         "zero not checked: the probe was not at rest after the release")
    drift = (float(np.mean(x)) - tare_counts) * n_per_count
    pct = 100.0 * drift / abs(full_scale_n) if full_scale_n else math.nan
    if abs(drift) > limit:
        return ZeroCheck(drift, pct, limit, True, True,
                         f"zero moved {drift:+.2f} N from {reference} (limit {limit:.2f} N): "
                         "re-tare with the probe at rest; this hold's forces carry that error")
    return ZeroCheck(drift, pct, limit, True, False, f"zero within {limit:.2f} N ({drift:+.2f} N)")


class ZeroWatch:
    """After each hold, waits for the probe to come to rest and checks its zero (`zero_check`).

    Pure and independent of how the stream is cut into batches: it steps sample by sample,
    and windows are placed by sample time. At rest means every sample of a `window_s` window,
    starting `settle_s` after the force fell below contact, is below contact, with an SD
    within `rest_sd_n` and halves that agree within 4 standard errors (still, not creeping). A
    press, a gap, or `max_wait_s` without rest gives an unchecked result, never a judgement.
    """

    def __init__(self, contact_n: float, full_scale_n: float, rest_sd_n: float = ZERO_REST_SD_N,
                 settle_s: float = ZERO_SETTLE_S, window_s: float = ZERO_WINDOW_S,
                 max_wait_s: float = ZERO_MAX_WAIT_S) -> None:
        self.contact_n = contact_n
        self.full_scale_n = full_scale_n
        self.rest_sd_n = rest_sd_n
        self.settle_s = settle_s
        self.window_s = window_s
        self.max_wait_s = max_wait_s
        self.tared = False  # the zero in force is a tare (else the calibration's own)
        self._pending: tuple[int, float] | None = None  # (hold index, end time)
        self._rest_since: float | None = None
        self._win_t0: float | None = None
        self._win: list[float] = []

    @property
    def pending(self) -> bool:
        """A hold has ended and its zero is not decided yet."""
        return self._pending is not None

    def arm(self, index: int, t_end_s: float) -> list[ZeroChecked]:
        """Hold `index` ended at `t_end_s`: check the zero once the probe rests after it."""
        out = self._give_up(t_end_s, "the probe was not released before the next hold ended")
        self._pending = (index, t_end_s)
        self._restart()
        return out

    def on_tare(self, t_s: float) -> list[ZeroChecked]:
        """A tare was taken: the zero is fresh, so a pending check has nothing to judge."""
        self.tared = True
        return self._give_up(t_s, "re-tared before the probe had settled")

    def on_gap(self) -> None:
        """Data were lost: a rest window cannot span the gap."""
        self._restart()

    def feed(self, t: np.ndarray, f: np.ndarray, gap: np.ndarray) -> list[ZeroChecked]:
        """Step over calibrated samples (raw force, N; `gap`: data lost before the sample)."""
        if self._pending is None or len(t) == 0:
            return []
        start = int(np.searchsorted(t, self._pending[1], side="right"))
        if self._rest_since is None:  # still pressing: skip to the release, vectorised
            with np.errstate(invalid="ignore"):
                free = np.flatnonzero(f[start:] < self.contact_n)
            if len(free) == 0:
                return []
            start += int(free[0])
        out: list[ZeroChecked] = []
        for ti, fi, gi in _samples(t, f, gap, start):
            if self._pending is None:
                break
            at_rest = fi == fi and fi < self.contact_n
            if self._rest_since is not None and not at_rest and fi == fi:
                out += self._give_up(ti, "the probe was pressed again before it had settled")
                break
            if gi or not at_rest:
                self._restart()
                if not at_rest:
                    continue
            if self._rest_since is None:
                self._rest_since = ti
            if ti - self._rest_since > self.max_wait_s:
                out += self._give_up(ti, f"the probe was not at rest within "
                                         f"{self.max_wait_s:g} s of the release")
                break
            if ti < self._rest_since + self.settle_s:
                continue
            if self._win_t0 is None:
                self._win_t0, self._win = ti, [fi]
            elif ti < self._win_t0 + self.window_s or len(self._win) < ZERO_MIN_SAMPLES:
                self._win.append(fi)  # a slow gauge's window lasts until it holds enough
            else:
                x = np.array(self._win)
                if self._settled(x):
                    out.append(self._judge(ti, x))
                    break
                self._win_t0, self._win = ti, [fi]
        return out

    def _settled(self, x: np.ndarray) -> bool:
        noise = max(noise_sd(x), 1e-6)
        half = len(x) // 2
        diff = abs(float(np.mean(x[half:]) - np.mean(x[:half])))
        return float(np.std(x)) <= self.rest_sd_n and diff <= 4.0 * noise * 2.0 / math.sqrt(len(x))

    def _judge(self, t_s: float, x: np.ndarray) -> ZeroChecked:
        assert self._pending is not None
        index = self._pending[0]
        self._pending = None
        ref = "the tare" if self.tared else "the calibration's zero (not tared)"
        z = zero_check(0.0, x, 1.0, self.full_scale_n, reference=ref)
        return ZeroChecked(t_s, index, True, z.drift_n, z.limit_n, z.exceeded, self.tared,
                           z.message)

    def _give_up(self, t_s: float, why: str) -> list[ZeroChecked]:
        if self._pending is None:
            return []
        index = self._pending[0]
        self._pending = None
        return [ZeroChecked(t_s, index, False, None,
                            zero_limit_n(self.full_scale_n), False, self.tared,
                            f"zero not checked after hold {index}: {why}")]

    def _restart(self) -> None:
        self._rest_since, self._win_t0, self._win = None, None, []


def _samples(t: np.ndarray, f: np.ndarray, gap: np.ndarray, start: int
             ) -> Iterator[tuple[float, float, bool]]:
    """(time, force, gap) from `start` on, as Python scalars, converted a block at a time:
    the watch usually decides within a few seconds, so a replay's hour-long batch is never
    converted whole."""
    for i in range(start, len(t), _FEED_BLOCK):
        j = i + _FEED_BLOCK
        yield from zip(t[i:j].tolist(), f[i:j].tolist(), gap[i:j].tolist(), strict=True)
