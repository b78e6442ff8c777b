"""Force and pressure units: newtons to kgf, lbf, kPa and kgf/cm^2 on a probe tip.

Figures (SI; docs/domain.md): 1 kgf = 9.80665 N, 1 lbf = 4.4482216152605 N, 1 N on 1 cm^2 = 10 kPa,
1 kgf/cm^2 = 98.0665 kPa.
"""

from __future__ import annotations

import enum

import numpy as np

KGF_N = 9.80665
LBF_N = 4.4482216152605
KPA_PER_N_PER_CM2 = 10.0  # 1 N on 1 cm^2 is 10 kPa
KPA_PER_KGF_PER_CM2 = 98.0665


class Unit(enum.Enum):
    """A display unit: forces, or pressures on the configured tip area."""

    N = "N"
    KGF = "kgf"
    LBF = "lbf"
    KPA = "kPa"
    KGF_CM2 = "kgf/cm^2"

    @property
    def is_pressure(self) -> bool:
        """True for the units that need a tip area."""
        return self in (Unit.KPA, Unit.KGF_CM2)

    @classmethod
    def parse(cls, text: str) -> Unit:
        """A unit from its label, case-insensitive ('n', 'KGF', 'kpa', 'kgf/cm2')."""
        key = text.strip().lower().replace("^", "").replace("²", "2")
        for unit in cls:
            if unit.value.lower().replace("^", "") == key:
                return unit
        raise ValueError(f"unknown unit {text!r}; use one of {', '.join(u.value for u in cls)}")


def pressure_kpa(force_n: float | np.ndarray, tip_area_cm2: float = 1.0) -> float | np.ndarray:
    """Pressure in kPa of `force_n` spread over `tip_area_cm2`."""
    return force_n * (KPA_PER_N_PER_CM2 / tip_area_cm2)


def force_from_kpa(pressure_kpa: float | np.ndarray, tip_area_cm2: float = 1.0
                   ) -> float | np.ndarray:
    """The force in N that gives `pressure_kpa` on `tip_area_cm2`."""
    return pressure_kpa * (tip_area_cm2 / KPA_PER_N_PER_CM2)


def convert(force_n: float | np.ndarray, unit: Unit, tip_area_cm2: float = 1.0
            ) -> float | np.ndarray:
    """`force_n` expressed in `unit` (pressures on `tip_area_cm2`)."""
    if unit is Unit.N:
        return force_n
    if unit is Unit.KGF:
        return force_n / KGF_N
    if unit is Unit.LBF:
        return force_n / LBF_N
    kpa = pressure_kpa(force_n, tip_area_cm2)
    return kpa if unit is Unit.KPA else kpa / KPA_PER_KGF_PER_CM2


def to_newtons(value: float | np.ndarray, unit: Unit, tip_area_cm2: float = 1.0
               ) -> float | np.ndarray:
    """The inverse of `convert`: `value` in `unit` back to newtons."""
    if unit is Unit.N:
        return value
    if unit is Unit.KGF:
        return value * KGF_N
    if unit is Unit.LBF:
        return value * LBF_N
    kpa = value if unit is Unit.KPA else value * KPA_PER_KGF_PER_CM2
    return force_from_kpa(kpa, tip_area_cm2)


GAUGE_UNITS: dict[str, float] = {  # newtons per unit, as force gauges label them
    "n": 1.0,
    "mn": 1e-3,  # gauges print mN as "MN" too: a meganewton is no hand force
    "kn": 1e3,
    "kg": KGF_N,
    "kgf": KGF_N,
    "g": KGF_N / 1000.0,
    "gf": KGF_N / 1000.0,
    "lb": LBF_N,
    "lbf": LBF_N,
    "lbs": LBF_N,
    "oz": LBF_N / 16.0,
    "ozf": LBF_N / 16.0,
}


def unit_factor(label: str) -> float:
    """Newtons per one `label` (case-insensitive); ValueError naming the known units."""
    key = label.strip().lower()
    try:
        return GAUGE_UNITS[key]
    except KeyError:
        known = "N, mN, kN, kgf, gf, lbf, ozf"
        raise ValueError(f"unknown force unit {label!r}; use one of {known}") from None
