"""Counts to newtons: a linear (or polynomial) calibration with a zero that can be re-taken.

`force_n = (raw - zero_counts) * n_per_count`, or with `poly = (c1, c2, ...)`
`force_n = c1 d + c2 d^2 + ...` where `d = raw - zero_counts`: no constant term, so a tare
(new zero) keeps the curve's shape. calibration/README.md describes how the numbers are made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from tpforce.core.samples import SampleFlag

_SATURATED = int(SampleFlag.SATURATED)  # plain ints for the per-batch path
_OVER_RANGE = np.uint16(SampleFlag.OVER_RANGE)


@dataclass(frozen=True, slots=True)
class Calibration:
    """Raw counts to force; saturated samples become NaN."""

    zero_counts: float = 0.0
    n_per_count: float = 1.0
    tip_area_cm2: float = 1.0
    serial: str = ""
    poly: tuple[float, ...] = ()  # c1, c2, ...: force in N per count, per count^2, ...

    def force_n(self, raw: np.ndarray) -> np.ndarray:
        """Force in newtons of raw counts (no flags considered)."""
        d = np.asarray(raw, dtype=np.float64) - self.zero_counts
        if not self.poly:
            return d * self.n_per_count
        out = np.zeros_like(d)
        for c in reversed(self.poly):  # Horner, no constant term
            out = (out + c) * d
        return out

    def apply(self, batch: np.ndarray) -> None:
        """Fill `batch['force_n']` in place from `batch['raw']`."""
        force = self.force_n(batch["raw"])
        bad = (batch["flags"] & _SATURATED) != 0
        if bad.any():
            # The force is unknown, but a cell saturated while pushing is certainly past
            # anything the band allows: flag it, so the tracker can raise the alarm.
            pushed = bad & (force > 0)
            batch["flags"][pushed] |= _OVER_RANGE
            force[bad] = np.nan
        batch["force_n"] = force

    def tared(self, raw_at_rest: np.ndarray) -> Calibration:
        """The same calibration with its zero at the mean of `raw_at_rest`."""
        return replace(self, zero_counts=float(np.mean(raw_at_rest)))

    @classmethod
    def fit(cls, counts: Sequence[float], force_n: Sequence[float], degree: int = 1,
            tip_area_cm2: float = 1.0, serial: str = "") -> Calibration:
        """Least squares through (counts, force) pairs; the zero is where the fit gives 0 N."""
        c = np.asarray(counts, dtype=np.float64)
        f = np.asarray(force_n, dtype=np.float64)
        if len(c) < degree + 1:
            raise ValueError(f"a degree-{degree} fit needs at least {degree + 1} points")
        slope, offset = np.polyfit(c, f, 1)
        zero = -offset / slope
        if degree == 1:
            return cls(float(zero), float(slope), tip_area_cm2, serial)
        # the zero is the real root of the full fit nearest the linear one; then the
        # polynomial in d = counts - zero has no constant term
        roots = np.roots(np.polyfit(c, f, degree))
        real = roots[np.abs(roots.imag) < 1e-9 * (1 + np.abs(roots.real))].real
        if len(real):
            zero = float(real[np.argmin(np.abs(real - zero))])
        design = np.vstack([(c - zero) ** k for k in range(1, degree + 1)]).T
        coef, *_ = np.linalg.lstsq(design, f, rcond=None)
        return cls(float(zero), float(coef[0]), tip_area_cm2, serial,
                   tuple(float(v) for v in coef))

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> Calibration:
        """From a calibration/records/*.json record (tip area there is in mm^2)."""
        def num(value: object) -> float:
            if not isinstance(value, int | float | str):
                raise TypeError(f"not a number: {value!r}")
            return float(value)

        poly_in = record.get("poly", ())
        if not isinstance(poly_in, list | tuple):
            raise TypeError("poly must be a list of numbers")
        return cls(num(record["zero_counts"]), num(record["n_per_count"]),
                   num(record.get("tip_area_mm2", 100)) / 100.0, str(record.get("serial", "")),
                   tuple(num(v) for v in poly_in))
