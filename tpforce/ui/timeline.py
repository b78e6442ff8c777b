"""The replay's timeline: the whole recording as a bar with its trials, holds, pressure steps
and alarms marked from the recorded events, the position played, and a click to seek."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from PyQt5 import QtCore, QtGui, QtWidgets

from tpforce.core.events import (
    Event,
    HoldEnded,
    HoldStarted,
    OverThreshold,
    SignalLost,
    ThresholdMarked,
)

COLOURS = {"trial": "#1565c0", "step": "#ef6c00", "hold": "#2e7d32", "alarm": "#c62828",
           "nosignal": "#616161"}
"""Mark colours by kind; the legend under the bar says the same in words."""
KIND_WORDS = {"trial": "trials", "step": "pressure steps", "hold": "holds", "alarm": "alarms",
              "nosignal": "signal lost"}


@dataclass(frozen=True, slots=True)
class Mark:
    """One thing on the timeline: a point in time (trial, step, alarm) or a span (hold)."""

    kind: str  # "trial", "step", "hold", "alarm", "nosignal"
    t_s: float
    end_s: float | None = None  # the end of a span (a hold)
    label: str = ""


def marks_from_events(events: Iterable[Event], end_s: float) -> list[Mark]:
    """The timeline's marks from a recording's events (holds still running at the end of
    the recording span to `end_s`)."""
    marks: list[Mark] = []
    open_holds: dict[int, float] = {}
    for e in events:
        if isinstance(e, ThresholdMarked):
            kind = "step" if e.phase == "step" else "trial"
            what = "pressure step" if kind == "step" else f"{e.phase} trial {e.trial}"
            marks.append(Mark(kind, e.t_s, None, f"{what}: {e.ppt_n:.1f} N"))
        elif isinstance(e, HoldStarted):
            open_holds[e.index] = e.t_s
        elif isinstance(e, HoldEnded) and e.index in open_holds:
            done = "complete" if e.completed else "not complete"
            marks.append(Mark("hold", open_holds.pop(e.index), e.t_s,
                              f"hold {e.index}: {e.in_band_s:.1f} s in band, {done}"))
        elif isinstance(e, OverThreshold) and not e.silent and not e.escalation:
            marks.append(Mark("alarm", e.t_s, None, f"over threshold: {e.force_n:.1f} N"))
        elif isinstance(e, SignalLost):
            marks.append(Mark("nosignal", e.t_s, None, "signal lost"))
    for index, start in open_holds.items():
        marks.append(Mark("hold", start, end_s, f"hold {index}: running at the end"))
    marks.sort(key=lambda m: m.t_s)
    return marks


class Timeline(QtWidgets.QWidget):
    """A bar from the recording's first to last sample; click on it, or drag and let go,
    to seek."""

    seek = QtCore.pyqtSignal(float)
    """Emitted with the recording time clicked."""

    MARGIN = 10

    def __init__(self, start_s: float, end_s: float, marks: list[Mark],
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.start_s, self.end_s = start_s, max(end_s, start_s + 1e-6)
        self.marks = marks
        self.position_s = start_s
        self._pressed_s = start_s
        self.dragging = False  # the button is held on the bar: the window leaves the line be
        self.setMinimumHeight(54)
        self.setSizePolicy(QtWidgets.QSizePolicy.Expanding, QtWidgets.QSizePolicy.Fixed)
        self.setMouseTracking(True)
        self.setCursor(QtCore.Qt.PointingHandCursor)
        self.setFocusPolicy(QtCore.Qt.NoFocus)
        kinds = sorted({m.kind for m in marks}, key=list(COLOURS).index)
        self.setToolTip("click to go there · " + " · ".join(
            f"{KIND_WORDS[k]} ({COLOURS[k]})" for k in kinds))

    def set_position(self, t_s: float) -> None:
        """Move the position line (repaints only when it moved by a pixel or more)."""
        if abs(self.x_of(t_s) - self.x_of(self.position_s)) >= 1.0:
            self.position_s = t_s
            self.update()
        else:
            self.position_s = t_s

    def x_of(self, t_s: float) -> float:
        """The x pixel of recording time `t_s`."""
        width = max(1, self.width() - 2 * self.MARGIN)
        frac = (t_s - self.start_s) / (self.end_s - self.start_s)
        return self.MARGIN + min(1.0, max(0.0, frac)) * width

    def t_of(self, x: float) -> float:
        """The recording time at pixel `x` (clamped to the recording)."""
        width = max(1, self.width() - 2 * self.MARGIN)
        frac = min(1.0, max(0.0, (x - self.MARGIN) / width))
        return self.start_s + frac * (self.end_s - self.start_s)

    def mousePressEvent(self, event: QtGui.QMouseEvent | None) -> None:
        """Seek to the time clicked."""
        if event is not None and event.button() == QtCore.Qt.LeftButton:
            self._pressed_s = self.t_of(event.x())
            self.dragging = True
            self.seek.emit(self._pressed_s)

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent | None) -> None:
        """The end of a drag seeks to where the button was let go."""
        if event is not None and event.button() == QtCore.Qt.LeftButton:
            self.dragging = False
            t = self.t_of(event.x())
            if abs(self.x_of(t) - self.x_of(self._pressed_s)) >= 1.0:
                self.seek.emit(t)

    def mouseMoveEvent(self, event: QtGui.QMouseEvent | None) -> None:
        """Dragging moves the position line (the seek comes at release: going back runs
        the recording again from its start); hovering names the mark under it."""
        if event is None:
            return
        if event.buttons() & QtCore.Qt.LeftButton:
            self.set_position(self.t_of(event.x()))
            return
        near = [m for m in self.marks
                if (m.end_s is not None and self.x_of(m.t_s) <= event.x() <= self.x_of(m.end_s))
                or abs(self.x_of(m.t_s) - event.x()) <= 3]
        text = "\n".join(m.label for m in near) if near else \
            f"{self.t_of(event.x()) - self.start_s:.1f} s: click to go there"
        QtWidgets.QToolTip.showText(event.globalPos(), text, self)

    def paintEvent(self, event: QtGui.QPaintEvent | None) -> None:
        """The bar, the holds as spans, the other marks as ticks, the position line."""
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.Antialiasing, False)
        h = self.height()
        top, bottom = 14, h - 16
        x0, x1 = self.x_of(self.start_s), self.x_of(self.end_s)
        painter.fillRect(QtCore.QRectF(x0, top, x1 - x0, bottom - top), QtGui.QColor("#eceff1"))
        for m in self.marks:
            colour = QtGui.QColor(COLOURS[m.kind])
            x = self.x_of(m.t_s)
            if m.end_s is not None:
                span = QtCore.QRectF(x, top + 4, max(2.0, self.x_of(m.end_s) - x),
                                     bottom - top - 8)
                painter.fillRect(span, colour)
            else:
                painter.setPen(QtGui.QPen(colour, 2))
                painter.drawLine(QtCore.QPointF(x, top - 6 if m.kind == "alarm" else top),
                                 QtCore.QPointF(x, bottom))
        painter.setPen(QtGui.QPen(QtGui.QColor("#212121"), 1))
        font = painter.font()
        font.setPointSizeF(max(8.0, font.pointSizeF()))
        painter.setFont(font)
        total = self.end_s - self.start_s
        step = _tick_step(total)
        t = 0.0
        while t <= total + 1e-9:
            x = self.x_of(self.start_s + t)
            painter.drawLine(QtCore.QPointF(x, bottom), QtCore.QPointF(x, bottom + 3))
            painter.drawText(QtCore.QRectF(x - 40, bottom + 2, 80, 14),
                             QtCore.Qt.AlignHCenter, _clock(t))
            t += step
        px = self.x_of(self.position_s)
        painter.setPen(QtGui.QPen(QtGui.QColor("#000000"), 3))
        painter.drawLine(QtCore.QPointF(px, 2), QtCore.QPointF(px, bottom))
        painter.setBrush(QtGui.QColor("#000000"))
        painter.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(px - 6, 0),
                                             QtCore.QPointF(px + 6, 0),
                                             QtCore.QPointF(px, 8)]))
        painter.end()


def _tick_step(total_s: float) -> float:
    """A round tick spacing giving about 6 to 12 labels over `total_s`."""
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if total_s / step <= 12:
            return float(step)
    return 3600.0 * math.ceil(total_s / 3600.0 / 12)


def _clock(t_s: float) -> str:
    """Seconds as m:ss (h:mm:ss past an hour)."""
    s = round(t_s)
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"
