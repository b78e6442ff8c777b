"""The Practice window: a drill's live feedback when the schedule shows it, and nothing at
all when it does not; after each practice trial, the trace against the band and the scores.

It composes the live display's widgets (ForceReadout, TracePlot, HoldRing, SoundPlayer) and
obeys `DrillRun.display`: a hidden moment hides the number, the trace, the zone colour and
every tone. The trainee's ask key (Space) is the self-controlled schedule's request.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore, QtWidgets

from tpforce.core.band import Band
from tpforce.core.events import Zone
from tpforce.core.units import Unit
from tpforce.train.runner import Display, DrillRun, Result
from tpforce.ui.gc_guard import collect_on_gui_thread
from tpforce.ui.readout import ForceReadout, HoldRing
from tpforce.ui.sound import SoundPlayer
from tpforce.ui.tones import Cue
from tpforce.ui.trace import TracePlot

POLL_MS = 50


def _zone(force: float, band: tuple[float, float]) -> Zone:
    if not math.isfinite(force):
        return Zone.UNKNOWN
    if force < band[0]:
        return Zone.BELOW
    return Zone.IN_BAND if force <= band[1] else Zone.ABOVE


class PracticeWindow(QtWidgets.QWidget):
    """Cue, live feedback (when shown) and the last trial's result, from one drill run."""

    def __init__(self, run: DrillRun, player: SoundPlayer) -> None:
        super().__init__()
        collect_on_gui_thread()  # a reader thread must never free Qt objects
        self.run = run
        self.player = player
        self.setWindowTitle(f"tpforce practice: {run.drill.title}")
        self.cue = QtWidgets.QLabel("")
        self.cue.setObjectName("cue")
        font = self.cue.font()
        font.setPointSize(22)
        self.cue.setFont(font)
        self.readout = ForceReadout()
        self.trace = TracePlot(window_s=20.0, max_rate_sps=200.0)
        self.ring = HoldRing()
        self.ring.set_hold(0.0, run.drill.hold_s, False, False)
        self.result_plot = pg.PlotWidget(background="w")
        self.result_plot.setLabel("bottom", "seconds from the go cue")
        self.result_plot.setLabel("left", "force", units="N")
        self.result_text = QtWidgets.QLabel("")
        self.result_box = QtWidgets.QWidget()
        rl = QtWidgets.QVBoxLayout(self.result_box)
        rl.addWidget(QtWidgets.QLabel("Result of the last trial"))
        rl.addWidget(self.result_plot, stretch=1)
        rl.addWidget(self.result_text)
        live = QtWidgets.QHBoxLayout()
        live.addWidget(self.readout, stretch=2)
        live.addWidget(self.ring, stretch=1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.cue)
        layout.addLayout(live, stretch=2)
        layout.addWidget(self.trace, stretch=2)
        layout.addWidget(self.result_box, stretch=2)
        self._zone = Zone.UNKNOWN
        self._shown_result: Result | None = None
        self._slot_index = -1
        self.asks_made = 0
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.update_view)
        self.timer.start(POLL_MS)
        self.update_view()

    def keyPressEvent(self, event: Any) -> None:
        """Space: ask for feedback (self-controlled drills); the run logs it."""
        if event.key() == QtCore.Qt.Key_Space and self.run.drill.feedback.schedule == "self":
            if self.run.ask():
                self.asks_made += 1
            return
        super().keyPressEvent(event)

    @property
    def live_shown(self) -> bool:
        """True while anything live (number, trace, colour) is on screen."""
        return self.readout.isVisible() or self.trace.isVisible() or self.ring.isVisible()

    def update_view(self) -> None:
        """Show what the run's display allows, and nothing more."""
        d: Display = self.run.display
        if d.slot is not None and d.slot.index != self._slot_index:
            self._slot_index = d.slot.index
            self.trace.buffer = type(self.trace.buffer)(self.trace.buffer.capacity)
        self.cue.setText(self._cue_text(d))
        if d.visible and d.force_n is not None and d.band is not None:
            self._show_live(d)
        else:
            self._hide_live()
        res = d.result
        if res is not None and res is not self._shown_result:
            self._show_result(res)
        self.result_box.setVisible(d.result is not None or d.phase == "done")

    @staticmethod
    def _cue_text(d: Display) -> str:
        if d.phase == "rest" and d.countdown_s is not None:
            return f"{d.message}: rest, go in {math.ceil(d.countdown_s)} s"
        if d.phase == "go":
            return f"{d.message}: GO" + ("  (Space: ask for feedback)"
                                         if d.slot is not None and d.slot.schedule == "self"
                                         else "")
        return d.message

    def _show_live(self, d: Display) -> None:
        assert d.force_n is not None and d.band is not None
        for w in (self.readout, self.trace, self.ring):
            w.setVisible(True)
        zone = _zone(d.force_n, d.band)
        hold_s = self.run.drill.hold_s
        if self.run.drill.kind == "hold":
            self.ring.set_hold(d.in_band_s, hold_s, True, d.in_band_s >= hold_s)
        else:
            self.ring.setVisible(False)  # a ramp has no hold to count
        self.readout.show_force(d.force_n, Unit.N, 1.0, zone, stale=False)
        ppt = self.run.ppt_n
        band = Band(d.band[0], d.band[1], ppt if ppt is not None else d.band[1])
        self.trace.show_band(band)
        self.trace.ppt.setVisible(ppt is not None)  # a threshold line only where one was measured
        self.trace.buffer.append(np.array([d.t_s]), np.array([d.force_n]))
        t, f = self.trace.buffer.window(self.trace.window_s)
        if t.size:
            self.trace.curve.setData(t - t[-1], f, connect="finite")
            self.trace.setYRange(0.0, max(band.hi_n * 1.4, float(np.nanmax(f)) * 1.1),
                                 padding=0)
        if zone == Zone.IN_BAND and self._zone != Zone.IN_BAND:
            self.player.play(Cue.BAND_ENTER)
        self._zone = zone

    def _hide_live(self) -> None:
        for w in (self.readout, self.trace, self.ring):
            w.setVisible(False)
        self.player.set_pitch_step(None)
        self._zone = Zone.UNKNOWN

    def _show_result(self, res: Result) -> None:
        self._shown_result = res
        p = self.result_plot
        p.clear()
        lo, hi = res.band
        region = pg.LinearRegionItem(values=(lo, hi), orientation="horizontal", movable=False,
                                     brush=pg.mkBrush(46, 125, 50, 70))
        p.addItem(region)
        p.plot(res.t_s, res.force_n, pen=pg.mkPen("#1a1a1a", width=1))
        s = res.scores

        def v(key: str, digits: int = 1) -> str:
            x = s.get(key)
            return "-" if x is None else f"{x:.{digits}f}"

        if "ramp_rate_n_per_s" in s:
            text = (f"rate {v('ramp_rate_n_per_s', 2)} N/s (error {v('rate_error_pct')} %), "
                    f"steadiness CV {v('steadiness_cv_pct')} %")
        else:
            text = (f"in band {v('time_in_band_pct')} %, RMSE {v('rmse_n', 2)} N, "
                    f"CV {v('cv_pct')} %, to band {v('time_to_band_s')} s, "
                    f"overshoots {s['overshoots']}, drift {v('drift_n_per_s', 2)} N/s")
        self.result_text.setText(f"trial {res.slot.number} ({res.slot.schedule}): {text}")
