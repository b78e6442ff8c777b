"""The history window: one patient's visits, PPT before and after per point over the visits
as a plot with the recurrences on its time line, the table with each verdict in words, the
recurrence entries, and the body chart coloured by the latest change.

It is handed a `PatientHistory` (the command reads the store) and draws the same numbers as
`tpforce history PATIENT`, `--json` and the HTML report, from `tpforce.history.views`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore, QtGui, QtSvg, QtWidgets

from tpforce.history.html import PALETTE, body_chart_figures
from tpforce.history.record import RecordError, RecurrenceEntry, verdict_text
from tpforce.history.store import HistoryError
from tpforce.history.views import (
    CHANGE_CLASSES,
    PatientHistory,
    body_chart,
    classify,
    history_table,
    recurrences,
)

SIZE = (1280, 860)

RecurrenceLogger = Callable[[RecurrenceEntry], tuple[bool, PatientHistory]]
"""Stores an entry for the window's patient; returns whether it was new and the history read
again. A RecordError or HistoryError it raises is shown as its one-line reason."""
RECURRENCE_PEN = "#c62828"
SYMBOLS_UP_TO = 200  # visits; beyond, plain lines (markers would hide them)


def _n(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _stamp(iso: str) -> float:
    """Seconds since the epoch of an ISO date or date-time (for the date axis)."""
    when = dt.datetime.fromisoformat(iso)
    return when.replace(tzinfo=when.tzinfo or dt.timezone.utc).timestamp()


def recurrence_line(e: dict[str, Any]) -> str:
    """One recurrence entry in words, with the days since the visit before it."""
    since = (f", day {e['days_after_visit']} after a visit"
             if e["days_after_visit"] is not None else ", before the first visit")
    after = f", after {e['activity']}" if e["activity"] else ""
    return f"{e['occurred_on']}{since}: pain {e['nrs']}/10 in {e['region']}{after}"


class HistoryWindow(QtWidgets.QMainWindow):
    """A patient's history on screen: trend plot, table with verdicts, recurrences, chart."""

    def __init__(self, history: PatientHistory,
                 log_recurrence: RecurrenceLogger | None = None) -> None:
        super().__init__()
        self.history = history
        self.log_recurrence = log_recurrence
        self.setWindowTitle(f"tpforce history - {history.patient}")
        self.resize(*SIZE)
        table = history_table(history)
        self.columns: list[str] = table["columns"]
        self.header = QtWidgets.QLabel(self._header_text())
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot.setBackground("w")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("left", "PPT", units="N")
        self.plot.addLegend(offset=(-10, -10), labelTextColor="#222")  # bottom right
        self.curves: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self.recurrence_marks: list[pg.InfiniteLine] = []
        self._draw_trend(table)
        self.table = self._table(table)
        self.recurrence = QtWidgets.QListWidget()
        self.recurrence.setWordWrap(True)
        self._list_recurrence()
        self.form = self._recurrence_form()
        self.chart = self._body_chart()
        self._layout()

    # -- parts ----------------------------------------------------------------------------------

    def _header_text(self) -> str:
        h = self.history
        return (f"<b>patient {h.patient}</b>: {len(h.visits)} visit(s), "
                f"{len(self.columns)} point(s), {len(h.recurrence)} recurrence(s); "
                "PPT in N, the mean of the trials")

    def _draw_trend(self, table: dict[str, Any]) -> None:
        """Per point, PPT after (solid) and before (dashed; beyond SYMBOLS_UP_TO visits a
        thin pale line, as Qt strokes a dashed line of thousands of points very slowly) at
        each visit's date."""
        rows = table["rows"]
        x = np.array([_stamp(r["visited_at"]) for r in rows], dtype=float)
        few = len(rows) <= SYMBOLS_UP_TO  # a marker at each visit; years of visits: lines
        self.plot.setDownsampling(auto=True, mode="peak")  # thousands of visits draw fast
        self.plot.setClipToView(True)
        for k, label in enumerate(self.columns):
            colour = PALETTE[k % len(PALETTE)]
            cells = [r["points"].get(label) for r in rows]
            have = np.array([c is not None for c in cells], dtype=bool)
            ppt = {key: np.array([np.nan if c is None or c[key] is None else c[key]
                                  for c in cells], dtype=float)[have]
                   for key in ("before_n", "after_n")}
            after = self.plot.plot(x[have], ppt["after_n"], name=f"{label}: after",
                                   pen=pg.mkPen(colour, width=2), connect="finite",
                                   **({"symbol": "o", "symbolSize": 7, "symbolBrush": colour,
                                       "symbolPen": colour} if few else {}))
            before = self.plot.plot(x[have], ppt["before_n"], name=f"{label}: before",
                                    pen=pg.mkPen(colour, width=2, style=QtCore.Qt.DashLine)
                                    if few else pg.mkPen(pg.mkColor(colour + "73"), width=1),
                                    connect="finite",
                                    **({"symbol": "t", "symbolSize": 7, "symbolBrush": "w",
                                        "symbolPen": colour} if few else {}))
            self.curves[label] = (before, after)
        marks = [_stamp(e["occurred_on"]) for e in recurrences(self.history)]
        span = np.concatenate([x, marks]) if len(x) or marks else np.zeros(1)
        pad = max(0.1 * float(np.ptp(span)), 2 * 86_400.0)  # the end dates fit
        self.plot.setXRange(float(span.min()) - pad, float(span.max()) + pad, padding=0)
        if 0 < len(x) <= 16:  # few visits: a tick at each, named by its date
            self.plot.getAxis("bottom").setTicks([[
                (float(t), r["visited_at"][:10]) for t, r in zip(x, rows, strict=True)]])
        self._mark_recurrence()

    def _mark_recurrence(self) -> None:
        """Each recurrence as a red line on the plot's time line, marked with its pain."""
        for line in self.recurrence_marks:
            self.plot.removeItem(line)
        self.recurrence_marks.clear()
        for e in recurrences(self.history):
            line = pg.InfiniteLine(pos=_stamp(e["occurred_on"]), angle=90,
                                   pen=pg.mkPen(RECURRENCE_PEN, style=QtCore.Qt.DashLine),
                                   label=f"NRS {e['nrs']}",
                                   labelOpts={"color": RECURRENCE_PEN, "position": 0.97,
                                              "anchors": [(0, 0), (0, 0)]})
            self.plot.addItem(line)
            self.recurrence_marks.append(line)

    def _list_recurrence(self) -> None:
        self.recurrence.clear()
        for e in recurrences(self.history):
            self.recurrence.addItem(recurrence_line(e))
        if not self.history.recurrence:
            self.recurrence.addItem("no recurrence logged")

    def _recurrence_form(self) -> QtWidgets.QWidget:
        """Date, region, pain 0-10 and what came before: the patient's report, logged."""
        box = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.when = QtWidgets.QDateEdit(QtCore.QDate.currentDate())
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("yyyy-MM-dd")
        self.region = QtWidgets.QLineEdit()
        self.region.setPlaceholderText("region or point")
        self.nrs = QtWidgets.QSpinBox()
        self.nrs.setRange(0, 10)
        self.nrs.setPrefix("pain ")
        self.nrs.setSuffix("/10")
        self.activity = QtWidgets.QLineEdit()
        self.activity.setPlaceholderText("after (activity)")
        self.log_button = QtWidgets.QPushButton("Log")
        self.log_button.clicked.connect(self.log)
        for widget, stretch in ((self.when, 0), (self.region, 2), (self.nrs, 0),
                                (self.activity, 3), (self.log_button, 0)):
            row.addWidget(widget, stretch=stretch)
        self.log_result = QtWidgets.QLabel("")
        self.log_result.setWordWrap(True)
        box.setEnabled(self.log_recurrence is not None)
        return box

    def log(self) -> None:
        """Store the entry in the form and show it on the time line; a bad entry or a store
        that cannot be written is said in one line and nothing changes."""
        if self.log_recurrence is None:
            return
        day = self.when.date()
        try:
            entry = RecurrenceEntry(dt.date(day.year(), day.month(), day.day()),
                                    self.region.text().strip(), self.nrs.value(),
                                    self.activity.text().strip())
            if ":" in entry.region:
                raise RecordError("the region may not hold a colon")
            added, history = self.log_recurrence(entry)
        except (RecordError, HistoryError) as exc:
            self._say(f"not logged: {exc}", error=True)
            return
        self.history = history
        self.header.setText(self._header_text())
        self._list_recurrence()
        self._mark_recurrence()
        self._say(f"{'logged' if added else 'already logged'}: {entry.occurred_on} pain "
                  f"{entry.nrs}/10 in {entry.region}"
                  f"{', after ' + entry.activity if entry.activity else ''}")

    def _say(self, text: str, error: bool = False) -> None:
        self.log_result.setText(text)
        self.log_result.setStyleSheet("color: #b71c1c" if error else "")

    def _table(self, table: dict[str, Any]) -> QtWidgets.QTableWidget:
        """One row per visit; per point its PPT before -> after (change) and the verdict."""
        heads = ["visit", "date", "operator"]
        for label in self.columns:
            heads += [f"{label}\nPPT before → after", f"{label}\nverdict"]
        heads.append("notes")
        rows = table["rows"]
        widget = QtWidgets.QTableWidget(len(rows), len(heads))
        widget.setHorizontalHeaderLabels(heads)
        widget.verticalHeader().setVisible(False)
        widget.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        for i, row in enumerate(rows):
            texts = [str(row["visit"]), row["visited_at"].replace("T", " ")[:16],
                     row["operator"]]
            colours: list[str | None] = [None, None, None]
            for label in self.columns:
                cell = row["points"].get(label)
                if cell is None:
                    texts += ["", ""]
                    colours += [None, None]
                    continue
                change = "" if cell["change_n"] is None else f" ({cell['change_n']:+.1f})"
                texts.append(f"{_n(cell['before_n'])} → {_n(cell['after_n'])}{change}")
                texts.append(verdict_text(cell["verdict"]))
                colours += [None, CHANGE_CLASSES[classify(cell["change_n"],
                                                          cell["verdict"])][0]]
            texts.append(row["notes"])
            colours.append(None)
            for j, (text, colour) in enumerate(zip(texts, colours, strict=True)):
                item = QtWidgets.QTableWidgetItem(text)
                if colour is not None:
                    item.setBackground(QtGui.QColor(colour).lighter(160))
                widget.setItem(i, j, item)
        widget.resizeColumnsToContents()
        if rows:
            widget.scrollToItem(widget.item(len(rows) - 1, 0))  # the latest visit in view
        return widget

    def _body_chart(self) -> QtWidgets.QWidget:
        """Front and back outlines with each point in its latest class (the HTML's SVG)."""
        box = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(box)
        chart = body_chart(self.history)
        for view, svg in body_chart_figures(self.history):
            svg_widget = QtSvg.QSvgWidget()
            svg_widget.load(QtCore.QByteArray(svg.encode("utf-8")))
            svg_widget.setFixedSize(120, 264)
            svg_widget.setToolTip(f"{view}: " + "; ".join(
                f"{p['point']} {_n(p['change_n'])} N" for p in chart["points"]
                if p["view"] == view))
            column = QtWidgets.QVBoxLayout()
            column.addWidget(svg_widget)
            column.addWidget(QtWidgets.QLabel(view))
            row.addLayout(column)
        legend = QtWidgets.QLabel("<br>".join(
            f"<span style='background:{colour}'>&nbsp;&nbsp;&nbsp;</span> {text}"
            for colour, text in CHANGE_CLASSES.values()))
        font = legend.font()
        font.setPointSizeF(font.pointSizeF() * 0.85)
        legend.setFont(font)
        legend.setWordWrap(True)
        row.addWidget(legend, stretch=1)
        self.unplaced = [p["point"] for p in chart["unplaced"]]
        return box

    def _layout(self) -> None:
        central = QtWidgets.QWidget()
        outer = QtWidgets.QVBoxLayout(central)
        outer.addWidget(self.header)
        split = QtWidgets.QHBoxLayout()
        split.addWidget(self.plot, stretch=3)
        side = QtWidgets.QVBoxLayout()
        side.addWidget(QtWidgets.QLabel("<b>Recurrence</b> (pain came back)"))
        side.addWidget(self.recurrence, stretch=1)
        side.addWidget(self.form)
        side.addWidget(self.log_result)
        side.addWidget(QtWidgets.QLabel("<b>Body chart</b>: latest PPT change"))
        side.addWidget(self.chart)
        if self.unplaced:
            side.addWidget(QtWidgets.QLabel("not on the chart: " + ", ".join(self.unplaced)))
        split.addLayout(side, stretch=2)
        outer.addLayout(split, stretch=3)
        outer.addWidget(self.table, stretch=2)
        self.setCentralWidget(central)

    def screenshot(self, path: str) -> bool:
        """Save the window as a PNG; True on success."""
        return bool(self.grab().save(path, "PNG"))


def show_history(history: PatientHistory, screenshot: str | None = None,
                 log_recurrence: RecurrenceLogger | None = None) -> int:
    """Open the history window until it is closed; with `screenshot`, save a PNG of it and
    close. 0 on success, 1 if the PNG could not be written, 130 on Ctrl-C or SIGTERM."""
    import sys

    from tpforce.ui.loop import run_until_closed

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    window = HistoryWindow(history, log_recurrence)
    window.show()
    if screenshot is not None:
        app.processEvents()
        ok = window.screenshot(screenshot)
        window.close()
        return 0 if ok else 1
    return run_until_closed(app, window, label="history window")
