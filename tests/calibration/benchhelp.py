"""Drives the bench procedure with a simulated cell by injecting samples: no port, no clock."""

from __future__ import annotations

import numpy as np

from tpforce.core.calbench import BenchProcedure, BenchResult, Creep, Reading, Warmup
from tpforce.io.sim.cell import CellParams, SimCell

RATE = 80
CHUNK = 40  # samples per feed, half a second


class Bench:
    """A simulated cell, its noise-free twin, and the procedure they feed."""

    def __init__(self, params: CellParams, seed: int = 0, warmup_s: float = 60.0,
                 capacity_kg: float | None = None) -> None:
        self.params = params
        self.cell = SimCell(params, bench=True)
        self.twin = SimCell(CellParams(**{**_fields(params), "noise_counts": 0.0}), bench=True)
        self.rng = np.random.default_rng(seed)
        self.twin_rng = np.random.default_rng(seed)
        self.t = 0.0
        self.twin_t: list[np.ndarray] = []
        self.twin_x: list[np.ndarray] = []
        self.proc = BenchProcedure(RATE, capacity_kg or params.capacity_kg, warmup_s=warmup_s,
                                   counts_per_n_hint=params.counts_per_n)

    def chunk(self, n: int = CHUNK) -> tuple[np.ndarray, np.ndarray]:
        """The next `n` samples of the cell (and of its twin, kept for reference)."""
        ts = self.t + np.arange(n) / RATE
        self.t += n / RATE
        zero = np.zeros(n)
        self.twin_t.append(ts)
        self.twin_x.append(self.twin.counts(zero, self.twin_rng, ts))
        return ts, self.cell.counts(zero, self.rng, ts)

    def run_step(self, limit_s: float = 120.0) -> Warmup | Reading | Creep:
        """Feed samples until the procedure completes a step."""
        for _ in range(int(limit_s * RATE / CHUNK)):
            done = self.proc.feed(*self.chunk())
            if done is not None:
                return done
        raise AssertionError(f"no step completed in {limit_s} s of samples")

    def place(self, mass_kg: float) -> float:
        """Put a mass on both cells; the time from which the samples carry it."""
        self.cell.place(mass_kg)
        self.twin.place(mass_kg)
        return self.t

    def ladder(self, masses: list[float], cycles: int = 1) -> list[Reading]:
        """Warm-up, tare, then each mass up and down, `cycles` times."""
        out = []
        while self.proc.tare is None:
            self.run_step()
        for _ in range(cycles):
            for m in [*masses, *masses[-2::-1], 0.0]:
                self.proc.place(m, self.place(m))
                r = self.run_step()
                assert isinstance(r, Reading)
                out.append(r)
        return out

    def creep(self, mass_kg: float, duration_s: float = 90.0) -> Creep:
        """Hold a mass; the procedure's creep result."""
        self.proc.creep(mass_kg, self.place(mass_kg), duration_s)
        c = self.run_step(duration_s + 60)
        assert isinstance(c, Creep)
        return c

    def twin_mean(self, t_mid: float, half_s: float) -> float:
        """The noise-free counts' mean over [t_mid - half_s, t_mid + half_s]."""
        t = np.concatenate(self.twin_t)
        x = np.concatenate(self.twin_x)
        sel = (t >= t_mid - half_s) & (t <= t_mid + half_s)
        return float(np.mean(x[sel]))

    def result(self, quadratic: bool = False) -> BenchResult:
        """The fit of the readings."""
        return self.proc.result(quadratic)


def _fields(p: CellParams) -> dict[str, float]:
    return {name: getattr(p, name) for name in CellParams.__slots__}  # type: ignore[attr-defined]


class Tap:
    """A consumer that keeps every event and lets the test thread wait for one (no sleeps)."""

    def __init__(self) -> None:
        import queue
        import threading

        from tpforce.core.events import Event

        self.seen: list[Event] = []
        self.count = 0
        self._q: queue.Queue[Event] = queue.Queue()
        self._cond = threading.Condition()

    def on_batch(self, batch: np.ndarray) -> None:
        """Count the samples."""
        with self._cond:
            self.count += len(batch)
            self._cond.notify_all()

    def on_event(self, event: object) -> None:
        """Keep the event."""
        self.seen.append(event)  # type: ignore[arg-type]
        self._q.put(event)  # type: ignore[arg-type]

    def close(self) -> None:
        """Nothing to release."""

    def wait_samples(self, n: int, timeout: float = 20.0) -> bool:
        """Wait until `n` samples have arrived."""
        with self._cond:
            return self._cond.wait_for(lambda: self.count >= n, timeout)

    def wait_for(self, kind: type, timeout: float = 30.0) -> object:
        """The next event of `kind`; queue.Empty on time-out."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            event = self._q.get(timeout=max(deadline - time.monotonic(), 0.001))
            if isinstance(event, kind):
                return event
