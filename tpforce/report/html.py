"""The report as HTML: one section per session, one per point, each hold with its plot.

The same markup serves the browser (images inline as base64 PNG, a small style sheet, no
scripts, no network) and Qt's QTextDocument for the PDF (images as document resources), so
the two say the same thing.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from tpforce.core import events as ev
from tpforce.core.session import MdcVerdict, Outcome
from tpforce.history.record import VERDICT_TEXT as WORDS
from tpforce.history.record import RecordError, check_pseudonym
from tpforce.report.session import PointView, ReportError, SessionData, point_views, side_text
from tpforce.ui import report_plots as plots

VERDICT_TEXT = {v: WORDS[v.value] for v in MdcVerdict}  # the history says the same

STYLE = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 10.5pt; color: #222;
       max-width: 780px; margin: 16px auto; }
h1 { font-size: 17pt; margin-bottom: 4px; } h2 { font-size: 14pt; border-bottom: 1px solid #999; }
h3 { font-size: 12pt; margin-bottom: 2px; } h4 { font-size: 10.5pt; margin-bottom: 2px; }
table { border-collapse: collapse; margin: 4px 0 10px 0; }
td, th { border: 1px solid #bbb; padding: 2px 6px; text-align: left; }
th { background: #eee; } td.n { text-align: right; }
.note { color: #555; font-size: 9pt; } img { max-width: 100%; }
.warn { color: #9a1c00; font-weight: bold; }
"""

Embed = Callable[[bytes], str]
"""How an image is referenced: a data: URI for the browser, a resource name for Qt."""


def data_uri(png: bytes) -> str:
    """A PNG as an inline data: URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(value: float | None, digits: int = 1, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _rows(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in pairs)


def _img(embed: Embed, png: bytes, alt: str, width: int = 720) -> str:
    return f'<p><img src="{embed(png)}" width="{width}" alt="{_e(alt)}"></p>'


def _header(data: SessionData) -> str:
    """Patient pseudonym, date, operator, probe and its calibration, settings."""
    ctx = data.context
    try:
        patient = check_pseudonym(data.pseudonym) if data.pseudonym else "(no pseudonym)"
    except RecordError as exc:
        raise ReportError(f"{data.source or 'session'}: {exc}") from None
    when = data.started
    found = ctx.get("calibration")
    cal: dict[str, Any] = found if isinstance(found, dict) else {}
    pairs = [("patient (pseudonym)", patient),
             ("date", when.isoformat(sep=" ") if when else "unknown"),
             ("operator", str(ctx.get("operator") or "-")),
             ("probe serial", data.probe_serial or "unknown"),
             ("calibration record", str(cal.get("record") or "none named")),
             ("calibration date", str(cal.get("date") or "unknown"))]
    for key in ("n_per_count", "zero_counts", "tip_area_cm2"):
        if key in cal:
            pairs.append((f"calibration {key.replace('_', ' ')}", f"{cal[key]:g}"
                          if isinstance(cal[key], (int, float)) else str(cal[key])))
    t = data.samples["t_s"]
    if len(t):
        pairs.append(("recorded", f"{len(t)} samples over {float(t[-1] - t[0]):.1f} s"))
    out = f"<table>{_rows(pairs)}</table>"
    settings = ctx.get("settings")
    if isinstance(settings, dict) and settings:
        out += "<h4>Settings</h4><table>" + _rows(
            [(str(k), str(v)) for k, v in sorted(settings.items())]) + "</table>"
    return out


def _outcome(o: Outcome, trials_before: list[float], trials_after: list[float]) -> str:
    verdict = VERDICT_TEXT.get(o.verdict, "no verdict until both sides have a trial") \
        if o.verdict else "no verdict until both sides have a trial"
    mdc = (f"{o.mdc_kpa[0]:.0f} kPa" if o.mdc_kpa[0] == o.mdc_kpa[1]
           else f"{o.mdc_kpa[0]:.0f}-{o.mdc_kpa[1]:.0f} kPa")
    before = ", ".join(f"{v:.1f}" for v in trials_before) or "-"
    after = ", ".join(f"{v:.1f}" for v in trials_after) or "-"
    return ("<table><tr><th></th><th>trials (N)</th><th>PPT, mean (N)</th></tr>"
            f"<tr><th>before</th><td class=\"n\">{before}</td>"
            f"<td class=\"n\">{_n(o.ppt_before_n)}</td></tr>"
            f"<tr><th>after</th><td class=\"n\">{after}</td>"
            f"<td class=\"n\">{_n(o.ppt_after_n)}</td></tr>"
            f"<tr><th>change</th><td colspan=\"2\">{_n(o.change_n, signed=True)} N, "
            f"{_n(o.change_kpa, 0, signed=True)} kPa</td></tr>"
            f"<tr><th>verdict</th><td colspan=\"2\">{_e(verdict)} (MDC {mdc}, "
            f"{_e(o.mdc_source)})</td></tr></table>")


HOLD_COLUMNS = [("hold", "index", 0), ("start (s)", "start_s", 1), ("end (s)", "end_s", 1),
                ("ended by", "ended_by", None), ("target (s)", "target_s", 0),
                ("in band (s)", "in_band_s", 1), ("in band (% of hold)", "in_band_pct", 0),
                ("target reached", "completed", None), ("mean force (N)", "mean_n", 1),
                ("SD (N)", "sd_n", 2), ("CV (%)", "cv", None),
                ("RMSE from band centre (N)", "rmse_n", 2), ("max force (N)", "max_n", 1),
                ("excursions above band", "above_count", 0), ("time above band (s)", "above_s", 1),
                ("excursions below band", "below_count", 0), ("time below band (s)", "below_s", 1),
                ("over-threshold crossings", "over_count", 0),
                ("time over threshold (s)", "over_s", 1), ("no-data time (s)", "unknown_s", 1),
                ("pressure steps", "pressure_steps", 0), ("drift (N/s)", "drift_n_per_s", 3)]


def _metric_text(attr: str, value: object, digits: int | None) -> str:
    if attr == "cv":
        return _n(100 * value, 1) if isinstance(value, float) else "-"
    if attr == "ended_by":
        return str(getattr(value, "value", value)).replace("_", " ")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if digits is not None and isinstance(value, (int, float)):
        return _n(float(value), digits)
    return str(value)


def zero_text(zero: ev.ZeroChecked | None) -> str:
    """The zero check after a hold in a few words: within the limit, moved (the hold's
    forces carry that error), or not checked and why."""
    if zero is None:
        return "not checked"
    if not zero.checked:
        return "not checked: " + zero.message.split(": ", 1)[-1]
    drift = zero.drift_n if zero.drift_n is not None else math.nan
    if zero.exceeded:
        return f"moved {drift:+.2f} N (limit {zero.limit_n:.2f} N): forces carry that error"
    return f"within {zero.limit_n:.2f} N ({drift:+.2f} N)"


def _hold_table(view: PointView) -> str:
    """The hold metrics: one row per metric, one column per hold (fits a page's width)."""
    head = "<tr><th>metric</th>" + "".join(
        f"<th>hold {h.metrics.index}</th>" for h in view.holds) + "</tr>"
    body = []
    for label, attr, digits in HOLD_COLUMNS[1:]:
        cells = "".join(f'<td class="n">{_e(_metric_text(attr, getattr(h.metrics, attr), digits))}'
                        "</td>" for h in view.holds)
        body.append(f"<tr><th>{_e(label)}</th>{cells}</tr>")
    cells = "".join(f'<td{_WARN if h.zero is not None and h.zero.exceeded else ""}>'
                    f"{_e(zero_text(h.zero))}</td>" for h in view.holds)
    body.append(f"<tr><th>zero at rest after the hold</th>{cells}</tr>")
    return f"<table>{head}{''.join(body)}</table>"


_WARN = ' class="warn"'


def _alarm_text(e: ev.Event) -> str:
    if isinstance(e, ev.OverThreshold):
        level = e.priority.name.lower()
        return (f"over threshold: {e.force_n:.1f} N against {e.ppt_n:.1f} N, {level} priority"
                + (", escalated" if e.escalation else "")
                + (" (trial phase: shown, silent)" if e.silent else ""))
    if isinstance(e, ev.SignalLost):
        return "signal lost"
    if isinstance(e, ev.SignalRestored):
        return f"signal back after {e.gap_s:.1f} s"
    if isinstance(e, ev.FramesLost):
        return f"{e.count} frame(s) lost"
    if isinstance(e, ev.Disconnected):
        return f"probe disconnected ({e.reason})"
    if isinstance(e, ev.Reconnected):
        return f"probe reconnected after {e.gap_s:.1f} s"
    if isinstance(e, ev.DeviceReset):
        return "probe restarted"
    if isinstance(e, ev.SourceError):
        return f"source error: {e.message}"
    return type(e).__name__


def _point(view: PointView, number: int, t: np.ndarray, f: np.ndarray, embed: Embed) -> str:
    p = view.point
    side = side_text(p.side)
    title = f"Point {number}: {p.site or 'unnamed site'}" + (f", {side}" if side else "")
    out = [f"<h3>{_e(title)}</h3>",
           _outcome(p.outcome(), p.trials_before_n, p.trials_after_n)]
    deleted = [m for m in p.marks if m.deleted]
    steps = p.pressure_steps_n
    if steps:
        out.append("<p>pressure steps: " + ", ".join(
            f"{a:.1f} s: {b:.1f} \u2192 {c:.1f} N" for a, b, c in steps) + "</p>")
    if deleted:
        out.append(f'<p class="note">{len(deleted)} mark(s) deleted by the therapist, not '
                   "counted: " + ", ".join(f"{m.ppt_n:.1f} N at {m.t_s:.1f} s"
                                           for m in deleted) + "</p>")
    if view.holds:
        out.append("<h4>Holds</h4>" + _hold_table(view))
        drifted = [h for h in view.holds if h.zero is not None and h.zero.exceeded]
        if drifted:
            out.append("<p class=\"warn\">the probe's zero had moved beyond its limit after "
                       + ", ".join(f"hold {h.metrics.index} ({h.zero.drift_n:+.2f} N)"
                                   for h in drifted if h.zero is not None)
                       + ": those holds' forces carry that error; tare at rest before the "
                       "next session</p>")
        for h in view.holds:
            m = h.metrics
            ended = m.ended_by.value.replace("_", " ")
            png = plots.hold_plot(t, f, h.bands, h.steps, h.alarms, m.start_s, m.end_s,
                                  f"hold {m.index}: {m.in_band_s:.0f} s in band (target "
                                  f"{m.target_s:.0f} s), ended by {ended}")
            out.append(_img(embed, png, f"hold {m.index} trace"))
    else:
        out.append('<p class="note">no hold on this point</p>')
    sounding = [e for e in view.alarms if not (isinstance(e, ev.OverThreshold) and e.silent)]
    silent = len(view.alarms) - len(sounding)
    if sounding:
        out.append("<h4>Alarms and signal</h4><table><tr><th>time (s)</th><th>what</th></tr>"
                   + "".join(f'<tr><td class="n">{e.t_s:.1f}</td><td>{_e(_alarm_text(e))}'
                             "</td></tr>" for e in sounding) + "</table>")
    else:
        out.append('<p class="note">no alarm sounded on this point</p>')
    if silent:
        out.append(f'<p class="note">{silent} crossing(s) of the threshold in trial phases '
                   "(shown, silent: a trial ends at the threshold)</p>")
    return "\n".join(out)


def session_html(data: SessionData, number: int, embed: Embed) -> str:
    """One session's section."""
    views = point_views(data)
    t = np.asarray(data.samples["t_s"], dtype=np.float64)
    f = np.asarray(data.samples["force_n"], dtype=np.float64)
    marks = [(m.t_s, m.ppt_n, m.kind) for v in views for m in v.point.marks if not m.deleted]
    starts = [(v.start_s, v.point.label) for v in views]
    when = data.started
    head = f"Session {number}" + (f", {when.date().isoformat()}" if when else "")
    out = [f"<h2>{_e(head)}</h2>", _header(data),
           _img(embed, plots.overview_plot(t, f, marks, starts, "the whole session: force "
                                           "and PPT marks (purple before, orange after, red "
                                           "steps)"), "session overview")]
    out += [_point(v, k + 1, t, f, embed) for k, v in enumerate(views)]
    if data.source:
        out.append(f'<p class="note">from {_e(data.source)}</p>')
    return "\n".join(out)


def render(sessions: list[SessionData], embed: Embed = data_uri,
           generated: dt.datetime | None = None, style: bool = True) -> str:
    """The whole report: a title, then each session."""
    now = (generated or dt.datetime.now()).replace(microsecond=0)
    body = "\n".join(session_html(s, k + 1, embed) for k, s in enumerate(sessions))
    css = f"<style>{STYLE}</style>" if style else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>tpforce session report</title>"
            f"{css}</head><body><h1>tpforce session report</h1>"
            f'<p class="note">made {now.isoformat(sep=" ")}; forces in N; PPT is the '
            "pressure pain threshold; the patient is named by pseudonym only.</p>"
            f"{body}</body></html>\n")
