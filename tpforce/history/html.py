"""The history report as one self-contained HTML page: the PPT table, the trend plot with the
recurrences on its time line, and the body chart, all inline SVG (no network, no scripts)."""

from __future__ import annotations

import datetime as dt
import math
from html import escape

from tpforce.history import bodychart
from tpforce.history.record import verdict_text
from tpforce.history.views import (
    CHANGE_CLASSES,
    PatientHistory,
    body_chart,
    history_table,
    timeline,
    trend,
)

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#7f7f7f", "#d62728")
CSS = """body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}
td.l,th.l{text-align:left}.fig{display:inline-block;margin-right:2em;text-align:center}
.legend span{display:inline-block;width:12px;height:12px;border:1px solid #555;margin:0 4px}"""


def _n(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _table(h: PatientHistory) -> str:
    t = history_table(h)
    head = "".join(f"<th colspan=3>{escape(c)}</th>" for c in t["columns"])
    sub = "<th>before</th><th>after</th><th>change</th>" * len(t["columns"])
    notes = {(row["visit"], c): row["points"][c]["notes"] for row in t["rows"]
             for c in t["columns"] if row["points"].get(c, {}).get("notes")}
    body = []
    for row in t["rows"]:
        cells = []
        for c in t["columns"]:
            cell = row["points"].get(c)
            if cell is None:
                cells.append("<td></td><td></td><td></td>")
            else:
                verdict = escape(verdict_text(cell["verdict"]))
                cells.append(f"<td>{_n(cell['before_n'])}</td><td>{_n(cell['after_n'])}</td>"
                             f"<td title='{verdict}'>{_n(cell['change_n'])}</td>")
        text = [row["notes"]] if row["notes"] else []
        text += [f"{c}: {notes[row['visit'], c]}" for c in t["columns"]
                 if (row["visit"], c) in notes]
        body.append(f"<tr><td>{row['visit']}</td><td class=l>{escape(row['visited_at'])}</td>"
                    f"<td class=l>{escape(row['operator'])}</td>{''.join(cells)}"
                    f"<td class=l>{escape('; '.join(text))}</td></tr>")
    return (f"<table><tr><th rowspan=2>visit</th><th rowspan=2 class=l>date</th>"
            f"<th rowspan=2 class=l>operator</th>{head}<th rowspan=2 class=l>notes</th></tr>"
            f"<tr>{sub}</tr>{''.join(body)}"
            "</table>")


def trend_svg(h: PatientHistory, width: int = 760, height: int = 380) -> str:
    """PPT after (solid) and before (dashed) per point over time; recurrences as red lines."""
    series = trend(h)
    events = timeline(h)
    dates = [dt.date.fromisoformat(e["date"] if "date" in e else e["occurred_on"])
             for e in events]
    values = [v for s in series for p in s["values"] for v in (p["before_n"], p["after_n"])
              if v is not None]
    if not dates or not values:
        return "<p>No PPT measured yet.</p>"
    left, right, top, bottom = 50, 20, 20, 40 + 16 * (len(series) + 1)
    d0, d1 = min(dates), max(dates)
    span = max((d1 - d0).days, 1)
    step = _nice_step(max(values) / 5)
    vmax = step * (int(max(values) / step) + 1)

    def x(day: dt.date) -> float:
        return left + (width - left - right) * (day - d0).days / span

    def y(v: float) -> float:
        return height - bottom - (height - top - bottom) * v / vmax

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' role='img' aria-label='PPT trend'>",
             f"<line x1='{left}' y1='{y(0):.1f}' x2='{width - right}' y2='{y(0):.1f}' "
             "stroke='#555'/>",
             f"<line x1='{left}' y1='{top}' x2='{left}' y2='{y(0):.1f}' stroke='#555'/>",
             f"<text x='10' y='{top + 4}' font-size='11'>N</text>"]
    for k in range(round(vmax / step) + 1):
        v = step * k
        parts.append(f"<text x='{left - 6}' y='{y(v) + 4:.1f}' font-size='10' "
                     f"text-anchor='end'>{v:.0f}</text>")
    for e in events:
        if e["kind"] == "visit":
            day = dt.date.fromisoformat(e["date"])
            parts.append(f"<text x='{x(day):.1f}' y='{height - bottom + 14}' font-size='10' "
                         f"text-anchor='middle'>{day.strftime('%d %b')}</text>")
        else:
            day = e["occurred_on"]
            xx = x(dt.date.fromisoformat(day))
            label = f"pain {e['nrs']}/10, {e['region']}: {e['activity']} ({day})"
            parts.append(f"<g class='recurrence'><title>{escape(label)}</title>"
                         f"<line x1='{xx:.1f}' y1='{top}' x2='{xx:.1f}' y2='{y(0):.1f}' "
                         "stroke='#d62728' stroke-dasharray='4 3'/>"
                         f"<text x='{xx + 3:.1f}' y='{top + 10}' font-size='10' "
                         f"fill='#d62728'>NRS {e['nrs']}</text></g>")
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        for key, dash in (("before_n", " stroke-dasharray='5 4'"), ("after_n", "")):
            pts = [(x(dt.date.fromisoformat(p["date"])), y(p[key]))
                   for p in s["values"] if p[key] is not None]
            if not pts:
                continue
            line = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
            parts.append(f"<polyline class='ppt' points='{line}' fill='none' "
                         f"stroke='{colour}' stroke-width='2'{dash}/>")
            parts += [f"<circle cx='{a:.1f}' cy='{b:.1f}' r='3' fill='{colour}'/>"
                      for a, b in pts]
        parts.append(f"<text x='{left}' y='{height - bottom + 34 + 16 * i}' font-size='11' "
                     f"fill='{colour}'>{escape(s['point'])}</text>")
    parts.append(f"<text x='{left}' y='{height - bottom + 34 + 16 * len(series)}' "
                 "font-size='11' fill='#555'>solid: PPT after treatment; dashed: before; "
                 "red: pain came back (NRS 0-10)</text></svg>")
    return "".join(parts)


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least `raw`."""
    power = 10.0 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def body_chart_figures(h: PatientHistory) -> list[tuple[str, str]]:
    """The front and back outlines as SVG documents, each treated point coloured by its
    latest PPT change: [(view, svg), ...]."""
    chart = body_chart(h)
    figures = []
    for view, marks in (("front", bodychart.FRONT_MARKS), ("back", bodychart.BACK_MARKS)):
        dots = []
        for p in chart["points"]:
            if p["view"] != view:
                continue
            tip = (f"{p['point']}: change {_n(p['change_n'])} N "
                   f"({verdict_text(p['verdict'])}, {p['date']})")
            dots.append(f"<circle class='site' cx='{p['x']:.0f}' cy='{p['y']:.0f}' r='7' "
                        f"fill='{p['colour']}' stroke='#222'><title>{escape(tip)}</title>"
                        "</circle>")
        figures.append((view, (
            f"<svg xmlns='http://www.w3.org/2000/svg' width='200' height='440' "
            f"viewBox='0 0 {bodychart.WIDTH} {bodychart.HEIGHT}' role='img' "
            f"aria-label='body chart, {view}'><path d='{bodychart.OUTLINE}' fill='#f4efe9' "
            f"stroke='#666'/><path d='{marks}' fill='none' stroke='#999'/>{''.join(dots)}"
            "</svg>")))
    return figures


def body_chart_svg(h: PatientHistory) -> str:
    """Front and back outlines with each treated point coloured by its latest PPT change."""
    chart = body_chart(h)
    figures = [f"<div class=fig>{svg}<div>{view} (patient's right on the "
               f"{'left' if view == 'front' else 'right'})</div></div>"
               for view, svg in body_chart_figures(h)]
    legend = " ".join(f"<span style='background:{colour}'></span>{escape(text)}"
                      for colour, text in CHANGE_CLASSES.values())
    unplaced = "".join(f"<li>{escape(p['point'])}: change {_n(p['change_n'])} N</li>"
                       for p in chart["unplaced"])
    extra = f"<p>Not on the chart:</p><ul>{unplaced}</ul>" if unplaced else ""
    return f"{''.join(figures)}<p class=legend>{legend}</p>{extra}"


def _recurrence_list(h: PatientHistory) -> str:
    items = []
    for e in timeline(h):
        if e["kind"] != "recurrence":
            continue
        after = (f", day {e['days_after_visit']} after the visit"
                 if e["days_after_visit"] is not None else "")
        items.append(f"<li>{escape(e['occurred_on'])}{after}: pain {e['nrs']}/10 in "
                     f"{escape(e['region'])}, after {escape(e['activity'] or '(not said)')}"
                     "</li>")
    return f"<ul>{''.join(items)}</ul>" if items else "<p>No recurrence logged.</p>"


def render_html(h: PatientHistory, generated: dt.datetime | None = None) -> str:
    """The whole report page for one patient (pseudonym only)."""
    when = (generated or dt.datetime.now()).replace(microsecond=0).isoformat(sep=" ")
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<title>tpforce history {escape(h.patient)}</title><style>{CSS}</style></head>"
            f"<body><h1>History of patient {escape(h.patient)}</h1>"
            f"<p>{len(h.visits)} visit(s); PPT in newtons, mean of the trials. "
            f"Generated {escape(when)}.</p>"
            f"<h2>PPT per point</h2>{_table(h)}<h2>Trend</h2>{trend_svg(h)}"
            f"<h2>Recurrence</h2>{_recurrence_list(h)}"
            f"<h2>Body chart: latest PPT change</h2>{body_chart_svg(h)}</body></html>\n")

