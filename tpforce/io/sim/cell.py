"""A simulated load cell with the faults a bench must find: scale, offset, non-linearity,
hysteresis, noise and creep, and a bench mode in which a requested mass is placed on it.

The reading, in newtons before the ADC, is

    F + nl(F) + s * h(F) + creep + settling

with x = F / capacity, nl(F) = NL * FS * 4x(1-x) (0 at no load and at capacity, NL at half),
h(F) = H/2 * FS * 4x(1-x) on the branch s = -1 while loading and +1 while unloading (so the
two branches differ by H at half capacity), creep a first-order lag towards k*F with time
constant tau (k chosen so that a constant load creeps `creep_pct_30min` % in 30 min), and a
decaying ring after each placed mass. Counts are `zero + counts_per_n * reading + noise`.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

G = 9.80665
FULL_SCALE = 1 << 23
RING_FRACTION = 0.03  # a placed mass rings at 3 % of its weight ...
RING_HZ = 8.0  # ... at 8 Hz ...
RING_TAU_S = 0.25  # ... dying away with this time constant
DIRECTION_DEADBAND_N = 0.05  # the hand's force must move this much to switch branches


@dataclass(frozen=True, slots=True)
class CellParams:
    """The cell's true parameters (the defaults are the built-in probe's ideal 10 kg cell)."""

    zero_counts: int = 8_400
    counts_per_n: float = 42_000.0
    capacity_kg: float = 10.0
    non_linearity_pct: float = 0.0  # % FS, at half capacity
    hysteresis_pct: float = 0.0  # % FS, up/down difference at half capacity
    noise_counts: float = 40.0  # RMS
    creep_pct_30min: float = 0.0  # % of a constant load, after 30 min
    creep_tau_s: float = 300.0

    @property
    def capacity_n(self) -> float:
        """Capacity in newtons."""
        return self.capacity_kg * G

    def shape(self, force_n: np.ndarray) -> np.ndarray:
        """4x(1-x), x = F / capacity: the bow of non-linearity and hysteresis."""
        x = np.asarray(force_n, dtype=np.float64) / self.capacity_n
        return 4.0 * x * (1.0 - x)

    @property
    def creep_gain(self) -> float:
        """k: the fraction of a load the creep tends to, for creep_pct_30min after 30 min."""
        return self.creep_pct_30min / 100.0 / (1.0 - math.exp(-1800.0 / self.creep_tau_s))

    def creep_n(self, load_n: float, since_s: float) -> float:
        """Creep of a load applied `since_s` ago on a cell with no creep before."""
        return self.creep_gain * load_n * (1.0 - math.exp(-since_s / self.creep_tau_s))


class SimCell:
    """The cell model a SimProbe turns forces into counts with; `place` drives bench mode.

    In bench mode the hand's force is ignored and the placed mass's weight bears on the cell.
    `place` may be called from any thread; `wait_placed` says from which device time on the
    samples carry that mass.
    """

    def __init__(self, params: CellParams | None = None, bench: bool = False) -> None:
        self.params = params or CellParams()
        self.bench = bench
        self._lock = threading.Condition()
        self._mass_kg = 0.0
        self._pending: float | None = None
        self._ticket = 0
        self._applied = 0
        self._placed_at = 0.0
        self._ring_from = math.inf  # no mass placed yet: no ring
        self._ring_step_n = 0.0
        self._creep_n = 0.0
        self._branch = -1.0  # loading
        self._last_force = 0.0
        self._last_t: float | None = None
        self._clock = 0.0
        self._creep_clock: float | None = None

    @property
    def zero_counts(self) -> int:
        """Counts at no load (for the probe's factory record)."""
        return self.params.zero_counts

    @property
    def counts_per_n(self) -> float:
        """Counts per newton."""
        return self.params.counts_per_n

    def place(self, mass_kg: float) -> int:
        """Put `mass_kg` on the cell (replacing what was there); returns a ticket to wait on."""
        with self._lock:
            self._pending = float(mass_kg)
            self._ticket += 1
            return self._ticket

    def wait_placed(self, ticket: int, timeout: float = 10.0) -> float:
        """The device time of the first sample made with the mass of `ticket`."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._applied >= ticket, timeout):
                raise TimeoutError("the simulated probe made no samples: is it streaming?")
            return self._placed_at

    def counts(self, force_n: np.ndarray, rng: np.random.Generator,
               t_s: np.ndarray | None = None) -> np.ndarray:
        """Raw counts for forces at device times `t_s`, clipped to the 24-bit range."""
        n = len(force_n)
        t = np.asarray(t_s, dtype=np.float64) if t_s is not None else np.arange(n) / 80.0
        p = self.params
        clock = self._physical_time(t)
        with self._lock:
            if self._pending is not None and n:
                step = (self._pending - self._mass_kg) * G
                self._mass_kg = self._pending
                self._pending = None
                self._ring_from, self._ring_step_n = float(clock[0]), step
                self._placed_at = float(t[0])
                self._applied = self._ticket
                self._lock.notify_all()
            mass = self._mass_kg
        force = np.full(n, mass * G) if self.bench else np.asarray(force_n, dtype=np.float64)
        reading = force + (p.non_linearity_pct / 100.0 * p.capacity_n) * p.shape(force)
        reading += self._hysteresis(force)
        reading += self._creep(force, clock)
        since = clock - self._ring_from
        ring = since >= 0 if self.bench else np.zeros(n, dtype=bool)
        reading[ring] += (RING_FRACTION * self._ring_step_n * np.exp(-since[ring] / RING_TAU_S)
                          * np.cos(2 * np.pi * RING_HZ * since[ring]))
        c = p.zero_counts + reading * p.counts_per_n + rng.normal(0.0, p.noise_counts, n)
        return np.clip(np.rint(c), -FULL_SCALE, FULL_SCALE - 1).astype(np.int64)

    def _hysteresis(self, force: np.ndarray) -> np.ndarray:
        """The up or down branch, switching where the load turns."""
        p = self.params
        if p.hysteresis_pct == 0.0:
            return np.zeros(len(force))
        branch = np.empty(len(force))
        last, sign = self._last_force, self._branch
        for i, f in enumerate(force.tolist()):
            if f > last + DIRECTION_DEADBAND_N:
                sign, last = -1.0, f
            elif f < last - DIRECTION_DEADBAND_N:
                sign, last = 1.0, f
            branch[i] = sign
        self._last_force, self._branch = last, sign
        return branch * (p.hysteresis_pct / 200.0 * p.capacity_n) * p.shape(force)

    def _physical_time(self, t: np.ndarray) -> np.ndarray:
        """The cell's own clock at device times `t`: it keeps running when the device's
        clock restarts (a reset), so creep and ringing are not undone by one."""
        if len(t) == 0:
            return t
        dt = np.diff(t, prepend=t[0])
        first = t[0] - self._last_t if self._last_t is not None else 0.0
        dt[0] = first if first > 0 else 0.0
        clock = self._clock + np.cumsum(np.clip(dt, 0.0, None))
        self._clock = float(clock[-1])
        self._last_t = float(t[-1])
        return clock

    def _creep(self, force: np.ndarray, clock: np.ndarray) -> np.ndarray:
        """The first-order creep state at each sample."""
        p = self.params
        n = len(force)
        if p.creep_pct_30min == 0.0 or n == 0:
            return np.zeros(n)
        dt = np.diff(clock, prepend=clock[0])
        if self._creep_clock is not None:
            dt[0] = clock[0] - self._creep_clock
        alpha = 1.0 - np.exp(-dt / p.creep_tau_s)
        k = p.creep_gain
        out = np.empty(n)
        c = self._creep_n
        for i in range(n):
            c += (k * force[i] - c) * alpha[i]
            out[i] = c
        self._creep_n = c
        self._creep_clock = float(clock[-1])
        return out
