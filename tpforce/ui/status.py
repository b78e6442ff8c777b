"""The status bar (device, sample rate, lost frames, recording, sound) and what the CLI hands in.

The UI never opens ports or files: the command that wires the session passes a `LiveLink`
with the device's name and a switch for the recorder. The rest comes from core events
(`DeviceInfo`, `FramesLost`) and from the ring buffer itself (the measured rate).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PyQt5 import QtCore, QtGui, QtWidgets

from tpforce.core.events import DeviceInfo, Event, FramesLost, SignalLost, SignalRestored


@dataclass
class LiveLink:
    """The window's handles on the world outside the core, all optional.

    `record(on)` starts (True) or stops (False) recording and returns a line to show
    (the file name, say); it may raise OSError. `lost_frames()` overrides the count kept
    from `FramesLost` events when the source knows better.
    """

    device: str = ""
    record: Callable[[bool], str] | None = None
    lost_frames: Callable[[], int] | None = None
    stale_s: float = 0.2  # no new sample for this long: NO SIGNAL (slow gauges need longer)
    recording: Callable[[], tuple[bool, str]] | None = None  # (on, line): name+size or warning
    calibration: str = ""  # what is wrong with the calibration at connect, kept on screen
    bench: Any = None  # a calibration_dialog.BenchLink: the K key opens the calibration dialog


class MessageBar(QtWidgets.QStatusBar):
    """A status bar whose transient message (`showMessage`) is not painted in the bar itself,
    where the permanent fields would cut it: a `MessageLine` shows it whole instead."""

    def paintEvent(self, event: QtGui.QPaintEvent | None) -> None:
        """Paint what QStatusBar paints (the panel, a frame round each field) but no message."""
        painter = QtGui.QPainter(self)
        option = QtWidgets.QStyleOption()
        option.initFrom(self)
        style = self.style()
        assert style is not None
        style.drawPrimitive(QtWidgets.QStyle.PE_PanelStatusBar, option, painter, self)
        for child in self.findChildren(QtWidgets.QWidget, options=QtCore.Qt.FindDirectChildrenOnly):
            if child.isVisible() and not isinstance(child, QtWidgets.QSizeGrip):
                option.rect = child.geometry().adjusted(-2, -1, 2, 1)
                style.drawPrimitive(QtWidgets.QStyle.PE_FrameStatusBarItem, option, painter,
                                    child)
        painter.end()


class MessageLine(QtWidgets.QLabel):
    """The status bar's current message across the whole window, word-wrapped, so that a
    reason or a NO SIGNAL line is always whole; hidden while there is no message."""

    def __init__(self, bar: QtWidgets.QStatusBar) -> None:
        super().__init__("")
        self.setWordWrap(True)
        self.setTextFormat(QtCore.Qt.PlainText)
        self.setStyleSheet("background: #fff3c4; color: #1a1a1a; padding: 2px 8px")
        self.setVisible(False)
        bar.messageChanged.connect(self.follow)

    def follow(self, text: str) -> None:
        """Show the bar's new message (or hide on an empty one)."""
        self.setText(text)
        self.setVisible(bool(text))


class StatusInfo:
    """Keeps the status bar's fields up to date from events and the sample stream."""

    def __init__(self, bar: QtWidgets.QStatusBar, link: LiveLink) -> None:
        self.link = link
        self.device = link.device or "waiting for the device"
        self.nominal_sps: int | None = None
        self.rate_sps = 0.0
        self.lost = 0
        self.recording: str | None = None
        if link.recording is not None and link.recording()[0]:
            self.recording = "on"  # recorded from the first sample
        self.muted = False
        self.sound = "sound on"  # the player's own account: sound on, muted or SILENT
        self.signal = False
        self.fields: dict[str, QtWidgets.QLabel] = {}
        for name in ("device", "rate", "lost", "record", "sound"):
            label = QtWidgets.QLabel()
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)
            self.fields[name] = label
        self._rate_t: list[float] = []
        self._rate_n: list[int] = []
        self._rate_shown_at = 0.0
        self._shown: tuple[object, ...] | None = None
        self.bar = bar

    def on_event(self, event: Event) -> None:
        """Track the device and frame losses."""
        if isinstance(event, DeviceInfo):
            name = self.link.device
            if not name:
                name = event.serial
            elif event.serial not in name:
                name = f"{name} · {event.serial}"
            self.device = name  # the firmware goes in the tooltip: the bar has no room
            self.fields["device"].setToolTip(f"{name} · firmware {event.firmware}")
            self.nominal_sps = event.rate_sps
        elif isinstance(event, FramesLost):
            self.lost += event.count
        elif isinstance(event, SignalLost):
            self.bar.showMessage("NO SIGNAL: no data from the probe; waiting for it to return")
        elif isinstance(event, SignalRestored):
            self.bar.showMessage(f"signal back after {event.gap_s:.1f} s", 5000)

    def measure_rate(self, now_s: float, count: int) -> None:
        """Samples per second over the last two seconds of host time."""
        self._rate_t.append(now_s)
        self._rate_n.append(count)
        while len(self._rate_t) > 2 and now_s - self._rate_t[0] > 2.0:
            self._rate_t.pop(0)
            self._rate_n.pop(0)
        dt = now_s - self._rate_t[0]
        if dt > 0.5 and now_s - self._rate_shown_at >= 1.0:  # the figure changes once a second
            self.rate_sps = (count - self._rate_n[0]) / dt
            self._rate_shown_at = now_s

    def show(self, signal: bool) -> None:
        """Write the fields (only when one changed)."""
        lost = self.link.lost_frames() if self.link.lost_frames else self.lost
        rate = f"{self.rate_sps:.0f} sps" if signal else "no data"
        if self.nominal_sps:
            rate += f" (device {self.nominal_sps})"
        if self.link.recording is not None:
            on, line = self.link.recording()  # the recorder's own word: name and size
        else:
            on = self.recording is not None
            line = f"● REC {self.recording}" if on else ""
        warn = bool(line) and not on  # asked to record, and it is not: say so loudly
        line = line if on or warn else "not recording"
        key = (self.device, rate, lost, self.sound, line)
        if key == self._shown:
            return
        self._shown = key
        self.fields["device"].setText(self.device)
        self.fields["rate"].setText(rate)
        self.fields["lost"].setText(f"lost frames {lost}")
        self.fields["record"].setText(line)
        self.fields["record"].setStyleSheet(
            "color: #c62828; font-weight: bold" if on
            else "background: #ff8f00; color: black; font-weight: bold" if warn else "")
        self.fields["sound"].setText(self.sound)
        self.fields["sound"].setStyleSheet("" if self.sound == "sound on"
                                           else "color: #c62828; font-weight: bold")

