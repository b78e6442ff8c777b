"""The live window: a huge force number on the zone colour, the hold ring, the trace, points.

It pulls: a 60 Hz timer reads the ring buffer, the tracker's snapshot and the event queue.
The IO thread never emits a Qt signal per sample; alarms are decided in the core and reach
the sound through `tpforce.ui.alarms` without waiting for this timer.
"""

from __future__ import annotations

import time

from PyQt5 import QtCore, QtGui, QtWidgets

from tpforce.core.consumer import EventQueue
from tpforce.core.events import (
    Event,
    HoldCompleted,
    HoldEnded,
    HoldScored,
    HoldStarted,
    InputRefused,
    Phase,
    PhaseChanged,
    PointChanged,
    Tared,
    ThresholdMarked,
    TrialRefiled,
    Zone,
)
from tpforce.core.metrics import HoldMetrics
from tpforce.core.processor import Processor
from tpforce.core.ringbuffer import SampleRing
from tpforce.ui import settings as settings_io
from tpforce.ui.actions import PRESET_NAMES, key_actions, settings_menu
from tpforce.ui.alarms import AlarmRelay, SoundDirector
from tpforce.ui.gc_guard import collect_on_gui_thread
from tpforce.ui.guide import GuidePanel, guide_view, hold_summary, value_text
from tpforce.ui.points import PointPanel
from tpforce.ui.readout import ForceReadout, HoldRing
from tpforce.ui.report_action import ReportAction
from tpforce.ui.settings import LiveSettings
from tpforce.ui.sound import SoundPlayer
from tpforce.ui.status import LiveLink, MessageBar, MessageLine, StatusInfo
from tpforce.ui.trace import TracePlot

FRAME_MS = 16  # about 60 Hz
GUIDE_PERIOD_S = 0.2  # the guide's numbers (ramp rate) change at most 5 times a second
BASE_SIZE = (1280, 800)  # text sizes are given for this window and scale with it
TRACE_MIN_PX = 200  # the trace's height at BASE_SIZE in every phase (the readout gives way)
MIN_PT = 14  # nothing a therapist reads is smaller at BASE_SIZE (legible at a metre)
SILENT_WARNING = "⚠ ALARM CANNOT SOUND: no audio output; watch the screen"
PAUSE_NOTES = {Zone.ABOVE: "paused: above", Zone.OVER: "paused: over PPT",
               Zone.BELOW: "paused: below", Zone.NO_CONTACT: "paused: no contact",
               Zone.UNKNOWN: "paused: no signal"}
"""What the ring says while a hold's in-band count stands still (short: it sits in the ring)."""
RING_PHASES = {Phase.BASELINE: "baseline trials", Phase.AFTER: "after trials"}
"""The ring's word for a trial phase, where it counts trials instead of a hold's seconds."""


def settings_line(s: LiveSettings) -> str:
    """The settings in force, in one line the therapist can check at a glance."""
    from tpforce.core.band import BandPreset

    preset = BandPreset.parse(s.band_preset)
    band = (f"custom {s.custom_lo_pct:g}-{s.custom_hi_pct:g} % PPT"
            if preset is BandPreset.CUSTOM else PRESET_NAMES[preset])
    return (f"settings: {s.hold_mode} hold · grace {s.grace_s:g} s · "
            f"target {s.target_s:g} s · band {band}")


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
        collect_on_gui_thread()  # a reader thread must never free Qt objects
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
        self.tared = False
        self.last_mark: ThresholdMarked | None = None
        self.summary = ""
        self.last_hold = ""  # the ring's line on the last hold, kept through the after-trials
        self._scaled: list[tuple[QtWidgets.QWidget, float, bool]] = []
        self._scale = 0.0
        self._guide_at = -1.0
        self._last_count = -1
        self._legend_for: tuple[object, ...] | None = None
        self.unit = self.settings.unit_enum
        self._last_new_s = time.monotonic()
        self.setWindowTitle(title)
        self.resize(*BASE_SIZE)
        self.readout = ForceReadout()
        self.ring_widget = HoldRing()
        self.trace = TracePlot(self.settings.window_s, max_rate_sps)
        self.points = PointPanel()
        self.guide = GuidePanel()
        self.sound_warning = QtWidgets.QLabel("")
        self.sound_warning.setWordWrap(True)
        self.sound_warning.setStyleSheet("color: white; background: #b71c1c; padding: 4px;"
                                         " font-weight: bold")
        self.setStatusBar(MessageBar())  # its messages show whole in self.message instead
        self.legend = QtWidgets.QLabel("")
        self.legend.setWordWrap(True)
        self.calibration_warning = QtWidgets.QLabel("")  # the record's age, the zero's drift
        self.calibration_warning.setWordWrap(True)
        self.calibration_warning.setStyleSheet("color: black; background: #ffb300; "
                                               "padding: 4px; font-weight: bold")
        self.calibration_warning.setVisible(False)
        self._layout()
        bar = self.statusBar()
        assert bar is not None
        self.status = StatusInfo(bar, self.link)
        self.player.silenced.connect(lambda _reason: self._show_sound_state())
        self.actions_ = key_actions(self, {
            "mark": lambda: processor.mark_threshold("key"), "tare": processor.tare,
            "tare_anyway": processor.tare_anyway, "tolerance": processor.mark_tolerance,
            "delete": self.delete_last_trial, "phase": processor.next_phase,
            "hold": processor.toggle_hold, "next": self.next_point,
            "record": self.toggle_recording, "fullscreen": self.toggle_fullscreen,
            "mute": self.toggle_mute, "unit": self.next_unit,
        })
        self.report = ReportAction(self, processor)  # Ctrl+S: the session's report
        self.menus = settings_menu(self, self.settings, self.apply)
        self.calibration_dialog: QtWidgets.QDialog | None = None
        self.calibration_action = QtWidgets.QAction("Calibration of the probe…", self)
        self.calibration_action.setShortcut(QtGui.QKeySequence("K"))
        self.calibration_action.triggered.connect(self.open_calibration)
        self.menuBar().addMenu("&Probe").addAction(self.calibration_action)
        self.addAction(self.calibration_action)
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
        left.addWidget(self.sound_warning)
        left.addWidget(self.calibration_warning)
        left.addWidget(self.guide)
        left.addLayout(top, stretch=3)
        left.addWidget(self.legend)
        left.addWidget(self.trace, stretch=3)
        # The trials of this phase and the verdict sit under the point's PPT in the right
        # column, so the left column keeps room for the readout and the trace in every phase.
        self.points.show_beside(self.guide.trials)
        bar = self.statusBar()
        assert bar is not None
        self.message = MessageLine(bar)  # the bar's messages, whole, across the window
        central = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(9, 9, 9, 4)
        row.addLayout(left, stretch=3)
        row.addWidget(self.points, stretch=1)
        column.addLayout(row, stretch=1)
        column.addWidget(self.message)
        self.setCentralWidget(central)
        for widget in central.findChildren(QtWidgets.QWidget):
            widget.setFocusPolicy(QtCore.Qt.NoFocus)
        self.setFocusPolicy(QtCore.Qt.StrongFocus)
        guide = self.guide
        for widget, pt, bold in ((guide.phase, 26, True), (guide.step, 20, True),
                                 (guide.notice, 18, True), (guide.detail, 16, False),
                                 (guide.trials, 16, False), (self.legend, 15, False),
                                 (self.sound_warning, 16, True),
                                 (self.calibration_warning, 16, True)):
            self._scaled.append((widget, pt, bold))
        self._scaled += self.points.scaled_fonts()
        self._scaled.append((self.message, 15, True))

    def resizeEvent(self, event: QtGui.QResizeEvent | None) -> None:
        """Scale every text with the window (never below MIN_PT at BASE_SIZE)."""
        super().resizeEvent(event)
        self._apply_scale()

    def _apply_scale(self) -> None:
        w, h = self.width(), self.height()
        scale = max(1.0, min(w / BASE_SIZE[0], h / BASE_SIZE[1]))
        if abs(scale - self._scale) < 0.02:
            return
        self._scale = scale
        for widget, pt, bold in self._scaled:
            font = widget.font()
            font.setPointSizeF(max(MIN_PT, pt) * scale)
            font.setBold(bold)
            widget.setFont(font)
        bar_font = self.statusBar().font()
        bar_font.setPointSizeF(MIN_PT * scale)
        for label in self.status.fields.values():
            label.setFont(bar_font)
        self.statusBar().setFont(bar_font)
        self.readout.set_scale(scale)
        self.trace.set_text_pt(MIN_PT * scale)
        self.trace.setMinimumHeight(int(TRACE_MIN_PX * scale))

    # -- settings and commands --------------------------------------------------------------

    def apply(self, **changes: object) -> None:
        """Change settings, apply them to the core, sound and widgets, and keep them."""
        s = self.settings = self.settings.with_(**changes)
        self.unit = s.unit_enum
        self.apply_to_session(s, changes)
        self.player.set_muted(s.muted)
        self.director.band_cue, self.director.hold_chime = s.band_cue, s.hold_chime
        self.director.alarm_sound, self.director.pitch = s.alarm_sound, s.pitch
        self.trace.set_unit(s.unit_enum, s.tip_area_cm2)
        self.trace.set_window_s(s.window_s)
        self.status.muted = s.muted
        self._show_sound_state()
        self.actions_["mute"].setChecked(s.muted)
        for name, value in (("unit", s.unit), ("tip", s.tip_area_cm2),
                            ("preset", s.band_preset), ("target", s.target_s),
                            ("mode", s.hold_mode), ("grace", s.grace_s),
                            ("window", s.window_s)):
            for action in self.menus[name].actions():
                action.setChecked(action.data() == value)
        self.points.show_settings(settings_line(s))
        if self.store is not None and changes:
            settings_io.save(self.store, s)

    def apply_to_session(self, s: LiveSettings, changes: dict[str, object]) -> None:
        """Hand the session's settings (target, band, hold mode, grace) to the core as
        inputs: all of them at start (`changes` empty), else those changed."""
        if not changes or "target_s" in changes:
            self.processor.set_target_s(s.target_s)
        if not changes or "band_preset" in changes:
            self.processor.set_band_preset(s.band_preset)
        if s.band_preset == "custom" and (not changes or {"band_preset", "custom_lo_pct",
                                                          "custom_hi_pct"} & set(changes)):
            self.processor.set_band_custom(s.custom_lo_pct, s.custom_hi_pct, "%")
        if not changes or "hold_mode" in changes:
            self.processor.set_hold_mode(s.hold_mode)
        if not changes or "grace_s" in changes:
            self.processor.set_grace_s(s.grace_s)

    def delete_last_trial(self) -> None:
        """Backspace: delete the current point's last mark (trial or step)."""
        marks = self.processor.session.current.marks
        live = [i for i, m in enumerate(marks, 1) if not m.deleted]
        if not live:
            self.guide.say("nothing to delete: this point has no trial", time.monotonic())
            return
        self.processor.delete_trial(live[-1])

    def _show_sound_state(self) -> None:
        """The status bar's sound field and the persistent warning, from the player."""
        self.status.sound = self.player.state_text
        reason = self.player.silent_reason
        self.sound_warning.setText(SILENT_WARNING if reason else "")
        self.sound_warning.setToolTip(reason)
        self.sound_warning.setVisible(bool(reason))

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

    def open_calibration(self) -> None:
        """K: the probe's calibration record and the guided bench, in a dialog."""
        if self.link.bench is None:
            self.statusBar().showMessage("calibration is available for a tpforce probe only",
                                         4000)
            return
        from tpforce.ui.calibration_dialog import CalibrationDialog

        self.calibration_dialog = CalibrationDialog(self.ring, self.link.bench, self)
        self.calibration_dialog.open()

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
        events = self.events.drain()
        for event in events:
            self.on_event(event)
        now = time.monotonic()
        count = self.ring.count
        if count != self._last_count:
            self._last_count, self._last_new_s = count, now
        self.stale = count == 0 or now - self._last_new_s > self.link.stale_s
        state = self.processor.state
        s = self.settings
        unit = self.unit  # parsed once per settings change, not five times a frame
        self.readout.show_force(state.force_n, unit, s.tip_area_cm2, state.zone,
                                self.stale, state.over_range)
        zone = Zone.UNKNOWN if self.stale else state.zone
        phase = Phase(state.phase)
        if phase.trials:  # no hold runs here: the ring counts this phase's trials
            point = self.processor.session.current
            done = len(point.trials_before_n if phase is Phase.BASELINE
                       else point.trials_after_n)
            self.ring_widget.set_trials(done, self.processor.tracker.config.trials,
                                        RING_PHASES[phase], self.last_hold)
        else:
            note = PAUSE_NOTES.get(zone, "") if state.hold_active else ""
            self.ring_widget.set_hold(state.in_band_s, state.target_s, state.hold_active,
                                      state.completed, note)
        self.trace.show_band(state.band)
        self.trace.show_stale(self.stale)
        self.trace.refresh(self.ring)
        session = self.processor.session
        self.points.show_session(session, state.trials_n, unit, s.tip_area_cm2)
        self.points.show_phase(Phase(state.phase))
        if events or now - self._guide_at >= GUIDE_PERIOD_S:  # events show at once
            self._guide_at = now
            self.guide.show_view(guide_view(
                state, session.current, self.processor.tracker.config, self.tared,
                self.last_mark, self.summary, unit, s.tip_area_cm2,
                session.drop_first), now)
        self._show_legend(state)
        self._show_calibration(state.zero_drift)
        self.director.update_pitch(state.force_n, state.band,
                                   Zone.UNKNOWN if self.stale else state.zone)
        self.status.measure_rate(now, count)
        self.status.show(not self.stale)

    def _show_calibration(self, zero_drift: str) -> None:
        """The persistent calibration warnings: the record at connect, the zero's drift."""
        lines = [f"⚠ {self.link.calibration}" if self.link.calibration else "",
                 f"⚠ ZERO DRIFTED: {zero_drift}" if zero_drift else ""]
        text = "<br>".join(line for line in lines if line)
        if text != self.calibration_warning.text():
            self.calibration_warning.setText(text)
            self.calibration_warning.setVisible(bool(text))

    def _show_legend(self, state: object) -> None:
        """The trace's legend with the band limits and the PPT as numbers."""
        s = self.settings
        band = self.processor.state.band
        key = (band, self.unit, s.tip_area_cm2)
        if key == self._legend_for:
            return
        self._legend_for = key
        if band is None:
            text = "<b>━</b> force &nbsp; (no band yet: mark the threshold)"
        else:
            lo, hi, ppt = (value_text(v, self.unit, s.tip_area_cm2)
                           for v in (band.lo_n, band.hi_n, band.over_n))
            text = (f"<b>━</b> force &nbsp;&nbsp; <span style='color:#2e7d32'>▇</span> "
                    f"band <b>{lo} – {hi}</b> &nbsp;&nbsp; <span style='color:#c62828'>┅</span>"
                    f" PPT <b>{ppt}</b> (alarm above)")
        if text != self.legend.text():
            self.legend.setText(text)

    def on_event(self, event: Event) -> None:
        """Show one event from the core (visual only: sounds come through the relay)."""
        self.seen_events.append(event)
        del self.seen_events[:-500]
        self.status.on_event(event)
        now = time.monotonic()
        if isinstance(event, Tared):
            self.tared = True
        elif isinstance(event, ThresholdMarked):
            self.last_mark = event
        elif isinstance(event, HoldStarted):
            self.summary = ""
        elif isinstance(event, HoldScored) and isinstance(event.metrics, HoldMetrics):
            self.summary = hold_summary(event.metrics)
            m = event.metrics
            self.last_hold = f"last hold {m.in_band_s:.0f} s{' ✓' if m.completed else ''}"
        elif isinstance(event, PointChanged):
            self.last_mark, self.summary, self.last_hold = None, "", ""
        elif isinstance(event, TrialRefiled) and event.to is None:
            self.last_mark = None
        if isinstance(event, InputRefused):
            self.guide.say(event.reason, now)
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
            message = ""  # the guide says why, large, for NOTICE_S: once is enough
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
