"""Fault injection for the simulated devices: what a cheap cable, adapter or board does.

Byte faults (corruption, drops) are applied to the bytes as the device sends them; timed
faults (unplug, reset, stall) are scheduled on the device's wall clock, so a run can
rehearse a yanked cable every 20 s or a board that resets at random.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Faults:
    """What goes wrong, and how often. Zero everywhere is a perfect link."""

    corrupt: float = 0.0  # probability that a sent byte is changed to another value
    drop: float = 0.0  # probability that a sent byte never arrives
    unplug_every_s: float = 0.0  # pull the cable this often (0 = never)
    unplug_for_s: float = 1.0  # ... for this long
    reset_on_replug: bool = True  # a bus-powered board reboots when it is plugged back in
    reset_every_s: float = 0.0  # the board resets (banner, sequence from 0) this often
    stall_every_s: float = 0.0  # the ADC stops answering this often ...
    stall_for_s: float = 0.5  # ... for this long (the port stays open)

    @property
    def any_bytes(self) -> bool:
        """Whether bytes need touching at all."""
        return self.corrupt > 0 or self.drop > 0

    def mangle(self, data: bytes, rng: np.random.Generator) -> bytes:
        """`data` as it arrives over this link: some bytes changed, some gone."""
        if not self.any_bytes or not data:
            return data
        buf = np.frombuffer(data, dtype=np.uint8).copy()
        if self.corrupt > 0:
            hit = rng.random(len(buf)) < self.corrupt
            buf[hit] ^= rng.integers(1, 256, int(hit.sum()), dtype=np.uint8)
        if self.drop > 0:
            buf = buf[rng.random(len(buf)) >= self.drop]
        return buf.tobytes()
