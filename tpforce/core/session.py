"""The session model: the points treated, each with its phase, marks (trials and pressure
steps, as filed by the therapist), holds, and the outcome.

The outcome a therapist wants (docs/domain.md: ischemic compression raises PPT) is the
change of PPT at each point with its direction, set against the minimal detectable change
(MDC): the site's own figure where the literature has one (MTrPs in the upper trapezius,
0.45-0.62 kgf/cm^2), else a generic one from the algometer's reliability (SEM 6.27 N/cm^2,
Chesterton 2007: MDC95 = 1.96 * sqrt(2) * SEM = 17.4 N/cm^2). A verdict needs at least two
trials on each side.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tpforce.core.events import Phase
from tpforce.core.units import KPA_PER_KGF_PER_CM2, pressure_kpa

if TYPE_CHECKING:
    from tpforce.core.metrics import HoldMetrics

MDC_KGF_CM2 = (0.45, 0.62)  # MTrP upper trapezius MDC range (docs/domain.md)
MDC_KPA = (MDC_KGF_CM2[0] * KPA_PER_KGF_PER_CM2, MDC_KGF_CM2[1] * KPA_PER_KGF_PER_CM2)
GENERIC_MDC_KPA = 1.96 * math.sqrt(2.0) * 62.7  # SEM 6.27 N/cm^2 = 62.7 kPa (Chesterton)
SITE_MDC_KPA: dict[str, tuple[float, float]] = {"upper trapezius": MDC_KPA}
MIN_TRIALS_FOR_VERDICT = 2

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
    """A PPT change against the detectable change, with its direction."""

    RISE_BEYOND = "rise_beyond_mdc"  # the hoped-for effect, larger than the measurement error
    WITHIN = "within_mdc"  # either way, not larger than the measurement can resolve
    FALL_BEYOND = "fall_beyond_mdc"  # a real fall of threshold
    TOO_FEW_TRIALS = "too_few_trials"  # fewer than two trials on a side


@dataclass(frozen=True, slots=True)
class Mark:
    """One threshold mark of a point, as filed: 'baseline' or 'after' trial, or 'step'."""

    t_s: float
    ppt_n: float
    kind: str
    by: str = "key"
    from_ppt_n: float = math.nan  # for a step, the threshold it moved the band from
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    """PPT before and after, the change, and its verdict against which MDC."""

    ppt_before_n: float
    ppt_after_n: float
    change_n: float
    change_kpa: float
    verdict: MdcVerdict | None  # None until both sides have a trial
    mdc_kpa: tuple[float, float]  # the detectable change used (lo, hi; equal if one figure)
    mdc_source: str  # "site: upper trapezius" or "generic"


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
    marks: list[Mark] = field(default_factory=list)
    tolerance_n: list[float] = field(default_factory=list)
    holds: list[HoldMetrics] = field(default_factory=list)
    phase: Phase = Phase.BASELINE

    def _of(self, kind: str) -> list[Mark]:
        return [m for m in self.marks if m.kind == kind and not m.deleted]

    @property
    def trials_before_n(self) -> list[float]:
        """Baseline trials (PPT, N), as filed."""
        return [m.ppt_n for m in self._of("baseline")]

    @property
    def trials_after_n(self) -> list[float]:
        """After-treatment trials (PPT, N), as filed."""
        return [m.ppt_n for m in self._of("after")]

    @property
    def pressure_steps_n(self) -> list[tuple[float, float, float]]:
        """Pressure steps as (t_s, from PPT, to PPT)."""
        return [(m.t_s, m.from_ppt_n, m.ppt_n) for m in self._of("step")]

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

    def mdc_kpa(self) -> tuple[tuple[float, float], str]:
        """The detectable change for this site (lo, hi kPa) and where it comes from."""
        site = self.site.strip().lower()
        if site in SITE_MDC_KPA:
            return SITE_MDC_KPA[site], f"site: {site}"
        return (GENERIC_MDC_KPA, GENERIC_MDC_KPA), "generic"

    def outcome(self, tip_area_cm2: float = 1.0, drop_first: bool = False) -> Outcome:
        """The change with its direction. Beyond means above the upper MDC figure; a change
        inside the site's MDC range is within (not shown to be real)."""
        mdc, source = self.mdc_kpa()
        before, after = self.ppt_before_n(drop_first), self.ppt_after_n(drop_first)
        change = after - before
        kpa = float(pressure_kpa(change, tip_area_cm2))
        verdict: MdcVerdict | None
        if not self.trials_before_n or not self.trials_after_n:
            verdict = None
        elif min(len(self.trials_before_n), len(self.trials_after_n)) < MIN_TRIALS_FOR_VERDICT:
            verdict = MdcVerdict.TOO_FEW_TRIALS
        elif kpa > mdc[1]:
            verdict = MdcVerdict.RISE_BEYOND
        elif kpa < -mdc[1]:
            verdict = MdcVerdict.FALL_BEYOND
        else:
            verdict = MdcVerdict.WITHIN
        return Outcome(before, after, change, kpa, verdict, mdc, source)

    def mdc_verdict(self, tip_area_cm2: float = 1.0, drop_first: bool = False
                    ) -> MdcVerdict | None:
        """The outcome's verdict (None until both sides have a trial)."""
        return self.outcome(tip_area_cm2, drop_first).verdict


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
            out = p.outcome(tip_area_cm2, self.drop_first)
            verdict = out.verdict
            rows.append({
                "point": p.label,
                "phase": p.phase.value,
                "marks": [{"t_s": m.t_s, "ppt_n": m.ppt_n, "filed": m.kind, "by": m.by,
                           "deleted": m.deleted} for m in p.marks],
                "trials_before_n": list(p.trials_before_n),
                "trials_after_n": list(p.trials_after_n),
                "pressure_steps_n": [s[2] for s in p.pressure_steps_n],
                "ppt_before_n": p.ppt_before_n(self.drop_first),
                "ppt_after_n": p.ppt_after_n(self.drop_first),
                "change_n": p.change_n(self.drop_first),
                "change_pct": p.change_pct(self.drop_first),
                "change_kpa": p.change_kpa(tip_area_cm2, self.drop_first),
                "holds": len(p.holds),
                "mdc": verdict.value if verdict else None,
                "mdc_kpa": list(out.mdc_kpa),
                "mdc_source": out.mdc_source,
            })
        return rows
