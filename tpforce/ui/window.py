"""The live window: a big force number, the hold timer, the zone colour and a scrolling trace.

It pulls: a 60 Hz timer reads the ring buffer and the tracker's snapshot. The IO thread never
emits a Qt signal per sample, and no alarm is decided here.
"""

from __future__ import annotations

import time

import pyqtgraph as pg
from PyQt5 import QtCore, QtGui, QtWidgets

from tpforce.core.consumer import EventQueue
from tpforce.core.events import Event, SignalLost, SignalRestored, Zone
from tpforce.core.processor import Processor
from tpforce.core.ringbuffer import SampleRing

ZONE_COLOURS = {
    Zone.UNKNOWN: "#5a5a5a",
    Zone.NO_CONTACT: "#37474f",
    Zone.BELOW: "#1565c0",
    Zone.IN_BAND: "#2e7d32",
    Zone.ABOVE: "#ef8f00",
    Zone.OVER: "#c62828",
}
ZONE_NAMES = {
    Zone.UNKNOWN: "NO SIGNAL",
    Zone.NO_CONTACT: "no contact",
    Zone.BELOW: "below band",
    Zone.IN_BAND: "in band",
    Zone.ABOVE: "above band",
    Zone.OVER: "OVER THRESHOLD",
}
STALE_S = 0.25


class LiveWindow(QtWidgets.QMainWindow):
    """Shows force, band, zone and hold timer from a processor and a ring buffer."""

    def __init__(
        self,
        processor: Processor,
        ring: SampleRing,
        events: EventQueue,
        window_s: float = 30.0,
        title: str = "tpforce",
    ) -> None:
        super().__init__()
        self.processor = processor
        self.ring = ring
        self.events = events
        self.window_s = window_s
        self.stale = True
        self._last_count = -1
        self._last_new_sample = time.monotonic()
        self.setWindowTitle(title)
        self.resize(1100, 600)
        self._build()
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.PreciseTimer)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(16)

    def _build(self) -> None:
        central = QtWidgets.QWidget()
        layout = QtWidgets.QHBoxLayout(central)
        pg.setConfigOptions(antialias=False, background="w", foreground="k")
        self.plot = pg.PlotWidget()
        self.plot.setLabel("left", "force", units="N")
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setClipToView(True)
        self.band_item = pg.LinearRegionItem(
            values=(0, 0), orientation="horizontal", movable=False,
            brush=pg.mkBrush(46, 125, 50, 60), pen=pg.mkPen(46, 125, 50, 120),
        )
        self.band_item.setVisible(False)
        self.plot.addItem(self.band_item)
        self.ppt_line = pg.InfiniteLine(angle=0, pen=pg.mkPen("#c62828", width=2,
                                                              style=QtCore.Qt.DashLine))
        self.ppt_line.setVisible(False)
        self.plot.addItem(self.ppt_line)
        self.curve = self.plot.plot(pen=pg.mkPen("#1a1a1a", width=1))
        layout.addWidget(self.plot, stretch=3)

        side = QtWidgets.QVBoxLayout()
        self.force_label = QtWidgets.QLabel("--.-")
        self.force_label.setAlignment(QtCore.Qt.AlignCenter)
        font = QtGui.QFont()
        font.setPointSize(72)
        font.setBold(True)
        self.force_label.setFont(font)
        self.force_label.setMinimumWidth(340)
        self.unit_label = QtWidgets.QLabel("N")
        self.unit_label.setAlignment(QtCore.Qt.AlignCenter)
        self.zone_label = QtWidgets.QLabel("NO SIGNAL")
        self.zone_label.setAlignment(QtCore.Qt.AlignCenter)
        zfont = QtGui.QFont()
        zfont.setPointSize(22)
        zfont.setBold(True)
        self.zone_label.setFont(zfont)
        self.timer_label = QtWidgets.QLabel("hold 0.0 / 30 s")
        self.timer_label.setAlignment(QtCore.Qt.AlignCenter)
        tfont = QtGui.QFont()
        tfont.setPointSize(28)
        self.timer_label.setFont(tfont)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMinimumHeight(28)
        self.ppt_label = QtWidgets.QLabel("PPT: not marked (press the probe button)")
        self.ppt_label.setAlignment(QtCore.Qt.AlignCenter)
        self.panel = QtWidgets.QFrame()
        self.panel.setAutoFillBackground(True)
        for w in (self.force_label, self.unit_label, self.zone_label, self.timer_label,
                  self.progress, self.ppt_label):
            side.addWidget(w)
        side.addStretch(1)
        self.panel.setLayout(side)
        layout.addWidget(self.panel, stretch=2)
        self.setCentralWidget(central)
        self.status = self.statusBar()

    # -- the pull loop --------------------------------------------------------------------

    def refresh(self) -> None:
        """Read what is new and repaint; runs on the GUI timer."""
        for event in self.events.drain():
            self.on_event(event)
        now = time.monotonic()
        count = self.ring.count
        if count != self._last_count:
            self._last_count = count
            self._last_new_sample = now
        self.stale = count == 0 or now - self._last_new_sample > STALE_S
        state = self.processor.state
        data = self.ring.latest()
        if len(data):
            t = data["t_s"]
            keep = t >= t[-1] - self.window_s
            self.curve.setData(t[keep], data["force_n"][keep], connect="finite")
        band = state.band
        if band is not None:
            self.band_item.setRegion((band.lo_n, band.hi_n))
            self.band_item.setVisible(True)
            self.ppt_line.setValue(band.ppt_n)
            self.ppt_line.setVisible(True)
            trials = ", ".join(f"{p:.1f}" for p in state.trials_n)
            self.ppt_label.setText(f"PPT {band.ppt_n:.1f} N  (trials: {trials})\n"
                                   f"band {band.lo_n:.1f}-{band.hi_n:.1f} N")
        zone = Zone.UNKNOWN if self.stale else state.zone
        if self.stale:
            self.force_label.setText("--.-")
            self.force_label.setStyleSheet("color: #9e9e9e")
        else:
            self.force_label.setText(f"{state.force_n:5.1f}")
            self.force_label.setStyleSheet("color: #111111")
        self.zone_label.setText(ZONE_NAMES[zone])
        self.zone_label.setStyleSheet(
            f"background: {ZONE_COLOURS[zone]}; color: white; padding: 8px; border-radius: 6px"
        )
        shown = min(state.in_band_s, state.target_s) if state.hold_active or state.completed \
            else 0.0
        if state.hold_active or state.completed:
            done = " ✓" if state.completed else ""
            self.timer_label.setText(f"hold {state.in_band_s:5.1f} / {state.target_s:.0f} s{done}")
        else:
            self.timer_label.setText(f"hold  --  / {state.target_s:.0f} s")
        self.progress.setValue(int(1000 * shown / state.target_s) if state.target_s else 0)

    def on_event(self, event: Event) -> None:
        """React to one event from the acquisition side (display only: alarms live there)."""
        if isinstance(event, SignalLost):
            self.status.showMessage("NO SIGNAL: no data from the probe")
        elif isinstance(event, SignalRestored):
            self.status.showMessage(f"signal back after {event.gap_s:.2f} s", 5000)

    def screenshot(self, path: str) -> bool:
        """Save the window as a PNG; True on success."""
        self.refresh()
        return bool(self.grab().save(path, "PNG"))

