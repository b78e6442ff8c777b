"""The point list: pick the muscle and side of the next point; see PPT before and after."""

from __future__ import annotations

import math

from PyQt5 import QtCore, QtGui, QtWidgets

from tpforce.core.events import Phase
from tpforce.core.session import SITES, MdcVerdict, Point, Session, Side
from tpforce.core.units import Unit, convert
from tpforce.ui.readout import format_value

SHORT_VERDICTS = {
    MdcVerdict.RISE_BEYOND: "rise beyond MDC",
    MdcVerdict.WITHIN: "within MDC",
    MdcVerdict.FALL_BEYOND: "fall beyond MDC",
    MdcVerdict.TOO_FEW_TRIALS: "too few trials",
}
"""The verdict in the table's narrow column (the guide spells it out in full)."""


def _value(force_n: float, unit: Unit, tip_area_cm2: float) -> str:
    if not math.isfinite(force_n):
        return "–"
    return format_value(float(convert(force_n, unit, tip_area_cm2)), unit)


class PointPanel(QtWidgets.QWidget):
    """Muscle list, side buttons, the current point and a table of PPT before/after.

    Nothing here takes keyboard focus, so Space, T, H, N and R always reach the window.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.current = QtWidgets.QLabel("point 1")
        font = QtGui.QFont()
        font.setPointSize(18)
        font.setBold(True)
        self.current.setFont(font)
        self.current.setWordWrap(True)
        self.ppt = QtWidgets.QLabel("PPT: press Space (or the probe button) at the threshold")
        self.ppt.setWordWrap(True)
        pfont = QtGui.QFont()
        pfont.setPointSize(13)
        self.ppt.setFont(pfont)
        self.picker_title = QtWidgets.QLabel("next point (N): muscle and side")
        self.picker_title.setWordWrap(True)
        self.picker = QtWidgets.QWidget()
        self.sites = QtWidgets.QListWidget()
        self.sites.addItems(SITES)
        self.sites.setFocusPolicy(QtCore.Qt.NoFocus)
        self.sides = QtWidgets.QButtonGroup(self)
        side_row = QtWidgets.QHBoxLayout()
        for i, (label, side) in enumerate((("left", Side.LEFT), ("right", Side.RIGHT),
                                           ("midline", Side.MIDLINE))):
            button = QtWidgets.QPushButton(label)
            button.setCheckable(True)
            button.setFocusPolicy(QtCore.Qt.NoFocus)
            button.setProperty("side", side.value)
            self.sides.addButton(button, i)
            side_row.addWidget(button)
        self.sides.button(1).setChecked(True)
        self.table = QtWidgets.QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["point", "before", "after", "change", "verdict"])
        self.table.setWordWrap(True)
        self.table.setTextElideMode(QtCore.Qt.ElideNone)
        self.table.setFocusPolicy(QtCore.Qt.NoFocus)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QtWidgets.QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        header = self.table.horizontalHeader()
        assert header is not None
        self.header: QtWidgets.QWidget = header
        self.settings = QtWidgets.QLabel("")
        self.settings.setWordWrap(True)
        picker = QtWidgets.QVBoxLayout(self.picker)
        picker.setContentsMargins(0, 0, 0, 0)
        picker.addWidget(self.picker_title)
        picker.addWidget(self.sites, stretch=2)
        picker.addLayout(side_row)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.current)
        layout.addWidget(self.ppt)
        layout.addWidget(self.picker, stretch=2)
        layout.addWidget(self.table, stretch=1)
        layout.addWidget(self.settings)
        self.setMinimumWidth(420)
        self._buttons = list(self.sides.buttons())
        self._shown: tuple[object, ...] | None = None

    def scaled_fonts(self) -> list[tuple[QtWidgets.QWidget, float, bool]]:
        """The widgets whose text scales with the window: (widget, points at 1280x800, bold)."""
        return [(self.current, 18, True), (self.ppt, 15, False), (self.picker_title, 14, False),
                (self.sites, 14, False), (self.table, 14, False),
                (self.header, 14, True), (self.settings, 14, False),
                *((b, 14, False) for b in self._buttons)]

    def show_beside(self, widget: QtWidgets.QWidget) -> None:
        """Place `widget` (the guide's trials and verdict) under the current point's PPT."""
        layout = self.layout()
        assert isinstance(layout, QtWidgets.QVBoxLayout)
        layout.insertWidget(layout.indexOf(self.ppt) + 1, widget)

    def show_settings(self, text: str) -> None:
        """Show the settings in force (hold mode, grace, target, band)."""
        self.settings.setText(text)

    def show_phase(self, phase: Phase) -> None:
        """Fold the muscle/side picker away during treatment (it is for the next point)."""
        show = phase is not Phase.TREATMENT
        if self.picker.isHidden() == show:
            self.picker.setVisible(show)

    def chosen(self) -> tuple[str | None, str | None]:
        """The muscle and side picked for the next point (None where nothing is picked)."""
        item = self.sites.currentItem()
        button = self.sides.checkedButton()
        return (item.text() if item else None,
                str(button.property("side")) if button else None)

    def show_session(self, session: Session, trials_n: tuple[float, ...], unit: Unit,
                     tip_area_cm2: float) -> None:
        """Show the current point, its trials, and PPT before/after for every point."""
        rows = tuple((p.label, tuple(p.trials_before_n), tuple(p.trials_after_n))
                     for p in session.points)
        key = (rows, trials_n, unit, tip_area_cm2)
        if key == self._shown:
            return
        self._shown = key
        point = session.current
        self.current.setText(f"{point.index}. {point.label}")
        self.ppt.setText(self._ppt_text(point, trials_n, unit, tip_area_cm2))
        self.table.setRowCount(len(session.points))
        for r, p in enumerate(session.points):
            before = p.ppt_before_n(session.drop_first)
            after = p.ppt_after_n(session.drop_first)
            change = p.change_pct(session.drop_first)
            out = p.outcome(tip_area_cm2, session.drop_first)
            cells = (p.label.replace(" ", "\n", 1) if len(p.label) > 12 else p.label,
                     _value(before, unit, tip_area_cm2),
                     _value(after, unit, tip_area_cm2),
                     f"{change:+.0f} %\n{out.change_kpa:+.0f} kPa" if math.isfinite(change)
                     else "–",
                     SHORT_VERDICTS[out.verdict].replace(" ", "\n", 1) if out.verdict else "–")
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()

    @staticmethod
    def _ppt_text(point: Point, trials_n: tuple[float, ...], unit: Unit,
                  tip_area_cm2: float) -> str:
        before = point.trials_before_n or list(trials_n)
        if not before:
            return "PPT: press Space (or the probe button) at the threshold"
        fmt = ", ".join(_value(v, unit, tip_area_cm2) for v in before)
        mean = _value(sum(before) / len(before), unit, tip_area_cm2)
        text = f"PPT before {mean} {unit.value}  (trials {fmt})"
        if point.trials_after_n:
            text += f"\nPPT after {_value(point.ppt_after_n(), unit, tip_area_cm2)} {unit.value}"
        return text
