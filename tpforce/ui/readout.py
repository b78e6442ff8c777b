"""The glanceable part: a huge force number on the zone's colour, and the hold-timer ring."""

from __future__ import annotations

import math
import time

from PyQt5 import QtCore, QtGui, QtWidgets

from tpforce.core.events import Zone
from tpforce.core.units import Unit, convert

ZONE_COLOURS = {
    Zone.UNKNOWN: "#8a8a8a",  # grey: no signal
    Zone.NO_CONTACT: "#455a64",
    Zone.BELOW: "#1565c0",  # blue
    Zone.IN_BAND: "#2e7d32",  # green
    Zone.ABOVE: "#e08a00",  # amber
    Zone.OVER: "#c62828",  # red
}
ZONE_NAMES = {
    Zone.UNKNOWN: "NO SIGNAL",
    Zone.NO_CONTACT: "no contact",
    Zone.BELOW: "below band",
    Zone.IN_BAND: "IN BAND",
    Zone.ABOVE: "above band",
    Zone.OVER: "OVER THRESHOLD",
}
NO_SIGNAL = "NO SIGNAL"
OVER_RANGE = "MAX"  # the cell saturated while pushing: more force than it can read
UNKNOWN_FORCE = "FORCE UNKNOWN"  # data flows, but this reading has no force (saturated)
OVER_RANGE_LABEL = "OVER RANGE"
NUMBER_PERIOD_S = 0.1  # digits change at most 10 times a second: faster is unreadable


def format_value(value: float, unit: Unit) -> str:
    """A readout number with as many decimals as the unit deserves."""
    if not math.isfinite(value):
        return "--"
    decimals = 0 if unit is Unit.KPA else 2 if unit in (Unit.KGF, Unit.KGF_CM2) else 1
    return f"{value:.{decimals}f}"


class ForceReadout(QtWidgets.QFrame):
    """The force in the chosen unit on a panel painted in the zone's colour."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readout")
        self.stale = True
        self.zone = Zone.UNKNOWN
        self.over_range = False
        self.number = QtWidgets.QLabel("--")
        self.number.setAlignment(QtCore.Qt.AlignCenter)
        font = QtGui.QFont()
        font.setPointSize(110)
        font.setBold(True)
        font.setStyleHint(QtGui.QFont.Monospace)
        self.number.setFont(font)
        # The number's width must not re-run the window's layout every time a digit changes.
        self.number.setSizePolicy(QtWidgets.QSizePolicy.Ignored,
                                  QtWidgets.QSizePolicy.Ignored)
        self.number.setMinimumHeight(120)
        self._number_at = -1.0
        self.unit = QtWidgets.QLabel("N")
        self.unit.setAlignment(QtCore.Qt.AlignCenter)
        ufont = QtGui.QFont()
        ufont.setPointSize(26)
        self.unit.setFont(ufont)
        self.zone_label = QtWidgets.QLabel(NO_SIGNAL)
        self.zone_label.setAlignment(QtCore.Qt.AlignCenter)
        zfont = QtGui.QFont()
        zfont.setPointSize(30)
        zfont.setBold(True)
        self.zone_label.setFont(zfont)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.number, stretch=3)
        layout.addWidget(self.unit)
        layout.addWidget(self.zone_label)
        self.setMinimumWidth(420)
        # An opaque panel filled from the palette: a changing digit repaints only the panel.
        self.setAutoFillBackground(True)
        self._colours: tuple[str, str] | None = None
        self.stale = False
        self.show_force(math.nan, Unit.N, 1.0, Zone.UNKNOWN, stale=True)

    def set_scale(self, scale: float) -> None:
        """Scale the number, unit and zone text with the window."""
        for label, pt in ((self.number, 110), (self.unit, 26), (self.zone_label, 30)):
            font = label.font()
            font.setPointSizeF(pt * scale)
            label.setFont(font)

    def show_force(self, force_n: float, unit: Unit, tip_area_cm2: float, zone: Zone,
                   stale: bool, over_range: bool = False) -> None:
        """Show one reading; a stale stream greys out and says NO SIGNAL, never a frozen value.

        The zone and NO SIGNAL show at once; the digits at most every NUMBER_PERIOD_S.
        """
        now = time.monotonic()
        changed = stale != self.stale or (Zone.UNKNOWN if stale else zone) != self.zone \
            or over_range != self.over_range
        if not changed and now - self._number_at < NUMBER_PERIOD_S:
            return
        self._number_at = now
        self.stale = stale
        self.over_range = over_range
        self.zone = Zone.UNKNOWN if stale else zone
        unit_text = f"{unit.value} on {tip_area_cm2:g} cm²" if unit.is_pressure else unit.value
        self.unit.setText(unit_text)
        if stale:
            self.number.setText("--")
            self.zone_label.setText(NO_SIGNAL)
        elif over_range or (zone == Zone.OVER and not math.isfinite(force_n)):
            self.number.setText(OVER_RANGE)  # saturated while pushing: beyond the cell
            self.zone_label.setText(ZONE_NAMES[zone] if zone == Zone.OVER else OVER_RANGE_LABEL)
        elif zone == Zone.UNKNOWN:
            self.number.setText("--")
            self.zone_label.setText(UNKNOWN_FORCE)
        else:
            self.number.setText(format_value(float(convert(force_n, unit, tip_area_cm2)), unit))
            self.zone_label.setText(ZONE_NAMES[zone])
        colours = (ZONE_COLOURS[self.zone], "#e0e0e0" if stale else "#ffffff")
        if colours != self._colours:  # repaint the panel only when the zone changes
            self._colours = colours
            palette = self.palette()
            palette.setColor(QtGui.QPalette.Window, QtGui.QColor(colours[0]))
            palette.setColor(QtGui.QPalette.WindowText, QtGui.QColor(colours[1]))
            self.setPalette(palette)


class HoldRing(QtWidgets.QWidget):
    """The in-band seconds against the target as a ring that fills, with the time inside."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.in_band_s = 0.0
        self.target_s = 30.0
        self.active = False
        self.completed = False
        self.note = ""  # why the count is paused ('paused: above band'), '' while counting
        self.trials: tuple[int, int, str] | None = None  # (done, of, phase) in a trial phase
        self.last_hold = ""  # the last hold's result, said as the last hold's
        self.setMinimumSize(220, 220)

    @property
    def fraction(self) -> float:
        """How much of the target (or of a trial phase's trials) is done, 0-1."""
        if self.trials is not None:
            done, of, _ = self.trials
            return min(done / of, 1.0) if of > 0 else 0.0
        if self.target_s <= 0:
            return 0.0
        return min(max(self.in_band_s / self.target_s, 0.0), 1.0)

    @property
    def text(self) -> str:
        """What the ring says: seconds held of the target, or trials done in a trial phase."""
        if self.trials is not None:
            done, of, phase = self.trials
            return f"{done} of {of}\n{phase}"
        if not (self.active or self.completed):
            return f"--\n/ {self.target_s:.0f} s"
        return f"{self.in_band_s:.0f}\n/ {self.target_s:.0f} s"

    @property
    def middle(self) -> str:
        """The line under the big figure: what it counts."""
        if self.trials is not None:
            return self.trials[2]
        return f"of {self.target_s:.0f} s in band"

    @property
    def caption_pt(self) -> float:
        """The caption's size: 14 pt in a ring of 240 px (1280x800), growing with the ring."""
        side = min(self.width(), self.height()) - 24
        return 14.0 * max(1.0, side / 240.0)

    @property
    def caption(self) -> str:
        """The line under the seconds: the hold's state, or why the count is paused; in a
        trial phase the last hold's result, labelled as the last hold's."""
        if self.trials is not None:
            return self.last_hold or "no hold yet"
        if self.completed:
            return "✓ done"
        if self.active:
            return self.note or "in band: counting"
        return "no hold"

    def set_hold(self, in_band_s: float, target_s: float, active: bool, completed: bool,
                 note: str = "") -> None:
        """Show a hold (treatment); repaint only if something visible changed (the arc
        moves a few pixels per tenth of a second)."""
        new = (round(in_band_s, 1), target_s, active, completed, note, None)
        if new != (round(self.in_band_s, 1), self.target_s, self.active, self.completed,
                   self.note, self.trials):
            self.update()
        self.in_band_s, self.target_s, self.active, self.completed, self.note = \
            in_band_s, target_s, active, completed, note
        self.trials = None

    def set_trials(self, done: int, of: int, phase: str, last_hold: str) -> None:
        """Show a trial phase: trials done of those asked for; no hold is live here."""
        trials = (done, of, phase)
        if (trials, last_hold, False) != (self.trials, self.last_hold, self.active):
            self.update()
        self.trials, self.last_hold, self.active = trials, last_hold, False

    def paintEvent(self, event: QtGui.QPaintEvent | None) -> None:
        """Draw the track, the filled arc and the seconds."""
        side = min(self.width(), self.height()) - 24
        rect = QtCore.QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.Antialiasing)
        pen = QtGui.QPen(QtGui.QColor("#d0d0d0"), 18)
        p.setPen(pen)
        p.drawEllipse(rect)
        colour = ("#1565c0" if self.trials is not None else "#2e7d32" if self.completed
                  else "#43a047" if self.active else "#9e9e9e")
        pen.setColor(QtGui.QColor(colour))
        pen.setCapStyle(QtCore.Qt.RoundCap)
        p.setPen(pen)
        p.drawArc(rect, 90 * 16, -int(360 * 16 * self.fraction))
        font = QtGui.QFont()
        font.setBold(True)
        font.setPixelSize(max(12, int(side / 4)))
        p.setFont(font)
        p.setPen(QtGui.QColor("#1a1a1a"))
        upper = QtCore.QRectF(rect.left(), rect.top() + side * 0.18, side, side * 0.34)
        lines = self.text.split("\n")
        big = lines[0].replace(" of ", "/") if self.trials is not None else lines[0]
        p.drawText(upper, QtCore.Qt.AlignCenter, big)
        font.setPointSizeF(self.caption_pt)
        font.setBold(False)
        p.setFont(font)
        inner = side * 0.82  # inside the ring's stroke
        left = rect.left() + (side - inner) / 2
        height = p.fontMetrics().height()
        mid = QtCore.QRectF(left, rect.top() + side * 0.52, inner, height)
        p.drawText(mid, QtCore.Qt.AlignCenter, self.middle)
        colour = "#b71c1c" if self.note and self.active else "#1a1a1a"
        p.setPen(QtGui.QColor(colour))
        lower = QtCore.QRectF(left, rect.top() + side * 0.52 + height * 1.15, inner, height)
        p.drawText(lower, QtCore.Qt.AlignCenter, self.caption)
        p.end()
