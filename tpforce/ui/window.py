"""The live window: a huge force number on the zone colour, the hold ring, the trace, points.

It pulls: a 60 Hz timer reads the ring buffer, the tracker's snapshot and the event queue.
The IO thread never emits a Qt signal per sample; alarms are decided in the core and reach
the sound through `tpforce.ui.alarms` without waiting for this timer.
"""

from __future__ import annotations

import time

from PyQt5 import QtCore, QtWidgets

from tpforce.core.consumer import EventQueue
from tpforce.core.events import (
    Event,
    HoldCompleted,
    HoldEnded,
    HoldStarted,
    InputRefused,
    PhaseChanged,
    PointChanged,
    Tared,
    ThresholdMarked,
    Zone,
)
from tpforce.core.processor import Processor
from tpforce.core.ringbuffer import SampleRing
from tpforce.ui import settings as settings_io
from tpforce.ui.actions import key_actions, settings_menu
from tpforce.ui.alarms import AlarmRelay, SoundDirector
from tpforce.ui.points import PointPanel
from tpforce.ui.readout import ForceReadout, HoldRing
from tpforce.ui.settings import LiveSettings
from tpforce.ui.sound import SoundPlayer
from tpforce.ui.status import LiveLink, StatusInfo
from tpforce.ui.trace import TracePlot

FRAME_MS = 16  # about 60 Hz


class LiveWindow(QtWidgets.QMainWindow):
    """What the therapist sees and hears while a hand is on the patient."""

    def __init__(
        self,
        processor: Processor,
        ring: SampleRing,
        events: EventQueue,
        settings: LiveSettings | None = None,
        store: QtCore.QSettings | None = None,
        link: LiveLink | None = None,
        player: SoundPlayer | None = None,
        title: str = "tpforce",
        max_rate_sps: float = 1000.0,
    ) -> None:
        super().__init__()
        self.processor, self.ring, self.events = processor, ring, events
        self.store = store
        self.settings = settings or (settings_io.load(store) if store else LiveSettings())
        self.link = link or LiveLink()
        self.player = player or SoundPlayer(parent=self)
        self.director = SoundDirector(self.player, parent=self)
        self.relay = AlarmRelay()
        self.relay.alarm.connect(self.director.on_event)
        processor.add_consumer(self.relay)
        self.stale = True
        self.seen_events: list[Event] = []
        self._last_count = -1
        self._last_new_s = time.monotonic()
        self.setWindowTitle(title)
        self.resize(1280, 760)
        self.readout = ForceReadout()
        self.ring_widget = HoldRing()
        self.trace = TracePlot(self.settings.window_s, max_rate_sps)
        self.points = PointPanel()
        self._layout()
        self.status = StatusInfo(self.statusBar(), self.link)
        self.actions_ = key_actions(self, {
            "mark": lambda: processor.mark_threshold("key"), "tare": processor.tare,
            "phase": processor.next_phase,
            "hold": processor.toggle_hold, "next": self.next_point,
            "record": self.toggle_recording, "fullscreen": self.toggle_fullscreen,
            "mute": self.toggle_mute, "unit": self.next_unit,
        })
        self.menus = settings_menu(self, self.settings, self.apply)
        self.apply(**{})  # push the settings into the core, the sound and the widgets
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.PreciseTimer)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(FRAME_MS)

    def _layout(self) -> None:
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.readout, stretch=3)
        top.addWidget(self.ring_widget, stretch=2)
        left = QtWidgets.QVBoxLayout()
        left.addLayout(top, stretch=3)
        left.addWidget(self.trace, stretch=2)
        central = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(central)
        row.addLayout(left, stretch=4)
        row.addWidget(self.points, stretch=1)
        self.setCentralWidget(central)
        for widget in central.findChildren(QtWidgets.QWidget):
            widget.setFocusPolicy(QtCore.Qt.NoFocus)
        self.setFocusPolicy(QtCore.Qt.StrongFocus)

    # -- settings and commands --------------------------------------------------------------

    def apply(self, **changes: object) -> None:
        """Change settings, apply them to the core, sound and widgets, and keep them."""
        s = self.settings = self.settings.with_(**changes)
        if not changes or "target_s" in changes:
            self.processor.set_target_s(s.target_s)
        if not changes or "band_preset" in changes:
            self.processor.set_band_preset(s.band_preset)
        self.player.set_muted(s.muted)
        self.director.band_cue, self.director.hold_chime = s.band_cue, s.hold_chime
        self.director.alarm_sound, self.director.pitch = s.alarm_sound, s.pitch
        self.trace.set_unit(s.unit_enum, s.tip_area_cm2)
        self.trace.set_window_s(s.window_s)
        self.status.muted = s.muted
        self.actions_["mute"].setChecked(s.muted)
        for name, value in (("unit", s.unit), ("tip", s.tip_area_cm2),
                            ("preset", s.band_preset), ("target", s.target_s),
                            ("window", s.window_s)):
            for action in self.menus[name].actions():
                action.setChecked(action.data() == value)
        if self.store is not None and changes:
            settings_io.save(self.store, s)

    def next_point(self) -> None:
        """Move on to the point picked in the list (N key)."""
        site, side = self.points.chosen()
        self.processor.next_point(site, side)

    def toggle_recording(self) -> None:
        """Start or stop the recorder the CLI handed in (R key)."""
        if self.link.record is None:
            self.statusBar().showMessage("recording is not available here", 4000)
        else:
            on = self.status.recording is None
            try:
                text = self.link.record(on)
            except OSError as exc:
                self.statusBar().showMessage(f"recording failed: {exc}", 8000)
                on, text = False, ""
            self.status.recording = (text or "on") if on else None
        self.actions_["record"].setChecked(self.status.recording is not None)

    def toggle_fullscreen(self) -> None:
        """F11: full screen and back."""
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def toggle_mute(self) -> None:
        """M: mute and unmute every sound."""
        self.apply(muted=not self.settings.muted)

    def next_unit(self) -> None:
        """U: cycle N, kgf, lbf, kPa, kgf/cm²."""
        units = [u.value for u in type(self.settings.unit_enum)]
        self.apply(unit=units[(units.index(self.settings.unit) + 1) % len(units)])

    # -- the pull loop ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read what is new and repaint (the 60 Hz timer)."""
        for event in self.events.drain():
            self.on_event(event)
        now = time.monotonic()
        count = self.ring.count
        if count != self._last_count:
            self._last_count, self._last_new_s = count, now
        self.stale = count == 0 or now - self._last_new_s > self.link.stale_s
        state = self.processor.state
        s = self.settings
        self.readout.show_force(state.force_n, s.unit_enum, s.tip_area_cm2, state.zone,
                                self.stale, state.over_range)
        self.ring_widget.set_hold(state.in_band_s, state.target_s, state.hold_active,
                                  state.completed)
        self.trace.show_band(state.band)
        self.trace.refresh(self.ring)
        self.points.show_session(self.processor.session, state.trials_n, s.unit_enum,
                                 s.tip_area_cm2)
        self.director.update_pitch(state.force_n, state.band,
                                   Zone.UNKNOWN if self.stale else state.zone)
        self.status.measure_rate(now, count)
        self.status.show(not self.stale)

    def on_event(self, event: Event) -> None:
        """Show one event from the core (visual only: sounds come through the relay)."""
        self.seen_events.append(event)
        del self.seen_events[:-500]
        self.status.on_event(event)
        message = {
            Tared: "tared: zero taken",
            ThresholdMarked: "threshold marked",
            PhaseChanged: "phase changed",
            HoldStarted: "hold started",
            HoldCompleted: "hold complete",
            HoldEnded: "hold ended",
            PointChanged: "next point",
        }.get(type(event))
        if isinstance(event, InputRefused):
            message = event.reason
        elif isinstance(event, PhaseChanged):
            message = f"phase: {event.phase.value}"
        if message:
            self.statusBar().showMessage(message, 4000)

    def screenshot(self, path: str) -> bool:
        """Save the window as a PNG; True on success."""
        self.refresh()
        return bool(self.grab().save(path, "PNG"))

    def closeEvent(self, event: object) -> None:
        """Stop the timer and sounds, unhook the relay and keep the settings."""
        self.timer.stop()
        self.director.stop()
        self.relay.close()
        self.processor.remove_consumer(self.relay)
        if self.store is not None:
            settings_io.save(self.store, self.settings)
        super().closeEvent(event)  # type: ignore[arg-type]
