"""A drill: what the trainee aims at, for how long, how often, and what feedback they get.

Drills are plain JSON files an instructor can write and hand out (JSON rather than TOML:
tpforce supports Python 3.10, whose standard library has no TOML reader, and JSON needs no
extra package). The shipped presets live in `tpforce/train/presets/`; `load_drill` takes a
preset's name or a path to a file. A bad file is one `DrillError` line naming the fix.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRESETS_DIR = Path(__file__).with_name("presets")
SCHEDULES = ("concurrent", "faded", "bandwidth", "self", "blind")
KINDS = ("hold", "ramp")
PPT_SLOT_S = 14.0
"""Time given to the PPT measurement that opens a %-of-PPT drill (a 5 N/s ramp to 60 N)."""
LEAD_S = 4.0
"""From the go cue to the start of the scored hold: time to ramp up and settle."""


class DrillError(Exception):
    """A drill file that cannot be used; the message is one line that says what to fix."""


@dataclass(frozen=True, slots=True)
class Feedback:
    """A practice block's feedback schedule and its settings."""

    schedule: str = "concurrent"
    start_share: float = 1.0  # faded: share of trials with feedback at the start ...
    end_share: float = 0.25  # ... and at the end of the block
    tolerance_pct: float | None = None  # bandwidth: shown only beyond this (default: the band)
    ask_s: float = 3.0  # self-controlled: how long one ask shows the live feedback


@dataclass(frozen=True, slots=True)
class Drill:
    """One drill: target, band, timing, trials and the practice block's feedback."""

    name: str
    title: str
    kind: str = "hold"  # "hold": a timed hold in a band; "ramp": an algometry ramp
    target_n: float | None = None  # absolute target (N) ...
    target_pct_ppt: float | None = None  # ... or % of the partner's PPT, measured first
    band_pct: float = 10.0  # hold: the band is target +- this %; ramp: rate tolerance
    hold_s: float = 30.0
    rest_s: float = 8.0
    trials: int = 6
    ramp_n_per_s: float = 5.0
    feedback: Feedback = field(default_factory=Feedback)
    retention_trials: int = 0
    retention_after_days: int = 0

    @property
    def needs_ppt(self) -> bool:
        """The target is relative to a PPT measured at the start of the drill."""
        return self.target_pct_ppt is not None

    def target_for(self, ppt_n: float | None) -> float:
        """The target force (N): absolute, or the given % of the measured PPT."""
        if self.target_pct_ppt is None:
            assert self.target_n is not None
            return self.target_n
        if ppt_n is None:
            raise DrillError("this drill's target is a % of the partner's PPT: measure it first")
        return ppt_n * self.target_pct_ppt / 100.0

    def band_for(self, target_n: float) -> tuple[float, float]:
        """The band (N) around the target."""
        half = target_n * self.band_pct / 100.0
        return target_n - half, target_n + half

    def active_s(self, target_n: float) -> float:
        """Length of one trial from the go cue to its end."""
        if self.kind == "ramp":
            return target_n / self.ramp_n_per_s * 1.6 + 2.0
        return LEAD_S + self.hold_s

    def to_dict(self) -> dict[str, Any]:
        """The drill as it would be written in a file (plus its name)."""
        fb = self.feedback
        d: dict[str, Any] = {"name": self.name, "title": self.title, "kind": self.kind,
                             "band_pct": self.band_pct, "rest_s": self.rest_s,
                             "trials": self.trials,
                             "feedback": {"schedule": fb.schedule},
                             "retention": {"trials": self.retention_trials,
                                           "after_days": self.retention_after_days}}
        if self.target_n is not None:
            d["target_n"] = self.target_n
        else:
            d["target_pct_ppt"] = self.target_pct_ppt
        if self.kind == "ramp":
            d["ramp_n_per_s"] = self.ramp_n_per_s
        else:
            d["hold_s"] = self.hold_s
        if fb.schedule == "faded":
            d["feedback"].update(start_share=fb.start_share, end_share=fb.end_share)
        elif fb.schedule == "bandwidth" and fb.tolerance_pct is not None:
            d["feedback"]["tolerance_pct"] = fb.tolerance_pct
        elif fb.schedule == "self":
            d["feedback"]["ask_s"] = fb.ask_s
        return d


def preset_names() -> list[str]:
    """The shipped presets, by name."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.json"))


def _num(d: dict[str, Any], key: str, where: str, default: float | None = None, *,
         lo: float = 0.0, hi: float = math.inf, positive: bool = True) -> float | None:
    if key not in d:
        return default
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise DrillError(f"{where}: '{key}' must be a number, not {v!r}")
    if (positive and v <= lo) or v < lo or v > hi:
        bound = f"above {lo:g}" if positive else f"at least {lo:g}"
        extra = f" and at most {hi:g}" if math.isfinite(hi) else ""
        raise DrillError(f"{where}: '{key}' must be {bound}{extra}, not {v!r}")
    return float(v)


def drill_from_dict(d: Any, name: str, where: str) -> Drill:
    """Check a drill's fields and build it; DrillError (one line) on the first problem."""
    if not isinstance(d, dict):
        raise DrillError(f"{where}: a drill file holds one JSON object {{...}}")
    known = {"title", "kind", "target_n", "target_pct_ppt", "band_pct", "hold_s", "rest_s",
             "trials", "ramp_n_per_s", "feedback", "retention", "name"}
    unknown = sorted(set(d) - known)
    if unknown:
        raise DrillError(f"{where}: unknown field '{unknown[0]}' (fields: "
                         f"{', '.join(sorted(known))})")
    kind = d.get("kind", "hold")
    if kind not in KINDS:
        raise DrillError(f"{where}: 'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
    has_n, has_pct = "target_n" in d, "target_pct_ppt" in d
    if has_n == has_pct:
        raise DrillError(f"{where}: give exactly one of 'target_n' (N) or 'target_pct_ppt' (%)")
    trials = d.get("trials", 6)
    if isinstance(trials, bool) or not isinstance(trials, int) or not 1 <= trials <= 100:
        raise DrillError(f"{where}: 'trials' must be a whole number from 1 to 100, "
                         f"not {trials!r}")
    fb_d = d.get("feedback", {"schedule": "concurrent"})
    if not isinstance(fb_d, dict):
        raise DrillError(f"{where}: 'feedback' must be an object like "
                         '{"schedule": "faded", "start_share": 1.0, "end_share": 0.25}')
    schedule = fb_d.get("schedule", "concurrent")
    if schedule not in SCHEDULES:
        raise DrillError(f"{where}: feedback 'schedule' must be one of "
                         f"{', '.join(SCHEDULES)}, not {schedule!r}")
    fw = f"{where}: feedback"
    fb = Feedback(
        schedule=schedule,
        start_share=_num(fb_d, "start_share", fw, 1.0, hi=1.0, positive=False) or 0.0,
        end_share=_num(fb_d, "end_share", fw, 0.25, hi=1.0, positive=False) or 0.0,
        tolerance_pct=_num(fb_d, "tolerance_pct", fw, None, hi=100.0),
        ask_s=_num(fb_d, "ask_s", fw, 3.0, hi=60.0) or 3.0,
    )
    ret = d.get("retention", {})
    if not isinstance(ret, dict):
        raise DrillError(f'{where}: \'retention\' must be an object like {{"trials": 3, '
                         '"after_days": 1}')
    r_trials = ret.get("trials", 0)
    r_days = ret.get("after_days", 0)
    for key, v in (("trials", r_trials), ("after_days", r_days)):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 365:
            raise DrillError(f"{where}: retention '{key}' must be a whole number from 0 "
                             f"to 365, not {v!r}")
    title = d.get("title", name)
    if not isinstance(title, str):
        raise DrillError(f"{where}: 'title' must be text")
    return Drill(
        name=name, title=title, kind=kind,
        target_n=_num(d, "target_n", where, None, hi=500.0),
        target_pct_ppt=_num(d, "target_pct_ppt", where, None, hi=150.0),
        band_pct=_num(d, "band_pct", where, 10.0, hi=100.0) or 10.0,
        hold_s=_num(d, "hold_s", where, 30.0, hi=600.0) or 30.0,
        rest_s=_num(d, "rest_s", where, 8.0, lo=0.0, hi=600.0, positive=False) or 0.0,
        trials=trials,
        ramp_n_per_s=_num(d, "ramp_n_per_s", where, 5.0, hi=100.0) or 5.0,
        feedback=fb, retention_trials=r_trials, retention_after_days=r_days,
    )


def load_drill(name_or_path: str) -> Drill:
    """A shipped preset by name, or a drill file by path; DrillError (one line) if unusable."""
    path = Path(name_or_path)
    if path.suffix != ".json" and "/" not in name_or_path:
        path = PRESETS_DIR / f"{name_or_path}.json"
        if not path.exists():
            raise DrillError(f"no preset named {name_or_path!r}: choose one of "
                             f"{', '.join(preset_names())}, or give a drill file's path")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DrillError(f"cannot read {path} ({exc.strerror}): check the path") from None
    except UnicodeDecodeError:
        raise DrillError(f"{path} is not a text file: a drill is a JSON file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DrillError(f"{path} line {exc.lineno}: not valid JSON ({exc.msg})") from None
    return drill_from_dict(data, path.stem, str(path))
