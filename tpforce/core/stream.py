"""Turns wire samples into sample batches: unwraps sequence and device time, counts losses.

Pure (stdlib + numpy). The assembler keeps one continuous timeline across 32-bit wraps,
lost frames, device resets and restarts of the sequence (START), and maps each sample's
device time to host time with `ClockMap`, so jitter in arrival never reaches the samples.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from tpforce.core.events import DeviceReset, Event, FramesLost
from tpforce.core.samples import SampleFlag, empty_batch

WRAP = 1 << 32
HALF = 1 << 31
RESTART_SEQ_MAX = 1024  # a device that restarts (boot, START) counts from 0 again
REANCHOR_AFTER = 3  # this many rejections in a row: the stream changed, not the frames


@dataclass
class StreamStats:
    """Exact counts kept from sequence numbers."""

    samples: int = 0
    lost: int = 0  # frames missing between accepted ones, from seq gaps
    resets: int = 0  # the sequence began again (device reset or START)
    rejected: int = 0  # frames whose seq/time could not belong to the stream (dropped)
    reanchors: int = 0  # new epochs started because the old one no longer explained the stream


class ClockMap:
    """Maps device time to host time: a line through the lower envelope of (host - device).

    Transport delay only ever adds to arrival time, so the smallest `host - device` seen in
    each window is closest to the true offset; a least-squares line through those minima
    follows clock drift, ignores jitter and never maps a sample later than its arrival.
    """

    def __init__(self, window_s: float = 1.0, keep: int = 30, max_drift: float = 0.02) -> None:
        self.window_s = window_s
        self.keep = keep
        self.max_drift = max_drift
        self.reset()

    def reset(self) -> None:
        """Forget the offset (the device clock restarted)."""
        self._mins: dict[int, tuple[float, float]] = {}  # window -> (t_dev, host - dev)
        self._fit: tuple[float, float, float] | None = None  # (t0, offset at t0, slope)
        self._last_host = -np.inf

    def update(self, t_dev_s: float, t_host_s: float) -> None:
        """Learn from one arrival: the sample at device time `t_dev_s` arrived at `t_host_s`."""
        d = t_host_s - t_dev_s
        key = int(t_dev_s // self.window_s)
        best = self._mins.get(key)
        if best is None or d < best[1]:
            self._mins[key] = (t_dev_s, d)
            if best is None and len(self._mins) > self.keep:
                del self._mins[min(self._mins)]
            # Refit when a window opens (or while there are too few for a line); a better
            # minimum inside the open window waits for the next one, since `to_host` never
            # maps a sample later than its arrival anyway. This keeps the fit off the per-batch
            # path at high sample rates.
            if best is None or len(self._mins) < 3:
                self._fit = None

    def _line(self) -> tuple[float, float, float]:
        if self._fit is None:
            pts = np.array(list(self._mins.values()))
            t0 = float(pts[-1, 0])
            if len(pts) < 3:
                self._fit = (t0, float(pts[:, 1].min()), 0.0)
            else:
                x = pts[:, 0] - t0
                y = pts[:, 1]
                xc = x - x.mean()
                var = float(np.sum(xc * xc))
                slope = float(np.sum(xc * (y - y.mean())) / var) if var > 0 else 0.0
                slope = float(np.clip(slope, -self.max_drift, self.max_drift))
                # Shift the line down so that no window minimum lies below it.
                icept = float(np.min(y - slope * x))
                self._fit = (t0, icept, slope)
        return self._fit

    def to_host(self, t_dev_s: np.ndarray, arrival_s: float) -> np.ndarray:
        """Host times of device times `t_dev_s` that arrived at `arrival_s` (monotonic)."""
        if not self._mins:
            return np.full(len(t_dev_s), arrival_s)
        t0, icept, slope = self._line()
        host = t_dev_s + icept + slope * (t_dev_s - t0)
        host = np.minimum(host, arrival_s)
        host = np.maximum.accumulate(np.maximum(host, self._last_host))
        if len(host):
            self._last_host = float(host[-1])
        return host


class StreamAssembler:
    """Unwraps 32-bit `seq` and `t_us` into a continuous timeline, across device resets too.

    A sequence that goes backwards (or repeats) starts a new epoch: a serial link cannot
    reorder frames, so it means the device restarted or was told to START again. A new
    epoch continues the timeline after the last sample by the host-measured gap.
    """

    fast_path = True  # take `_steady` for batches that need none of the checks' outcomes

    def __init__(self) -> None:
        self.stats = StreamStats()
        self.clock = ClockMap()
        self._last_seq: int | None = None  # last wire seq (32-bit)
        self._last_tus: int = 0
        self._seq_base = 0  # unwrapped seq of wire seq 0 in the current epoch
        self._t_base_us = 0  # unwrapped time (us) of wire time 0 in the current epoch
        self._last_t_s = 0.0
        self._last_host_s: float | None = None
        self._period_s = 0.0  # recent mean sample period, for gluing epochs
        self._reset_pending = False
        self._rejected_run = 0  # rows rejected in a row, across batches

    def device_reset(self) -> None:
        """The device said it restarted (banner): its clock begins again with the next epoch."""
        self._reset_pending = True

    def link_restarted(self) -> None:
        """The port was reopened: arrival times before and after are not comparable."""
        self.clock.reset()

    def assemble(self, wire: np.ndarray, t_host_s: float) -> tuple[np.ndarray, list[Event]]:
        """A sample batch for the wire rows, with FramesLost/DeviceReset events where due."""
        events: list[Event] = []
        if len(wire) == 0:
            return empty_batch(0), events
        if self.fast_path and self._last_seq is not None and not self._reset_pending:
            batch = self._steady(wire, t_host_s)
            if batch is not None:
                return batch, events
        first = self._last_seq is None
        prev_seq = int(wire["seq"][0]) - 1 if self._last_seq is None else self._last_seq
        prev_tus = int(wire["t_us"][0]) if first else self._last_tus
        wire, dseq, dtus, forced = self._plausible(wire, prev_seq, prev_tus)
        n = len(wire)
        if n == 0:
            return empty_batch(0), events
        starts = np.flatnonzero((dseq == 0) | (dseq >= HALF) | forced)
        if first and (len(starts) == 0 or starts[0] != 0):
            starts = np.concatenate(([0], starts))
        bounds = [*starts.tolist(), n]
        parts = []
        if bounds[0] != 0:
            end = bounds[0]
            parts.append(self._epoch(wire[:end], dseq[:end], dtus[:end], t_host_s, False,
                                     events))
        for a, b in itertools.pairwise(bounds):
            parts.append(self._epoch(wire[a:b], dseq[a:b].copy(), dtus[a:b].copy(), t_host_s,
                                     True, events, reanchor=bool(forced[a])))
        batch = parts[0] if len(parts) == 1 else np.concatenate(parts)
        self._last_host_s = t_host_s
        self._reset_pending = False  # a banner not followed by a restart was a reply
        return batch, events

    def _steady(self, wire: np.ndarray, t_host_s: float) -> np.ndarray | None:
        """The common batch in fewer steps: every seq one after the last, device time moving
        forward no further than `_plausible` allows. Gives exactly what the general path
        gives for such a batch; None for any other, which then takes the general path."""
        assert self._last_seq is not None
        n = len(wire)
        seq = wire["seq"]
        if (int(seq[0]) - self._last_seq) % WRAP != 1 or \
                (int(seq[-1]) - self._last_seq) % WRAP != n:
            return None
        dtus = _steps(wire["t_us"], self._last_tus)
        if n > 1 and not (_steps(seq[1:], int(seq[0])) == 1).all():
            return None
        longest = int(dtus.max())
        period = self._period_s
        if longest >= HALF or (period > 0 and longest * 1e-6 > 3.0 * period + 0.1):
            return None
        self._rejected_run = 0
        self.stats.samples += n
        step_us = int(dtus.sum())
        span = float(step_us) * 1e-6 / n
        self._period_s = span if period == 0 else 0.8 * period + 0.2 * span
        seq0 = self._last_seq + self._seq_base
        t0_us = self._last_tus + self._t_base_us
        last_wire_seq, last_wire_tus = int(seq[-1]), int(wire["t_us"][-1])
        self._seq_base = seq0 + n - last_wire_seq
        self._t_base_us = t0_us + step_us - last_wire_tus
        self._last_seq, self._last_tus = last_wire_seq, last_wire_tus
        batch = empty_batch(n)
        batch["seq"] = np.arange(seq0 + 1, seq0 + n + 1)
        t_s = (np.cumsum(dtus) + t0_us) * 1e-6
        batch["t_s"] = t_s
        batch["raw"] = wire["raw"]
        batch["flags"] = wire["flags"]
        t_last = float(t_s[-1])
        self.clock.update(t_last, t_host_s)
        batch["t_host_s"] = self.clock.to_host(t_s, t_host_s)
        self._last_t_s = t_last
        self._last_host_s = t_host_s
        return batch

    def _epoch(self, wire: np.ndarray, dseq: np.ndarray, dtus: np.ndarray, t_host_s: float,
               new: bool, events: list[Event], reanchor: bool = False) -> np.ndarray:
        """Assemble rows of one epoch from their steps in seq and time; `new` starts it
        (`reanchor`: not a device restart, but a stream the old epoch no longer explains)."""
        reset = False
        if new:
            reset = self._last_seq is not None
            prev_seq, prev_tus = self._new_epoch(int(wire["seq"][0]), int(wire["t_us"][0]),
                                                 t_host_s, events, reanchor)
            dseq[0], dtus[0] = 1, 0  # the epoch's first row, against its own origin
        else:
            assert self._last_seq is not None  # set by the first batch, which is always new
            prev_seq, prev_tus = self._last_seq, self._last_tus
        n = len(wire)
        flags = wire["flags"].astype(np.uint16)
        if reset:
            flags[0] |= SampleFlag.GAP_BEFORE if reanchor else SampleFlag.RESET_BEFORE
        useq = np.cumsum(dseq) + (prev_seq + self._seq_base)
        utus = np.cumsum(dtus) + (prev_tus + self._t_base_us)
        lost = dseq - 1
        gaps = np.flatnonzero(lost > 0)
        for i in gaps:
            events.append(FramesLost(float(utus[i]) * 1e-6, int(lost[i])))
            flags[i] |= SampleFlag.GAP_BEFORE
        self.stats.lost += int(lost[gaps].sum()) if len(gaps) else 0
        self.stats.samples += n
        skip = 1 if new else 0  # a new epoch's first row has no step before it
        steps = int(dseq[skip:].sum())
        if steps > 0:
            period = float(dtus[skip:].sum()) * 1e-6 / steps
            self._period_s = period if self._period_s == 0 else 0.8 * self._period_s + 0.2 * period
        last_wire_seq = int(wire["seq"][-1])
        last_wire_tus = int(wire["t_us"][-1])
        self._seq_base = int(useq[-1]) - last_wire_seq
        self._t_base_us = int(utus[-1]) - last_wire_tus
        self._last_seq = last_wire_seq
        self._last_tus = last_wire_tus
        batch = empty_batch(n)
        batch["seq"] = useq
        batch["t_s"] = utus * 1e-6
        batch["raw"] = wire["raw"]
        batch["flags"] = flags
        self.clock.update(float(batch["t_s"][-1]), t_host_s)
        batch["t_host_s"] = self.clock.to_host(batch["t_s"], t_host_s)
        self._last_t_s = float(batch["t_s"][-1])
        return batch

    def _plausible(self, wire: np.ndarray, prev_seq: int, prev_tus: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Drop rows no device could have sent, a damaged frame that slipped past the CRC:
        time running backwards, a sequence that jumps further than the clock moved, time that
        jumps far beyond the sequence, or a restart that does not begin near 0 unannounced.

        After REANCHOR_AFTER rejections in a row the old reference is what is wrong (a
        damaged frame was taken as one, or the rate changed): the next row starts a new epoch
        instead. Returns the rows kept, their steps in seq and time (mod 2^32) and which rows
        start such a new epoch.
        """
        period = self._period_s
        forced = np.zeros(len(wire), dtype=bool)
        while True:
            dseq = _steps(wire["seq"], prev_seq)
            dtus = _steps(wire["t_us"], prev_tus)
            restart = (dseq == 0) | (dseq >= HALF)  # judged by the epoch logic instead
            bad = (dtus >= HALF) & ~restart
            if not self._reset_pending:
                bad |= restart & (wire["seq"] >= RESTART_SEQ_MAX)
            if period > 0:
                late = dtus * 1e-6 > 3.0 * dseq * period + 0.1
                early = (dseq > 2) & (dtus * 1e-6 < 0.5 * (dseq - 1) * period)
                bad |= (late | early) & ~restart
            bad &= ~forced
            if not bad.any():
                if len(wire):
                    self._rejected_run = 0
                return wire, dseq, dtus, forced
            i = int(np.argmax(bad))
            if i > 0:
                self._rejected_run = 0  # rows before it were accepted
            self._rejected_run += 1
            if self._rejected_run > REANCHOR_AFTER:
                forced[i] = True
                self._rejected_run = 0
                self._period_s = period = 0.0  # learn the rate again
                continue
            self.stats.rejected += 1
            wire = np.delete(wire, i)
            forced = np.delete(forced, i)

    def _new_epoch(self, seq0: int, tus0: int, t_host_s: float,
                   events: list[Event], reanchor: bool = False) -> tuple[int, int]:
        """Set the bases so the epoch starting at (seq0, tus0) continues the timeline."""
        if self._last_seq is None:  # the first epoch keeps the device's own numbers
            self._seq_base = 0
            self._t_base_us = 0
            self._reset_pending = False
            return seq0 - 1, tus0
        if reanchor:
            self.stats.reanchors += 1
        else:
            self.stats.resets += 1
        # The sequence continues one step after the last sample: losses across a reset are
        # unknowable, so none are claimed.
        self._seq_base = self._seq_base + self._last_seq + 1 - seq0
        dt_us = (tus0 - self._last_tus) % WRAP
        step_s = self._period_s or 1e-3
        clock_kept = (not self._reset_pending) and dt_us < HALF and \
            dt_us * 1e-6 < 10 * step_s + self._host_gap(t_host_s)
        if not clock_kept:
            gap_s = max(step_s, self._host_gap(t_host_s))
            self._t_base_us = round((self._last_t_s + gap_s) * 1e6) - tus0
            self.clock.reset()
            if not reanchor:
                events.append(DeviceReset(self._last_t_s + gap_s))
        self._reset_pending = False
        return seq0 - 1, tus0

    def _host_gap(self, t_host_s: float) -> float:
        return 0.0 if self._last_host_s is None else max(t_host_s - self._last_host_s, 0.0)


def _steps(values: np.ndarray, prev: int) -> np.ndarray:
    """Each value's step from the one before (the first from `prev`), modulo 2^32."""
    out = values.astype(np.int64)
    if len(out):
        out[1:] -= values[:-1]
        out[0] -= prev
        out %= WRAP
    return out
