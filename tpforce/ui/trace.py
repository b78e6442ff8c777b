"""The scrolling trace: preallocated arrays fed from the ring, the band shaded, PPT and centre.

Only samples new since the last frame are copied out of the ring. pyqtgraph draws the
visible window with clip-to-view and peak downsampling, so a 60 s window at 1 kHz costs
about as much to paint as one at 80 Hz.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore, QtGui

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

    def window(self, span_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Views (no copies) of the samples in the last `span_s` seconds."""
        start = max(0, self._end - self.capacity)
        t = self._t[start:self._end]
        if len(t) == 0:
            return t, self._f[start:self._end]
        cut = int(np.searchsorted(t, t[-1] - span_s))
        return t[cut:], self._f[start + cut:self._end]


class TracePlot(pg.PlotWidget):
    """The force trace with the band, the PPT and the band centre; knows when it painted."""

    def __init__(self, window_s: float = 30.0, max_rate_sps: float = 1000.0) -> None:
        super().__init__()
        self.window_s = window_s
        self.buffer = TraceBuffer(int(window_s * max_rate_sps * 1.25) + 16)
        self.on_painted: Callable[[float], None] | None = None  # benchmark hook
        self.setBackground("w")
        self.showGrid(x=True, y=True, alpha=0.25)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMenuEnabled(False)
        self.setLabel("bottom", "seconds before now")
        self.getPlotItem().setClipToView(True)
        self.getPlotItem().setDownsampling(auto=True, mode="peak")
        self.band = pg.LinearRegionItem(values=(0, 0), orientation="horizontal", movable=False,
                                        brush=pg.mkBrush(46, 125, 50, 70),
                                        pen=pg.mkPen(46, 125, 50, 140))
        self.ppt = pg.InfiniteLine(angle=0, pen=pg.mkPen("#c62828", width=2,
                                                         style=QtCore.Qt.DashLine))
        self.centre = pg.InfiniteLine(angle=0, pen=pg.mkPen("#1b5e20", width=1,
                                                            style=QtCore.Qt.DotLine))
        for item in (self.band, self.ppt, self.centre):
            item.setVisible(False)
            self.addItem(item)
        # The force line is 2 px: two 1-px strokes a pixel apart, which Qt's raster engine
        # paints in about half the time of one 2-px pen over a 60 s window.
        self.curve = self.plot(pen=pg.mkPen("#1a1a1a", width=1))
        self.curve_shadow = self.plot(pen=pg.mkPen("#1a1a1a", width=1))
        self.line_px = 2
        self.set_text_pt(14.0)
        self._band: Band | None = None
        self._top = 10.0
        self.setYRange(0.0, self._top, padding=0)
        self.setXRange(-window_s, 0.0, padding=0)
        self._unit: tuple[Unit, float] | None = None
        self.set_unit(Unit.N, 1.0)

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
        self.window_s = window_s
        self.setXRange(-window_s, 0.0, padding=0)

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

    def refresh(self, ring: SampleRing) -> int:
        """Pull new samples and redraw the visible window; returns how many were new."""
        new = self.buffer.pull(ring)
        if new == 0:
            return 0
        t, f = self.buffer.window(self.window_s)
        if len(t) == 0:
            return new
        t_end = float(t[-1])
        # Seconds before now on a fixed axis: the ticks stay put and only the curve moves.
        x = t - t_end
        self.curve.setData(x, f, connect="finite")
        top = float(np.max(f, initial=0.0, where=np.isfinite(f)))
        need = max(self._band.over_n * 1.25 if self._band else 10.0, top * 1.1)
        if need > self._top or need < 0.7 * self._top:  # grow at once, shrink with hysteresis
            self._top = need
            self.setYRange(0.0, self._top, padding=0)
        pixel = self._top / max(1.0, float(self.getViewBox().height()))
        self.curve_shadow.setData(x, f + pixel, connect="finite")
        return new

    def viewportEvent(self, event: QtCore.QEvent) -> bool:
        """Paint, then tell the hook when the frame is on screen (latency benchmark)."""
        handled = super().viewportEvent(event)
        if event.type() == QtCore.QEvent.Paint and self.on_painted is not None:
            self.on_painted(time.perf_counter())
        return handled
