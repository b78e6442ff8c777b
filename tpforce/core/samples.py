"""The one type that flows: a batch of samples as a numpy structured array."""

from __future__ import annotations

import enum

import numpy as np

SAMPLE_DTYPE = np.dtype(
    [
        ("t_s", "<f8"),  # device time in seconds, unwrapped, on the stream's own timeline
        ("t_host_s", "<f8"),  # host monotonic time the sample was received
        ("seq", "<i8"),  # device sequence number, unwrapped
        ("raw", "<i4"),  # raw ADC counts as the device sent them
        ("force_n", "<f8"),  # calibrated force in newtons (NaN where unknown)
        ("flags", "<u2"),  # SampleFlag bits: device flags in the low byte, host flags above
    ]
)
"""dtype of every sample batch: sources produce it, the core fills `force_n`, consumers read it."""


class SampleFlag(enum.IntFlag):
    """Per-sample flags. The low byte is the device's (PROTOCOL.md); the high byte the host's."""

    NONE = 0
    BUTTON = 1 << 0
    SATURATED = 1 << 1
    MISSED = 1 << 2
    GAIN_LO = 1 << 3
    GAIN_HI = 1 << 4
    TX_DROPPED = 1 << 5  # the device dropped a reply or log frame since the last sample
    GAP_BEFORE = 1 << 8  # frames were lost (or the signal was lost) just before this sample
    RESET_BEFORE = 1 << 9  # the device restarted just before this sample
    OVER_RANGE = 1 << 10  # saturated in the pushing direction: more force than the cell reads


GAIN_SHIFT = 3
GAIN_MASK = 0b11 << GAIN_SHIFT
DEVICE_FLAGS_MASK = 0x00FF


def empty_batch(n: int = 0) -> np.ndarray:
    """A batch of `n` zeroed samples with `force_n` set to NaN."""
    batch = np.zeros(n, dtype=SAMPLE_DTYPE)
    batch["force_n"] = np.nan
    return batch


def batch_from_force(
    t_s: np.ndarray, force_n: np.ndarray, flags: np.ndarray | None = None
) -> np.ndarray:
    """A batch built from times and forces alone, as read from a plain CSV trace."""
    t = np.asarray(t_s, dtype=np.float64)
    batch = empty_batch(len(t))
    batch["t_s"] = t
    batch["t_host_s"] = t
    batch["seq"] = np.arange(len(t))
    batch["force_n"] = np.asarray(force_n, dtype=np.float64)
    if flags is not None:
        batch["flags"] = flags
    return batch
