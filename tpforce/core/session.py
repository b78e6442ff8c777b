"""The session model: the points treated, each with its PPT trials before, holds, and after.

The outcome a therapist wants (DOMAIN.md: ischemic compression raises PPT, SMD 0.67) is the
change of PPT at each point, set against the minimal detectable change (MDC) for MTrPs in the
trapezius, 0.45-0.62 kgf/cm^2 (44-61 kPa).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tpforce.core.units import KPA_PER_KGF_PER_CM2, pressure_kpa

if TYPE_CHECKING:
    from tpforce.core.metrics import HoldMetrics

MDC_KGF_CM2 = (0.45, 0.62)  # MTrP trapezius MDC range (DOMAIN.md, cited reviews)
MDC_KPA = (MDC_KGF_CM2[0] * KPA_PER_KGF_PER_CM2, MDC_KGF_CM2[1] * KPA_PER_KGF_PER_CM2)

SITES = (
    "upper trapezius",
    "levator scapulae",
    "sternocleidomastoid",
    "scalenes",
    "suboccipitals",
    "masseter",
    "temporalis",
    "supraspinatus",
    "infraspinatus",
    "rhomboids",
    "pectoralis major",
    "quadratus lumborum",
    "lumbar paraspinals",
    "gluteus medius",
    "gluteus minimus",
    "piriformis",
    "tensor fasciae latae",
    "vastus lateralis",
    "gastrocnemius",
    "soleus",
    "tibialis anterior",
)
"""Common trigger-point sites offered by name; any free text is accepted as well."""


class Side(enum.Enum):
    """Body side of a point."""

    LEFT = "L"
    RIGHT = "R"
    MIDLINE = "M"

    @classmethod
    def parse(cls, text: str | Side | None) -> Side | None:
        """'L', 'left', 'R', 'right', 'M' or None."""
        if text is None or isinstance(text, Side):
            return text
        key = text.strip().upper()[:1]
        for side in cls:
            if side.value == key:
                return side
        raise ValueError(f"side must be L, R or M, not {text!r}")


class MdcVerdict(enum.Enum):
    """A PPT change against the MDC range: below it, inside the range, or beyond it."""

    BELOW = "below_mdc"
    WITHIN_RANGE = "within_mdc_range"
    BEYOND = "beyond_mdc"


def ppt_mean(trials_n: list[float] | tuple[float, ...], drop_first: bool = False) -> float:
    """The PPT from repeated trials: their mean, optionally without the first (Persson 2004)."""
    used = list(trials_n[1:]) if drop_first and len(trials_n) > 1 else list(trials_n)
    return math.fsum(used) / len(used) if used else math.nan


@dataclass
class Point:
    """One treated point: where it is, PPT trials before and after, and the holds on it."""

    index: int
    site: str = ""
    side: Side | None = None
    trials_before_n: list[float] = field(default_factory=list)
    trials_after_n: list[float] = field(default_factory=list)
    tolerance_n: list[float] = field(default_factory=list)
    holds: list[HoldMetrics] = field(default_factory=list)
    pressure_steps_n: list[tuple[float, float, float]] = field(default_factory=list)

    @property
    def label(self) -> str:
        """'upper trapezius R', or 'point 2' when unnamed."""
        name = self.site or f"point {self.index}"
        return f"{name} {self.side.value}" if self.side else name

    def ppt_before_n(self, drop_first: bool = False) -> float:
        """PPT before treatment (mean of trials), NaN without trials."""
        return ppt_mean(self.trials_before_n, drop_first)

    def ppt_after_n(self, drop_first: bool = False) -> float:
        """PPT after treatment (mean of trials), NaN without trials."""
        return ppt_mean(self.trials_after_n, drop_first)

    def change_n(self, drop_first: bool = False) -> float:
        """PPT after minus before, in N (NaN until both are measured)."""
        return self.ppt_after_n(drop_first) - self.ppt_before_n(drop_first)

    def change_pct(self, drop_first: bool = False) -> float:
        """PPT change in % of the PPT before."""
        before = self.ppt_before_n(drop_first)
        return 100.0 * self.change_n(drop_first) / before if before else math.nan

    def change_kpa(self, tip_area_cm2: float = 1.0, drop_first: bool = False) -> float:
        """PPT change as a pressure on the tip, in kPa."""
        return float(pressure_kpa(self.change_n(drop_first), tip_area_cm2))

    def mdc_verdict(self, tip_area_cm2: float = 1.0, drop_first: bool = False
                    ) -> MdcVerdict | None:
        """Is the change, either way, larger than the measurement can resolve? None until
        measured. The direction is the sign of `change_n`/`change_pct`."""
        change = abs(self.change_kpa(tip_area_cm2, drop_first))
        if math.isnan(change):
            return None
        if change < MDC_KPA[0]:
            return MdcVerdict.BELOW
        return MdcVerdict.WITHIN_RANGE if change < MDC_KPA[1] else MdcVerdict.BEYOND


@dataclass
class Session:
    """The points of one treatment session, in order; the last one is the current point."""

    points: list[Point] = field(default_factory=lambda: [Point(1)])
    drop_first: bool = False

    @property
    def current(self) -> Point:
        """The point being worked on."""
        return self.points[-1]

    def next_point(self, site: str | None = None, side: str | Side | None = None) -> Point:
        """Move on to a new point (named, or 'point N' when not)."""
        point = Point(len(self.points) + 1, site or "", Side.parse(side))
        self.points.append(point)
        return point

    def summary(self, tip_area_cm2: float = 1.0) -> list[dict[str, object]]:
        """One plain dict per point: PPT before/after, change in N, % and kPa, MDC verdict."""
        rows: list[dict[str, object]] = []
        for p in self.points:
            verdict = p.mdc_verdict(tip_area_cm2, self.drop_first)
            rows.append({
                "point": p.label,
                "trials_before_n": list(p.trials_before_n),
                "trials_after_n": list(p.trials_after_n),
                "ppt_before_n": p.ppt_before_n(self.drop_first),
                "ppt_after_n": p.ppt_after_n(self.drop_first),
                "change_n": p.change_n(self.drop_first),
                "change_pct": p.change_pct(self.drop_first),
                "change_kpa": p.change_kpa(tip_area_cm2, self.drop_first),
                "holds": len(p.holds),
                "mdc": verdict.value if verdict else None,
            })
        return rows
