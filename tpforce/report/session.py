"""What a report is made of: a session held in memory (samples, events, context), and the
points, holds and alarms read from its events.

The points are rebuilt from the decisions the session recorded (marks, re-filings, pressure
steps, scored holds), never recomputed, so a report shows what the therapist saw.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tpforce.core import events as ev
from tpforce.core.metrics import HoldMetrics
from tpforce.core.session import Mark, Point, Session, Side


class ReportError(ValueError):
    """A session a report cannot be made of; the message says what to do."""


CONTEXT_KEYS = ("pseudonym", "operator", "date", "probe_serial", "calibration", "settings")
"""The context a session carries. Any `name`/`patient_name` key is ignored: pseudonym only."""


@dataclass
class SessionData:
    """One session in memory: calibrated samples (SAMPLE_DTYPE), every event, and its context
    (pseudonym, operator, date, probe serial, calibration record and date, settings)."""

    samples: np.ndarray
    events: list[ev.Event]
    context: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # where it was read from (a recording folder), for the report's footer

    @property
    def pseudonym(self) -> str:
        """The patient's pseudonym ('' when unknown); a name is never read from the context."""
        return str(self.context.get("pseudonym") or "").strip()

    @property
    def started(self) -> dt.datetime | None:
        """When the session took place, from the context's `date` (ISO 8601)."""
        value = self.context.get("date")
        if isinstance(value, dt.datetime):
            return value.replace(microsecond=0)
        if isinstance(value, str) and value.strip():
            try:
                return dt.datetime.fromisoformat(value.strip()).replace(microsecond=0)
            except ValueError:
                raise ReportError(f"session date {value!r} is not an ISO date-time like "
                                  "2026-03-01T09:30: fix the recording's context") from None
        return None

    @property
    def probe_serial(self) -> str:
        """The probe's serial: from the context, else from the probe's own greeting."""
        serial = str(self.context.get("probe_serial") or "")
        if not serial:
            infos = [e for e in self.events if isinstance(e, ev.DeviceInfo) and e.serial]
            serial = infos[-1].serial if infos else ""
        return serial


@dataclass
class HoldView:
    """One hold with what its plot needs: the metrics, the band in force, the steps."""

    metrics: HoldMetrics
    bands: list[ev.BandChanged]  # band changes from before the hold to its end
    steps: list[ev.PressureStep]
    alarms: list[ev.OverThreshold]
    zero: ev.ZeroChecked | None = None  # the probe's zero checked at rest after the hold


@dataclass
class PointView:
    """One point of the session: the core's Point (marks, holds, outcome) and its events."""

    point: Point
    start_s: float
    end_s: float
    holds: list[HoldView] = field(default_factory=list)
    alarms: list[ev.Event] = field(default_factory=list)  # over-threshold and signal events
    refusals: list[ev.InputRefused] = field(default_factory=list)


ALARM_EVENTS = (ev.OverThreshold, ev.SignalLost, ev.SignalRestored, ev.FramesLost,
                ev.Disconnected, ev.Reconnected, ev.DeviceReset, ev.SourceError)


def session_from_events(events: list[ev.Event]) -> tuple[Session, list[tuple[float, float]]]:
    """The core Session the events describe, and each point's (start, end) time.

    Marks, re-filings and holds are filed exactly as the tracker filed them live.
    """
    session = Session()
    spans: list[list[float]] = [[-math.inf, math.inf]]
    for e in events:
        point = session.current
        if isinstance(e, ev.PointChanged):
            spans[-1][1] = e.t_s
            new = session.next_point(e.site or None, e.side)
            new.index = e.index
            spans.append([e.t_s, math.inf])
        elif isinstance(e, ev.PhaseChanged):
            point.phase = e.phase
        elif isinstance(e, ev.ThresholdMarked):
            point.marks.append(Mark(e.t_s, e.ppt_n, e.phase, e.by))
        elif isinstance(e, ev.PressureStep) and point.marks and point.marks[-1].kind == "step":
            last = point.marks[-1]
            point.marks[-1] = Mark(last.t_s, last.ppt_n, last.kind, last.by, e.from_ppt_n)
        elif isinstance(e, ev.TrialRefiled) and 1 <= e.number <= len(point.marks):
            old = point.marks[e.number - 1]
            point.marks[e.number - 1] = Mark(old.t_s, old.ppt_n, e.to or old.kind, old.by,
                                             old.from_ppt_n, e.to is None)
        elif isinstance(e, ev.ToleranceMarked):
            point.tolerance_n.append(e.tolerance_n)
        elif isinstance(e, ev.HoldScored) and isinstance(e.metrics, HoldMetrics):
            point.holds.append(e.metrics)
    return session, [(a, b) for a, b in spans]


def point_views(data: SessionData) -> list[PointView]:
    """Every point with its holds (band, steps, alarms) and its alarm events, in order."""
    session, spans = session_from_events(data.events)
    t = data.samples["t_s"] if len(data.samples) else np.zeros(1)
    views = []
    for point, (a, b) in zip(session.points, spans, strict=True):
        views.append(PointView(point, max(a, float(t[0])), min(b, float(t[-1]))))
    bands = [e for e in data.events if isinstance(e, ev.BandChanged)]
    zeros = {e.index: e for e in data.events if isinstance(e, ev.ZeroChecked)}
    for view in views:
        a, b = view.start_s, view.end_s
        inside = [e for e in data.events if a <= e.t_s <= b or (view is views[0] and e.t_s < a)]
        view.alarms = [e for e in inside if isinstance(e, ALARM_EVENTS)]
        view.refusals = [e for e in inside if isinstance(e, ev.InputRefused)]
        for m in view.point.holds:
            before = [x for x in bands if x.t_s <= m.start_s]
            during = [x for x in bands if m.start_s < x.t_s <= m.end_s]
            steps = [x for x in data.events if isinstance(x, ev.PressureStep)
                     and m.start_s <= x.t_s <= m.end_s]
            over = [x for x in data.events if isinstance(x, ev.OverThreshold)
                    and m.start_s <= x.t_s <= m.end_s]
            view.holds.append(HoldView(m, before[-1:] + during, steps, over,
                                       zeros.get(m.index)))
    # A point left without a mark or a hold (the unnamed first point, when the therapist
    # names the first site with "next point") is not a treated point.
    kept = [v for v in views if v.point.marks or v.point.holds or v.alarms]
    return kept or views[:1]


def side_text(side: Side | None) -> str:
    """'left', 'right', 'midline' or '' for a point's side."""
    return {Side.LEFT: "left", Side.RIGHT: "right", Side.MIDLINE: "midline"}.get(side, "") \
        if side else ""
