"""The plain records the history store keeps: one visit with its points, and recurrences.

These are independent of the live session model so that anything that knows a visit (a
recording, a `visit.json`, an export) can be indexed; they round-trip through JSON.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from tpforce.core.session import MdcVerdict

Metric = float | int | bool
"""A hold metric: a number or a flag (in_band_s, target_s, completed, pct_in_band, cv, ...)."""

FORMAT = "tpforce-visit"
FORMAT_VERSION = 1
SIDES = {"L": "L", "LEFT": "L", "R": "R", "RIGHT": "R", "M": "M", "MIDLINE": "M", "": ""}


VERDICT_TEXT: dict[str, str] = {
    MdcVerdict.RISE_BEYOND.value: "PPT rose beyond the detectable change",
    MdcVerdict.WITHIN.value: "change within the detectable change (not shown to be real)",
    MdcVerdict.FALL_BEYOND.value: "PPT fell beyond the detectable change",
    MdcVerdict.TOO_FEW_TRIALS.value: "too few trials for a verdict (two or more on each side)",
}
"""The MDC verdicts in the session model's own words (`core.session.MdcVerdict` values), and
what the live guide, the report and the history say for each: one vocabulary throughout."""

_OLD_VERDICTS = {"below_mdc": MdcVerdict.WITHIN.value, "within_mdc_range": ""}
"""Words of visit files written before the history used the session model's words."""


def normal_verdict(verdict: str, change_n: float | None) -> str:
    """A verdict in the session model's words: older words ('beyond_mdc', 'below_mdc',
    'within_mdc_range') translated, anything else kept as given."""
    word = verdict.strip()
    if word == "beyond_mdc":
        if change_n is None or change_n == 0:
            return ""
        return (MdcVerdict.RISE_BEYOND if change_n > 0 else MdcVerdict.FALL_BEYOND).value
    return _OLD_VERDICTS.get(word, word)


def verdict_text(verdict: str) -> str:
    """What the report and the history say for a verdict ('no verdict' when there is none)."""
    return VERDICT_TEXT.get(verdict, verdict.replace("_", " ") or "no verdict")


class RecordError(ValueError):
    """A visit or recurrence entry that cannot be read: the message says which field."""


def parse_side(text: str | None) -> str:
    """'L', 'R', 'M' or '' (unknown) from 'left', 'R', 'midline', None ..."""
    key = (text or "").strip().upper()
    if key not in SIDES:
        raise RecordError(f"side must be L, R, M or empty, not {text!r}")
    return SIDES[key]


def _mean(values: list[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RecordError(f"{what} must be a finite number, not {value!r}")
    return float(value)


def _text(value: object, what: str, allow_empty: bool = True) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise RecordError(f"{what} must be {'a' if allow_empty else 'a non-empty'} string")
    return value.strip()


def parse_when(value: object, what: str = "visited_at") -> dt.datetime:
    """An ISO 8601 date-time, kept to the second; an offset is kept as given."""
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0)
    try:
        return dt.datetime.fromisoformat(_text(value, what, False)).replace(microsecond=0)
    except ValueError:
        raise RecordError(f"{what} must be an ISO date-time like 2026-03-01T09:30, "
                          f"not {value!r}") from None


@dataclass
class PointRecord:
    """One treated point of a visit: PPT trials before and after (N), the change, the holds."""

    site: str
    side: str = ""
    ppt_before_n: list[float] = field(default_factory=list)
    ppt_after_n: list[float] = field(default_factory=list)
    change_n: float | None = None
    verdict: str = ""
    holds: list[dict[str, Metric]] = field(default_factory=list)
    notes: str = ""

    def __post_init__(self) -> None:
        self.site = _text(self.site, "site", False)
        self.side = parse_side(self.side)
        self.ppt_before_n = [_finite(v, "PPT trial") for v in self.ppt_before_n]
        self.ppt_after_n = [_finite(v, "PPT trial") for v in self.ppt_after_n]
        if self.change_n is None:
            before, after = _mean(self.ppt_before_n), _mean(self.ppt_after_n)
            if before is not None and after is not None:
                self.change_n = after - before
        else:
            self.change_n = _finite(self.change_n, "change_n")
        self.verdict = normal_verdict(_text(self.verdict, "verdict"), self.change_n)
        self.notes = _text(self.notes, "notes")
        for hold in self.holds:
            if not isinstance(hold, dict):
                raise RecordError("each hold must be an object of metrics")
            for name, value in hold.items():
                if not isinstance(name, str) or not name:
                    raise RecordError("hold metric names must be non-empty strings")
                if not isinstance(value, bool):
                    _finite(value, f"hold metric {name!r}")

    @property
    def key(self) -> tuple[str, str]:
        """(site, side): the same point across visits."""
        return (self.site.lower(), self.side)

    @property
    def label(self) -> str:
        """'upper trapezius R'."""
        return f"{self.site} {self.side}" if self.side else self.site

    @property
    def before_mean_n(self) -> float | None:
        """PPT before treatment: the mean of its trials (None without trials)."""
        return _mean(self.ppt_before_n)

    @property
    def after_mean_n(self) -> float | None:
        """PPT after treatment: the mean of its trials (None without trials)."""
        return _mean(self.ppt_after_n)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"site": self.site, "side": self.side, "ppt_before_n": list(self.ppt_before_n),
                "ppt_after_n": list(self.ppt_after_n), "change_n": self.change_n,
                "verdict": self.verdict, "holds": [dict(h) for h in self.holds],
                "notes": self.notes}

    @classmethod
    def from_dict(cls, data: object) -> PointRecord:
        """The inverse of `to_dict`; raises RecordError naming the bad field."""
        if not isinstance(data, dict):
            raise RecordError("each point must be an object")
        for name in ("ppt_before_n", "ppt_after_n", "holds"):
            if not isinstance(data.get(name, []), list):
                raise RecordError(f"{name} must be a list")
        return cls(site=data.get("site", ""), side=data.get("side") or "",
                   ppt_before_n=list(data.get("ppt_before_n", [])),
                   ppt_after_n=list(data.get("ppt_after_n", [])),
                   change_n=data.get("change_n"), verdict=data.get("verdict") or "",
                   holds=[dict(h) if isinstance(h, dict) else h
                          for h in data.get("holds", [])],
                   notes=data.get("notes") or "")


@dataclass
class VisitRecord:
    """One visit of one patient: when, by whom, its recording, the points treated, notes.

    `patient` is a pseudonym: never a name. A visit is identified by patient and
    `visited_at`, so indexing the same visit again changes nothing.
    """

    patient: str
    visited_at: dt.datetime
    operator: str = ""
    recording: str | None = None
    points: list[PointRecord] = field(default_factory=list)
    notes: str = ""

    def __post_init__(self) -> None:
        self.patient = check_pseudonym(self.patient)
        self.visited_at = parse_when(self.visited_at)
        self.operator = _text(self.operator, "operator")
        if self.recording is not None:
            self.recording = _text(self.recording, "recording", False)
        self.notes = _text(self.notes, "notes")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, with its format name and version."""
        return {"format": FORMAT, "version": FORMAT_VERSION, "patient": self.patient,
                "visited_at": self.visited_at.isoformat(), "operator": self.operator,
                "recording": self.recording, "points": [p.to_dict() for p in self.points],
                "notes": self.notes}

    def to_json(self) -> str:
        """The `visit.json` text."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: object) -> VisitRecord:
        """The inverse of `to_dict`; raises RecordError naming the problem."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise RecordError(f"not a visit record (no \"format\": \"{FORMAT}\")")
        version = data.get("version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise RecordError(f"visit format version {version!r} is newer than this tpforce "
                              f"reads ({FORMAT_VERSION}): upgrade tpforce")
        points = data.get("points", [])
        if not isinstance(points, list):
            raise RecordError("points must be a list")
        return cls(patient=data.get("patient", ""), visited_at=data.get("visited_at", ""),
                   operator=data.get("operator") or "", recording=data.get("recording"),
                   points=[PointRecord.from_dict(p) for p in points],
                   notes=data.get("notes") or "")

    @classmethod
    def from_json(cls, text: str) -> VisitRecord:
        """Parse a `visit.json`."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RecordError(f"not JSON ({exc.msg} at line {exc.lineno})") from None
        return cls.from_dict(data)

    def fingerprint(self) -> str:
        """A hash of the content: equal for the same visit indexed twice."""
        canon = json.dumps(self.to_dict(), sort_keys=True, allow_nan=False)
        return hashlib.sha256(canon.encode()).hexdigest()


@dataclass(frozen=True)
class RecurrenceEntry:
    """The patient's report that pain came back: when, where, how much, after what."""

    occurred_on: dt.date
    region: str
    nrs: int
    activity: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.occurred_on, dt.date) or isinstance(self.occurred_on,
                                                                   dt.datetime):
            raise RecordError("the recurrence date must be a date")
        _text(self.region, "region", False)
        if isinstance(self.nrs, bool) or not isinstance(self.nrs, int) or not 0 <= self.nrs <= 10:
            raise RecordError(f"pain (NRS) must be a whole number 0-10, not {self.nrs!r}")
        _text(self.activity, "activity")

    @classmethod
    def parse(cls, text: str) -> RecurrenceEntry:
        """'DATE:REGION:NRS:ACTIVITY', e.g. '2026-03-04:upper trapezius R:6:long drive'.

        The activity may itself contain colons; the region may not."""
        parts = text.split(":", 3)
        if len(parts) < 3:
            raise RecordError("--recurrence wants DATE:REGION:NRS[:ACTIVITY], e.g. "
                              "2026-03-04:upper trapezius R:6:long drive")
        date_s, region, nrs_s = (p.strip() for p in parts[:3])
        try:
            when = dt.date.fromisoformat(date_s)
        except ValueError:
            raise RecordError(f"recurrence date must be YYYY-MM-DD, not {date_s!r}") from None
        try:
            nrs = int(nrs_s)
        except ValueError:
            raise RecordError(f"pain (NRS) must be a whole number 0-10, not {nrs_s!r}") from None
        return cls(when, region.strip(), nrs, parts[3].strip() if len(parts) > 3 else "")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"occurred_on": self.occurred_on.isoformat(), "region": self.region,
                "nrs": self.nrs, "activity": self.activity}


def check_pseudonym(text: object) -> str:
    """A pseudonym: one token of letters, digits and -_. (no spaces, so never a full name)."""
    value = _text(text, "patient pseudonym", False)
    if len(value) > 64 or not all(c.isalnum() or c in "-_." for c in value):
        raise RecordError(f"patient pseudonym {value!r} must be up to 64 letters, digits, "
                          "'-', '_' or '.' (a pseudonym, never a name)")
    return value
