"""The report's plots, drawn with QPainter on an offscreen QImage and kept as PNG bytes.

QPainter is the project's own drawing stack (the window draws with Qt too); a PNG goes
inline in HTML as base64 and into the PDF as a document resource, so both show one picture.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
from PyQt5.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PyQt5.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPen, QPolygonF

from tpforce.core import events as ev

LEFT, RIGHT, CENTRE = (Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignRight,
                      Qt.AlignmentFlag.AlignHCenter)
SCALE = 2  # pixels per layout unit: sharp on screen and in print
_APP: list[object] = []  # the application made here, kept alive for the process


def ensure_app() -> QGuiApplication:
    """An application for fonts and painting (offscreen unless one already runs). It is a
    QApplication, so that a window opened later in the same process can still have widgets.
    """
    from PyQt5.QtWidgets import QApplication

    app = QGuiApplication.instance()
    if not isinstance(app, QGuiApplication):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(["tpforce-report"])
        _APP.append(app)
    return app


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / max(ticks, 1)
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def envelope(t: np.ndarray, f: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """At most 2 points per pixel column (min then max): a long trace drawn in bounded time
    without losing a peak."""
    if len(t) <= 2 * columns:
        return t, f
    edges = np.linspace(t[0], t[-1], columns + 1)
    idx = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, columns - 1)
    starts = np.flatnonzero(np.diff(idx, prepend=-1))
    ff = np.where(np.isfinite(f), f, np.nan)
    with np.errstate(all="ignore"):
        lo = np.fmin.reduceat(ff, starts)
        hi = np.fmax.reduceat(ff, starts)
    tc = t[starts]
    out_t = np.repeat(tc, 2)
    out_f = np.empty(2 * len(starts))
    out_f[0::2], out_f[1::2] = lo, hi
    return out_t, out_f


class Plot:
    """A time-force chart on a QImage: axes, grid, then whatever is drawn in data units."""

    def __init__(self, width: int, height: int, t0: float, t1: float, f_max: float,
                 title: str = "") -> None:

        ensure_app()
        self.width, self.height = width, height
        self.image = QImage(width * SCALE, height * SCALE, QImage.Format.Format_RGB32)
        self.image.fill(QColor("white"))
        self.p = QPainter(self.image)
        self.p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.p.scale(SCALE, SCALE)
        font = QFont("DejaVu Sans")
        font.setPixelSize(11)
        self.p.setFont(font)
        self.left, self.right, self.top, self.bottom = 46, 10, 22 if title else 10, 28
        self.t0, self.t1 = t0, t1 if t1 > t0 else t0 + 1.0
        self.f_max = f_max if f_max > 0 and math.isfinite(f_max) else 1.0
        self._axes(title)

    def x(self, t: float) -> float:
        """Pixel x of time `t`."""
        w = self.width - self.left - self.right
        return self.left + (t - self.t0) / (self.t1 - self.t0) * w

    def y(self, f: float) -> float:
        """Pixel y of force `f`."""
        h = self.height - self.top - self.bottom
        return self.top + h - f / self.f_max * h

    def _pen(self, colour: str, width: float = 1.0, dash: bool = False) -> QPen:

        pen = QPen(QColor(colour))
        pen.setWidthF(width)
        if dash:
            pen.setStyle(Qt.PenStyle.DashLine)
        return pen

    def _axes(self, title: str) -> None:

        p = self.p
        if title:
            p.setPen(self._pen("#222"))
            p.drawText(QRectF(self.left, 2, self.width - self.left, 18), LEFT, title)
        step = _nice_step(self.f_max)
        f = 0.0
        while f <= self.f_max + 1e-9:
            p.setPen(self._pen("#ddd"))
            p.drawLine(int(self.left), int(self.y(f)), int(self.width - self.right),
                       int(self.y(f)))
            p.setPen(self._pen("#444"))
            p.drawText(QRectF(0, self.y(f) - 7, self.left - 4, 14), RIGHT,
                       f"{f:g}")
            f += step
        tstep = _nice_step(self.t1 - self.t0, 8)
        t = math.ceil(self.t0 / tstep) * tstep
        while t <= self.t1 + 1e-9:
            p.setPen(self._pen("#eee"))
            p.drawLine(int(self.x(t)), int(self.top), int(self.x(t)),
                       int(self.height - self.bottom))
            p.setPen(self._pen("#444"))
            p.drawText(QRectF(self.x(t) - 30, self.height - self.bottom + 2, 60, 14),
                       CENTRE, f"{t:g}")
            t += tstep
        p.drawText(QRectF(0, self.height - 14, self.width, 14), CENTRE, "time (s)")
        p.save()
        p.translate(10, self.top + (self.height - self.top - self.bottom) / 2)
        p.rotate(-90)
        p.drawText(QRectF(-40, -8, 80, 14), CENTRE, "force (N)")
        p.restore()
        p.setPen(self._pen("#888"))
        p.drawRect(QRectF(self.left, self.top, self.width - self.left - self.right,
                          self.height - self.top - self.bottom))

    def band(self, spans: Sequence[tuple[float, float, float, float, float]]) -> None:
        """Shade the band and draw the threshold: (t0, t1, lo, hi, ppt) pieces."""

        for a, b, lo, hi, ppt in spans:
            a, b = max(a, self.t0), min(b, self.t1)
            if b <= a:
                continue
            self.p.fillRect(QRectF(QPointF(self.x(a), self.y(hi)),
                                   QPointF(self.x(b), self.y(lo))), QColor(60, 170, 90, 60))
            self.p.setPen(self._pen("#c0392b", 1.2, dash=True))
            self.p.drawLine(QPointF(self.x(a), self.y(ppt)), QPointF(self.x(b), self.y(ppt)))

    def trace(self, t: np.ndarray, f: np.ndarray, colour: str = "#1f4e99") -> None:
        """The force, broken at unknown samples (NaN)."""

        columns = int(self.width - self.left - self.right) * SCALE
        tt, ff = envelope(t, f, columns)
        xs = self.left + (tt - self.t0) / (self.t1 - self.t0) * (
            self.width - self.left - self.right)
        h = self.height - self.top - self.bottom
        ys = self.top + h - np.clip(ff, -0.02 * self.f_max, 1.05 * self.f_max) / self.f_max * h
        ok = np.isfinite(ys)
        self.p.setPen(self._pen(colour, 1.1))
        breaks = np.flatnonzero(np.diff(ok.astype(np.int8)) != 0) + 1
        for seg in np.split(np.arange(len(xs)), breaks):
            if len(seg) < 2 or not ok[seg[0]]:
                continue
            self.p.drawPolyline(QPolygonF([QPointF(a, b) for a, b in
                                           zip(xs[seg].tolist(), ys[seg].tolist(),
                                               strict=True)]))

    def vline(self, t: float, colour: str, label: str = "") -> None:
        """A vertical marker with an optional label at the top."""

        if not self.t0 <= t <= self.t1:
            return
        self.p.setPen(self._pen(colour, 1.2))
        self.p.drawLine(QPointF(self.x(t), self.top), QPointF(self.x(t),
                                                               self.height - self.bottom))
        if label:
            self.p.drawText(QRectF(self.x(t) + 2, self.top + 1, 120, 14), LEFT,
                            label)

    def dot(self, t: float, f: float, colour: str) -> None:
        """A filled marker at (t, f)."""

        self.p.setPen(self._pen(colour))
        self.p.setBrush(QColor(colour))
        self.p.drawEllipse(QPointF(self.x(t), self.y(f)), 3.5, 3.5)
        self.p.setBrush(Qt.BrushStyle.NoBrush)

    def png(self) -> bytes:
        """Finish painting and return the PNG."""

        self.p.end()
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        self.image.save(buf, "PNG")
        buf.close()
        return bytes(data)


def band_spans(bands: Sequence[ev.BandChanged], t0: float, t1: float
               ) -> list[tuple[float, float, float, float, float]]:
    """The band in force as pieces over [t0, t1], from its change events."""
    out = []
    for k, b in enumerate(bands):
        end = bands[k + 1].t_s if k + 1 < len(bands) else t1
        out.append((max(b.t_s, t0), end, b.lo_n, b.hi_n, b.ppt_n))
    return out


MARK_COLOURS = {"baseline": "#7d3c98", "after": "#d35400", "step": "#c0392b"}


def hold_plot(t: np.ndarray, f: np.ndarray, bands: Sequence[ev.BandChanged],
              steps: Sequence[ev.PressureStep], alarms: Sequence[ev.OverThreshold],
              start_s: float, end_s: float, title: str) -> bytes:
    """One hold: the force with the band (shaded), the threshold (dashed), its start and end,
    pressure steps and over-threshold alarms."""
    pad = max(2.0, 0.05 * (end_s - start_s))
    t0, t1 = start_s - pad, end_s + pad
    sel = (t >= t0) & (t <= t1)
    peak = max([float(np.nanmax(f[sel])) if sel.any() and np.isfinite(f[sel]).any() else 0.0]
               + [b.ppt_n for b in bands])
    plot = Plot(720, 240, t0, t1, 1.15 * peak, title)
    plot.band(band_spans(bands, t0, t1))
    plot.trace(t[sel], f[sel])
    plot.vline(start_s, "#2e7d32", "start")
    plot.vline(end_s, "#555", "end")
    for s in steps:
        plot.vline(s.t_s, "#c0392b", f"step {s.from_ppt_n:.1f}\u2192{s.to_ppt_n:.1f} N")
    for a in alarms:
        plot.dot(a.t_s, a.force_n, "#e74c3c")
    return plot.png()


def overview_plot(t: np.ndarray, f: np.ndarray, marks: Sequence[tuple[float, float, str]],
                  points: Sequence[tuple[float, str]], title: str) -> bytes:
    """The whole session's force with every mark (coloured by how it was filed) and where
    each point began."""
    if len(t) == 0:
        t, f = np.zeros(1), np.zeros(1)
    finite = f[np.isfinite(f)]
    peak = max([float(finite.max()) if len(finite) else 1.0] + [m[1] for m in marks])
    plot = Plot(720, 220, float(t[0]), float(t[-1]), 1.15 * peak, title)
    plot.trace(t, f)
    for start, label in points:
        plot.vline(start, "#888", label)
    for mt, ppt, kind in marks:
        plot.dot(mt, ppt, MARK_COLOURS.get(kind, "#333"))
    return plot.png()
