"""Argument types that refuse what would crash later: NaN, infinities, zero or negative rates."""

from __future__ import annotations

import argparse
import math


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive(text: str) -> float:
    """A finite number above 0 (a threshold, a target time, a speed)."""
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be above 0")
    return value


def non_negative(text: str) -> float:
    """A finite number of 0 or more (a duration, a grace time; 0 may mean 'off')."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must not be negative")
    return value


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def rate_sps(text: str) -> int:
    """A sample rate the wire protocol can carry: a whole number from 1 to 4000."""
    value = _whole(text)
    if not 1 <= value <= 4000:
        raise argparse.ArgumentTypeError(f"{text} must be from 1 to 4000 samples per second")
    return value


def baud(text: str) -> int:
    """A serial baud rate: a whole number above 0."""
    value = _whole(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be above 0")
    return value
