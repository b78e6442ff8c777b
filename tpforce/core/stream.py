"""Turns wire samples into sample batches: unwraps sequence and device time, counts losses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tpforce.core.events import Event, FramesLost
from tpforce.core.samples import SampleFlag, empty_batch

WRAP = 1 << 32


@dataclass
class StreamStats:
    """Exact counts kept from sequence numbers."""

    samples: int = 0
    lost: int = 0
    resets: int = 0


class StreamAssembler:
    """Unwraps 32-bit `seq` and `t_us` into a continuous timeline, across device resets too."""

    def __init__(self) -> None:
        self.stats = StreamStats()
        self._last_seq: int | None = None  # last wire seq (32-bit)
        self._last_tus: int = 0
        self._seq_base = 0  # unwrapped seq of wire seq 0 in the current epoch
        self._t_base_us = 0  # unwrapped time (us) of wire time 0 in the current epoch
        self._last_t_s = 0.0
        self._reset_pending = False

    def device_reset(self) -> None:
        """The device restarted: the next sample begins a new epoch on the same timeline."""
        self._reset_pending = True

    def assemble(self, wire: np.ndarray, t_host_s: float) -> tuple[np.ndarray, list[Event]]:
        """A sample batch for the wire rows, and FramesLost events where seq jumped."""
        n = len(wire)
        batch = empty_batch(n)
        events: list[Event] = []
        if n == 0:
            return batch, events
        seq = wire["seq"].astype(np.int64)
        tus = wire["t_us"].astype(np.int64)
        flags = wire["flags"].astype(np.uint16)
        if self._last_seq is None or self._reset_pending:
            if self._last_seq is not None:
                # Continue the timeline one nominal step after the last sample.
                self.stats.resets += 1
                self._seq_base = int(self._seq_base + self._last_seq + 1 - seq[0])
                self._t_base_us = int(self._last_t_s * 1e6) - int(tus[0])
                flags[0] |= SampleFlag.RESET_BEFORE
            else:
                self._seq_base = -int(seq[0])
                self._t_base_us = -int(tus[0])
            prev_seq = int(seq[0]) - 1
            prev_tus = int(tus[0])
            self._reset_pending = False
        else:
            prev_seq = self._last_seq
            prev_tus = self._last_tus
        # Unwrap against the previous value, vectorised.
        dseq = np.diff(seq, prepend=prev_seq) % WRAP
        dtus = np.diff(tus, prepend=prev_tus) % WRAP
        useq = np.cumsum(dseq) + (prev_seq + self._seq_base)
        utus = np.cumsum(dtus) + (prev_tus + self._t_base_us)
        lost = dseq - 1
        gaps = np.flatnonzero(lost > 0)
        for i in gaps:
            events.append(FramesLost(float(utus[i]) * 1e-6, int(lost[i])))
            flags[i] |= SampleFlag.GAP_BEFORE
        self.stats.lost += int(lost[gaps].sum()) if len(gaps) else 0
        self.stats.samples += n
        # Keep the epoch bases so that the next call continues from here.
        self._seq_base = int(useq[-1]) - int(seq[-1])
        self._t_base_us = int(utus[-1]) - int(tus[-1])
        self._last_seq = int(seq[-1])
        self._last_tus = int(tus[-1])
        batch["seq"] = useq
        batch["t_s"] = utus * 1e-6
        batch["t_host_s"] = t_host_s
        batch["raw"] = wire["raw"]
        batch["flags"] = flags
        self._last_t_s = float(batch["t_s"][-1])
        return batch, events
