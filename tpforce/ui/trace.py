"""The scrolling trace: preallocated arrays fed from the ring, the band shaded, PPT and centre.

Only samples new since the last frame are copied out of the ring, and only they are reduced
to the minimum and maximum of each pixel column (columns fixed in the samples' own time, so
old columns never change). The curve is drawn from those columns, two points per pixel
column whatever the rate, and is set again only when its picture changes: a new column
starts, or the newest column's range moves by a pixel.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore, QtGui, QtWidgets

from tpforce.core.band import Band
from tpforce.core.ringbuffer import SampleRing
from tpforce.core.units import Unit, convert


class TraceBuffer:
    """Time and force of recent samples in two preallocated arrays, appended in place."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._t = np.full(2 * capacity, np.nan)
        self._f = np.full(2 * capacity, np.nan)
        self._end = 0
        self.seen = 0  # ring count already taken

    def pull(self, ring: SampleRing) -> int:
        """Take the samples the ring got since the last pull; returns how many."""
        count = ring.count
        new = count - self.seen
        if new <= 0:
            if new < 0:  # the ring was replaced: start again
                self.seen = count
            return 0
        data = ring.latest(min(new, self.capacity))
        self.seen = count
        self.append(data["t_s"], data["force_n"])
        return len(data)

    def append(self, t_s: np.ndarray, force_n: np.ndarray) -> None:
        """Add samples; when the arrays fill, the newest `capacity` slide to the front."""
        n = len(t_s)
        if n > self.capacity:
            t_s, force_n, n = t_s[-self.capacity:], force_n[-self.capacity:], self.capacity
        if self._end + n > len(self._t):
            keep = self.capacity - n
            self._t[:keep] = self._t[self._end - keep:self._end]
            self._f[:keep] = self._f[self._end - keep:self._end]
            self._end = keep
        self._t[self._end:self._end + n] = t_s
        self._f[self._end:self._end + n] = force_n
        self._end += n

    def latest(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Views of the newest `n` samples' times and forces."""
        start = max(0, self._end - min(n, self.capacity))
        return self._t[start:self._end], self._f[start:self._end]

    def window(self, span_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Views (no copies) of the samples in the last `span_s` seconds."""
        start = max(0, self._end - self.capacity)
        t = self._t[start:self._end]
        if len(t) == 0:
            return t, self._f[start:self._end]
        cut = int(np.searchsorted(t, t[-1] - span_s))
        return t[cut:], self._f[start + cut:self._end]


LIVE_LINE, STALE_LINE = "#1a1a1a", "#a0a0a0"  # the force line while data flow, and after


class PixelColumns:
    """The lowest and highest force in each column of `dt` seconds (column k holds samples
    with k*dt <= t < (k+1)*dt): a trace reduced to what a pixel column can show."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.col = np.zeros(2 * capacity, np.int64)
        self.lo = np.full(2 * capacity, np.nan)
        self.hi = np.full(2 * capacity, np.nan)
        self.n = 0
        self.dt = 0.0

    def reset(self, dt: float) -> None:
        """Forget every column and use columns of `dt` seconds from now on."""
        self.dt, self.n = dt, 0

    def add(self, t_s: np.ndarray, force_n: np.ndarray) -> None:
        """Fold samples (time-ordered) into their columns; a NaN force leaves no mark."""
        if len(t_s) == 0 or self.dt <= 0:
            return
        cols = np.floor(t_s / self.dt).astype(np.int64)
        if self.n and cols[0] < self.col[self.n - 1]:  # time went back: a new stream
            self.n = 0
        starts = np.flatnonzero(cols[1:] != cols[:-1]) + 1
        starts = np.concatenate((np.zeros(1, np.intp), starts))
        with np.errstate(invalid="ignore"):
            lo = np.fmin.reduceat(force_n, starts)
            hi = np.fmax.reduceat(force_n, starts)
        cols = cols[starts]
        if self.n and cols[0] == self.col[self.n - 1]:  # the newest column goes on filling
            last = self.n - 1
            self.lo[last] = np.fmin(self.lo[last], lo[0])
            self.hi[last] = np.fmax(self.hi[last], hi[0])
            cols, lo, hi = cols[1:], lo[1:], hi[1:]
        k = len(cols)
        if k > self.capacity:
            cols, lo, hi, k = cols[-self.capacity:], lo[-self.capacity:], hi[-self.capacity:], \
                self.capacity
        if self.n + k > len(self.col):  # slide the newest columns to the front
            keep = min(self.n, self.capacity - k)
            for a in (self.col, self.lo, self.hi):
                a[:keep] = a[self.n - keep:self.n]
            self.n = keep
        self.col[self.n:self.n + k] = cols
        self.lo[self.n:self.n + k] = lo
        self.hi[self.n:self.n + k] = hi
        self.n += k

    def since(self, first_col: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Views of the columns from `first_col` on: (column, lowest, highest)."""
        i = int(np.searchsorted(self.col[:self.n], first_col))
        return self.col[i:self.n], self.lo[i:self.n], self.hi[i:self.n]


class GridLines(pg.GraphicsObject):
    """The trace's grid at the axes' ticks, kept as a pixmap (drawn again only when the
    ticks or the scale change, not each time the curve moves over it)."""

    def __init__(self) -> None:
        super().__init__()
        self._x: list[tuple[float, int]] = []  # (position, tick level: 0 major)
        self._y: list[tuple[float, int]] = []
        self._rect = QtCore.QRectF()
        self.setZValue(-100)
        self.setCacheMode(QtWidgets.QGraphicsItem.DeviceCoordinateCache)

    def set_lines(self, rect: QtCore.QRectF, xs: list[tuple[float, int]],
                  ys: list[tuple[float, int]]) -> None:
        """Grid lines across `rect` (data coordinates) at `xs` and `ys`."""
        if (rect, xs, ys) == (self._rect, self._x, self._y):
            return
        self.prepareGeometryChange()
        self._rect, self._x, self._y = QtCore.QRectF(rect), xs, ys
        self.update()

    def boundingRect(self) -> QtCore.QRectF:
        """The plot area the lines cross."""
        return self._rect

    def paint(self, p: QtGui.QPainter, *args: object) -> None:
        """Major lines darker than minor ones, one cosmetic pixel wide."""
        r = self._rect
        for level, alpha in ((1, 28), (0, 64)):
            pen = QtGui.QPen(QtGui.QColor(0, 0, 0, alpha), 0)
            pen.setCosmetic(True)
            p.setPen(pen)
            for x, lv in self._x:
                if lv == level:
                    p.drawLine(QtCore.QPointF(x, r.top()), QtCore.QPointF(x, r.bottom()))
            for y, lv in self._y:
                if lv == level:
                    p.drawLine(QtCore.QPointF(r.left(), y), QtCore.QPointF(r.right(), y))


class TracePlot(pg.PlotWidget):
    """The force trace with the band, the PPT and the band centre; knows when it painted."""

    def __init__(self, window_s: float = 30.0, max_rate_sps: float = 1000.0) -> None:
        super().__init__()
        self.window_s = window_s
        self.buffer = TraceBuffer(int(window_s * max_rate_sps * 1.25) + 16)
        self.on_painted: Callable[[float], None] | None = None  # benchmark hook
        self.setBackground("w")
        self.grid = GridLines()  # not the axes' own grid: they would repaint with the curve
        self.addItem(self.grid, ignoreBounds=True)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMenuEnabled(False)
        self.setLabel("bottom", "seconds before now")
        self.columns = PixelColumns(8192)
        self._drawn: tuple[object, ...] | None = None  # what the curve shows now
        self.drawn_range = (0, 0)  # ring counts of the samples the last redraw first showed
        self.band = pg.LinearRegionItem(values=(0, 0), orientation="horizontal", movable=False,
                                        brush=pg.mkBrush(46, 125, 50, 70),
                                        pen=pg.mkPen(46, 125, 50, 140))
        self.ppt = pg.InfiniteLine(angle=0, pen=pg.mkPen("#c62828", width=2,
                                                         style=QtCore.Qt.DashLine))
        self.centre = pg.InfiniteLine(angle=0, pen=pg.mkPen("#1b5e20", width=1,
                                                            style=QtCore.Qt.DotLine))
        for item in (self.band, self.ppt, self.centre):
            item.setVisible(False)
            # Pixmaps too: they change with the band, not with each frame of the curve.
            item.setCacheMode(QtWidgets.QGraphicsItem.DeviceCoordinateCache)
            self.addItem(item)
        # The force line is 2 px: two 1-px strokes a pixel apart in one curve (a NaN between
        # them), which Qt's raster engine paints faster than one 2-px pen.
        self.curve = pg.PlotCurveItem(pen=pg.mkPen(LIVE_LINE, width=1), connect="finite",
                                      skipFiniteCheck=True)
        self.stale = False
        self.addItem(self.curve)
        self.line_px = 2
        self.set_text_pt(14.0)
        self._band: Band | None = None
        self._top = 10.8  # 10 N and a little room above the top tick
        self.setYRange(0.0, self._top, padding=0)
        self.setXRange(-window_s, 0.0, padding=0)
        self._unit: tuple[Unit, float] | None = None
        self.set_unit(Unit.N, 1.0)
        box = self.getViewBox()
        box.sigRangeChanged.connect(self._place_grid)
        box.sigResized.connect(self._place_grid)

    def _place_grid(self, *_: object) -> None:
        """Put the grid lines at the ticks the axes show for the current range and size."""
        box = self.getViewBox()
        (x0, x1), (y0, y1) = box.viewRange()
        lines = []
        for name, lo, hi, size in (("bottom", x0, x1, box.width()),
                                   ("left", y0, y1, box.height())):
            axis = self.getAxis(name)
            scale = float(axis.scale) or 1.0
            levels = axis.tickValues(lo * scale, hi * scale, max(1.0, float(size)))
            lines.append([(float(v) / scale, min(level, 1))
                          for level, (_, values) in enumerate(levels[:2]) for v in values])
        self.grid.set_lines(QtCore.QRectF(x0, y0, x1 - x0, y1 - y0), lines[0], lines[1])

    def set_text_pt(self, pt: float) -> None:
        """Axis ticks and labels in dark text of `pt` points (legible at a metre)."""
        font = QtGui.QFont()
        font.setPointSizeF(pt)
        self._label_style = {"color": "#1a1a1a", "font-size": f"{pt:.0f}pt"}
        for name in ("left", "bottom"):
            axis = self.getAxis(name)
            axis.setTickFont(font)
            axis.setPen(pg.mkPen("#1a1a1a", width=1))
            axis.setTextPen(pg.mkPen("#1a1a1a"))
            axis.setWidth(int(pt * 5)) if name == "left" else axis.setHeight(int(pt * 3.6))
            # A pixmap, blitted when the curve beside it is repainted, not its text redrawn.
            axis.setCacheMode(QtWidgets.QGraphicsItem.DeviceCoordinateCache)
        self.setLabel("bottom", "seconds before now", **self._label_style)
        current: tuple[Unit, float] | None = getattr(self, "_unit", None)
        if current is not None:
            self._unit = None
            self.set_unit(*current)

    def set_unit(self, unit: Unit, tip_area_cm2: float) -> None:
        """Label the force axis in `unit`; the data stay in newtons, the ticks are scaled."""
        if self._unit == (unit, tip_area_cm2):
            return
        self._unit = (unit, tip_area_cm2)
        axis = self.getAxis("left")
        axis.setScale(float(convert(1.0, unit, tip_area_cm2)))
        axis.enableAutoSIPrefix(False)
        self.setLabel("left", "pressure" if unit.is_pressure else "force", units=unit.value,
                      **getattr(self, "_label_style", {}))

    def set_window_s(self, window_s: float) -> None:
        """Show the last `window_s` seconds (buffer capacity stays as allocated)."""
        if window_s != self.window_s:
            self.columns.reset(0.0)  # rebuilt at the next frame with the new column width
        self.window_s = window_s
        self.setXRange(-window_s, 0.0, padding=0)

    def show_stale(self, stale: bool) -> None:
        """Grey the line while no new samples arrive: a trace that stopped never looks live."""
        if stale != self.stale:
            self.stale = stale
            self.curve.setPen(pg.mkPen(STALE_LINE if stale else LIVE_LINE, width=1))

    def show_band(self, band: Band | None) -> None:
        """Shade the band and draw the PPT and centre lines (hidden before a threshold)."""
        if band == self._band:
            return
        self._band = band
        for item in (self.band, self.ppt, self.centre):
            item.setVisible(band is not None)
        if band is not None:
            self.band.setRegion((band.lo_n, band.hi_n))
            self.ppt.setValue(band.over_n)
            self.centre.setValue(band.centre_n)

    def clear(self) -> None:
        """Forget every sample shown (a replay went back to its start): an empty trace."""
        self.buffer = TraceBuffer(self.buffer.capacity)
        self.columns.reset(0.0)
        self._drawn = None
        self.curve.setData([], [])

    def refresh(self, ring: SampleRing) -> int:
        """Pull new samples and redraw if the picture changed; returns how many were new."""
        before = self.buffer.seen
        new = self.buffer.pull(ring)
        if new == 0:
            return 0
        box = self.getViewBox()
        width_px = max(50, int(box.width()))
        dt = self.window_s / width_px
        if dt != self.columns.dt:  # resized, or another span: rebuild from the samples kept
            self.columns.reset(dt)
            self.columns.add(*self.buffer.window(self.window_s))
        else:
            t_new, f_new = self.buffer.latest(min(new, self.buffer.capacity))
            self.columns.add(t_new, f_new)
        if self.columns.n == 0:
            return new
        end = int(self.columns.col[self.columns.n - 1])
        cols, lo, hi = self.columns.since(end - width_px)
        with np.errstate(invalid="ignore"):
            top = float(np.nanmax(hi)) if np.isfinite(hi).any() else 0.0
        need = max(self._band.over_n * 1.25 if self._band else 10.0, top * 1.1)
        if need > self._top or need < 0.6 * self._top:  # grow at once, shrink with hysteresis
            # In steps of 5 N: a rising force rescales the axes a few times, not every frame;
            # a little above the step, so that the top tick's label is not cut in half.
            self._top = 5.0 * float(np.ceil(need * 1.1 / 5.0)) * 1.08
            self.setYRange(0.0, self._top, padding=0)
        pixel = self._top / max(1.0, float(box.height()))
        # The picture: where the newest column sits, its range in pixel rows, the scale.
        key = (end, cols[0] if len(cols) else 0, self._top, pixel,
               round(float(lo[-1]) / pixel) if np.isfinite(lo[-1]) else None,
               round(float(hi[-1]) / pixel) if np.isfinite(hi[-1]) else None)
        if key == self._drawn:
            return new  # every new sample falls on pixels already drawn
        self._drawn = key
        self.drawn_range = (before, self.buffer.seen)
        self.curve.setData(*self._strokes(cols, lo, hi, end, dt, pixel), connect="finite",
                           skipFiniteCheck=True)
        return new

    @staticmethod
    def _strokes(cols: np.ndarray, lo: np.ndarray, hi: np.ndarray, end: int, dt: float,
                 pixel: float) -> tuple[np.ndarray, np.ndarray]:
        """x, y of the line: each column's low then high, drawn twice a pixel apart."""
        n = len(cols)
        x = np.empty(4 * n + 1)
        y = np.empty(4 * n + 1)
        at = (cols - end) * dt  # seconds before now, the newest column at 0
        x[0:2 * n:2] = x[1:2 * n:2] = at
        y[0:2 * n:2], y[1:2 * n:2] = lo, hi
        x[2 * n], y[2 * n] = np.nan, np.nan  # lift the pen between the two strokes
        x[2 * n + 1:] = x[:2 * n]
        y[2 * n + 1:] = y[:2 * n] + pixel
        return x, y

    def viewportEvent(self, event: QtCore.QEvent) -> bool:
        """Paint, then tell the hook when the frame is on screen (latency benchmark)."""
        handled = super().viewportEvent(event)
        if event.type() == QtCore.QEvent.Paint and self.on_painted is not None:
            self.on_painted(time.perf_counter())
        return handled
