"""The replay window: the live window driven by a recording's player, never to be taken for a
live patient.

A REPLAY banner (file, recorded date, pseudonym) and a purple frame mark it; every key or
menu item that would feed an input to a session (tare, mark, phase, hold, next point,
record) is locked and says so; the session's settings become a what-if, rescored beside the
recorded result. Play, pause, speed 0.25x-8x, step, seek back and forth and a timeline of
trials, holds, steps and alarms move through the recording. Sound follows the replay,
muted by default.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from PyQt5 import QtCore, QtGui, QtWidgets

from tpforce.core.consumer import EventQueue
from tpforce.core.events import Event
from tpforce.core.metrics import HoldMetrics
from tpforce.core.processor import Processor
from tpforce.core.ringbuffer import SampleRing
from tpforce.ui.actions import PRESET_NAMES
from tpforce.ui.loop import run_until_closed
from tpforce.ui.settings import LiveSettings
from tpforce.ui.sound import SoundPlayer
from tpforce.ui.status import LiveLink
from tpforce.ui.timeline import Timeline, marks_from_events
from tpforce.ui.window import LiveWindow

FRAME_COLOUR = "#6a1b9a"
"""The replay's frame and banner colour (the live window has none: no one mistakes them)."""
REPLAY_TRACE_MIN_PX = 150  # at 1280x800 (live: 200); a replay also shows its controls
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
LOCKED = {"mark": "Space (mark threshold)", "tare": "T (tare)",
          "tare_anyway": "Shift+T (tare anyway)", "tolerance": "O (mark tolerance)",
          "delete": "Backspace (delete trial)", "phase": "P (next phase)",
          "hold": "H (start / stop hold)", "next": "N (next point)", "record": "R (record)"}
"""The live window's keys that would feed a session, locked in a replay."""
LOCKED_ATTRIBUTES = {"calibration_action": "the probe's calibration"}
"""Other actions of the live window, where it has them, that reach a device: locked too."""
SESSION_SETTINGS = frozenset({"band_preset", "custom_lo_pct", "custom_hi_pct", "target_s",
                              "hold_mode", "grace_s"})
"""Settings that change a session; in a replay they are a what-if."""


WHAT_IF_COLUMNS = ["hold", "scored", "in band s", "% in band", "completed"]
"""The what-if table: two rows per hold, the recorded result, then the what-if's."""


def result_cells(m: HoldMetrics | None) -> list[str]:
    """A hold's in-band seconds, % in band and completion as the table shows them."""
    if m is None:
        return ["-", "-", "no such hold"]
    return [f"{m.in_band_s:.1f}", f"{m.in_band_pct:.0f} %", "yes" if m.completed else "no"]


class ReplaySource(Protocol):
    """What the window needs of the player (`tpforce.io.player.PlayerSource`)."""

    speed: float
    on_rewind: Callable[[], None] | None

    @property
    def paused(self) -> bool: ...
    @property
    def start_t(self) -> float: ...
    @property
    def end_t(self) -> float: ...
    def pause(self, on: bool = True) -> None: ...
    def step(self, n: int = 1) -> None: ...
    def seek(self, t_s: float) -> None: ...
    def position_t(self) -> float: ...
    @property
    def nominal_rate_sps(self) -> float: ...


Rescore = Callable[[dict[str, Any]], Sequence[tuple[HoldMetrics | None, HoldMetrics | None]]]
"""Rescores the recording with what-if settings: (recorded, what-if) per hold."""


@dataclass
class ReplayInfo:
    """What the banner and the what-if need to know of the recording."""

    file: str
    recorded: str  # when it was recorded, as text
    patient: str
    operator: str = ""
    events: list[Event] = field(default_factory=list)  # the recorded events, in order
    recorded_settings: dict[str, Any] = field(default_factory=dict)  # band, target, ...
    rescore: Rescore | None = None


def settings_words(values: dict[str, Any]) -> str:
    """Session settings (`LiveSettings` names) in words, e.g. 'band custom 70-85 % PPT'."""
    parts = []
    preset = values.get("band_preset")
    if preset == "custom" or "custom_lo_pct" in values:
        parts.append(f"band custom {float(values.get('custom_lo_pct', 0)):g}-"
                     f"{float(values.get('custom_hi_pct', 0)):g} % PPT")
    elif preset is not None:
        from tpforce.core.band import BandPreset

        parts.append(f"band {PRESET_NAMES[BandPreset.parse(str(preset))]}")
    if "target_s" in values:
        parts.append(f"target {float(values['target_s']):g} s")
    if "hold_mode" in values:
        parts.append(f"{values['hold_mode']} hold")
    if "grace_s" in values:
        parts.append(f"grace {float(values['grace_s']):g} s")
    return " · ".join(parts)


def _clock(t_s: float) -> str:
    t = max(0.0, t_s)
    return f"{int(t // 60)}:{t % 60:04.1f}"


class ReplayWindow(LiveWindow):
    """The live window on a recording: banner, frame, locked inputs, transport, timeline,
    what-if."""

    def __init__(self, processor: Processor, ring: SampleRing, events: EventQueue,
                 source: ReplaySource, info: ReplayInfo,
                 settings: LiveSettings | None = None, link: LiveLink | None = None,
                 player: SoundPlayer | None = None, max_rate_sps: float = 1000.0) -> None:
        self.source = source
        self.info = info
        self.what_if: dict[str, Any] = {}
        self.comparison: list[tuple[HoldMetrics | None, HoldMetrics | None]] = []
        self.locked_presses: list[str] = []
        link = link or LiveLink()
        link.stale_s = math.inf  # a paused replay is not a lost signal
        link.record = None
        settings = (settings or LiveSettings()).with_(muted=True)
        super().__init__(processor, ring, events, settings=settings, store=None, link=link,
                         player=player, title=f"tpforce REPLAY - {info.file}",
                         max_rate_sps=max_rate_sps)
        self._ring_capacity = ring._capacity
        actions: dict[str, QtWidgets.QAction | None] = {
            name: self.actions_.get(name) for name in LOCKED}
        actions.update({name: getattr(self, name, None) for name in LOCKED_ATTRIBUTES})
        for name, action in actions.items():
            if action is None:
                continue
            words = LOCKED.get(name) or LOCKED_ATTRIBUTES[name]
            action.triggered.disconnect()
            action.triggered.connect(lambda _=False, w=words: self.locked(w))
            action.setText(f"{action.text()} (locked in a replay)")
            action.setChecked(False)
        self._build()
        source.on_rewind = self._rewound
        self.refresh()

    # -- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        live = self.takeCentralWidget()
        frame = QtWidgets.QFrame()
        frame.setObjectName("replayFrame")
        frame.setStyleSheet(f"#replayFrame {{ border: 8px solid {FRAME_COLOUR}; }}")
        col = QtWidgets.QVBoxLayout(frame)
        col.setContentsMargins(10, 10, 10, 10)
        info = self.info
        who = f"patient {info.patient}" + (f" · operator {info.operator}" if info.operator
                                           else "")
        self.banner = QtWidgets.QLabel(
            f"REPLAY · {info.file} · recorded {info.recorded} · {who} · not a live patient")
        self.banner.setObjectName("replayBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(f"#replayBanner {{ color: white; background: {FRAME_COLOUR};"
                                  " padding: 6px; font-weight: bold; }")
        col.addWidget(self.banner)
        self.lock_note = QtWidgets.QLabel("")
        self.lock_note.setStyleSheet(f"color: {FRAME_COLOUR}; font-weight: bold")
        self.lock_note.setWordWrap(True)
        self.lock_note.setVisible(False)
        col.addWidget(self.lock_note)
        col.addLayout(self._transport())
        self.timeline = Timeline(self.source.start_t, self.source.end_t,
                                 marks_from_events(info.events, self.source.end_t))
        self.timeline.seek.connect(self.seek)
        col.addWidget(self.timeline)
        body = QtWidgets.QHBoxLayout()
        if live is not None:
            body.addWidget(live, stretch=3)
        self.what_if_box = self._what_if_panel()
        body.addWidget(self.what_if_box, stretch=1)
        col.addLayout(body, stretch=1)
        self.setCentralWidget(frame)
        for widget in frame.findChildren(QtWidgets.QWidget):
            widget.setFocusPolicy(QtCore.Qt.NoFocus)
        bar = self.statusBar()
        bar.setStyleSheet(f"QStatusBar {{ border-top: 4px solid {FRAME_COLOUR}; }}")
        for widget, pt, bold in ((self.banner, 17, True), (self.lock_note, 15, True),
                                 (self.position, 15, True)):
            self._scaled.append((widget, pt, bold))
        self._scale = 0.0
        self._apply_scale()

    def _transport(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.play_button = QtWidgets.QPushButton("▶ play (Enter)")
        self.play_button.clicked.connect(self.toggle_play)
        back = QtWidgets.QPushButton("◀ 5 s (←)")
        back.clicked.connect(lambda: self.jump(-5.0))
        step = QtWidgets.QPushButton("step 0.1 s (.)")
        step.clicked.connect(self.step)
        ahead = QtWidgets.QPushButton("5 s ▶ (→)")
        ahead.clicked.connect(lambda: self.jump(5.0))
        self.speed_box = QtWidgets.QComboBox()
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}x", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(self.source.speed)
                                       if self.source.speed in SPEEDS else 2)
        self.speed_box.currentIndexChanged.connect(
            lambda k: self.set_speed(SPEEDS[k]))
        self.position = QtWidgets.QLabel("")
        for w in (self.play_button, back, step, ahead):
            row.addWidget(w)
        row.addWidget(QtWidgets.QLabel("speed ([ ])"))
        row.addWidget(self.speed_box)
        row.addWidget(self.position, stretch=1)
        for key, handler in (("Return", self.toggle_play), ("Enter", self.toggle_play),
                             (".", self.step),
                             ("Left", lambda: self.jump(-5.0)),
                             ("Right", lambda: self.jump(5.0)),
                             ("[", lambda: self.change_speed(-1)),
                             ("]", lambda: self.change_speed(1))):
            action = QtWidgets.QAction(self)
            action.setShortcut(QtGui.QKeySequence(key))
            action.setShortcutContext(QtCore.Qt.WindowShortcut)
            action.triggered.connect(handler)
            self.addAction(action)
        return row

    def _what_if_panel(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("What-if (the recorded decisions are never changed)")
        lay = QtWidgets.QVBoxLayout(box)
        self.what_if_label = QtWidgets.QLabel(
            "Change band, target, hold mode or grace in the Settings menu to rescore the "
            "holds with them, beside the recorded result.")
        self.what_if_label.setWordWrap(True)
        lay.addWidget(self.what_if_label)
        self.table = QtWidgets.QTableWidget(0, len(WHAT_IF_COLUMNS))
        self.table.setHorizontalHeaderLabels(WHAT_IF_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.Stretch)
        header.setSectionResizeMode(len(WHAT_IF_COLUMNS) - 1,
                                    QtWidgets.QHeaderView.ResizeToContents)
        lay.addWidget(self.table, stretch=1)
        reset = QtWidgets.QPushButton("back to the recorded settings")
        reset.clicked.connect(self.clear_what_if)
        lay.addWidget(reset)
        box.setVisible(False)
        return box

    # -- locks and what-if -----------------------------------------------------------------

    def locked(self, words: str) -> None:
        """A key that would feed the session was pressed: say why nothing happened."""
        self.locked_presses.append(words)
        text = (f"{words} is locked: this is a replay of a recording, nothing is fed to "
                "a session")
        self.lock_note.setText(text)
        self.lock_note.setVisible(True)
        self.statusBar().showMessage(text, 6000)

    def apply_to_session(self, s: LiveSettings, changes: dict[str, object]) -> None:
        """Never feeds the replayed session: a changed session setting is a what-if,
        rescored beside the recorded result."""
        picked = {k: v for k, v in changes.items() if k in SESSION_SETTINGS}
        if not picked:
            return
        if "band_preset" in picked and picked["band_preset"] != "custom":
            self.what_if.pop("custom_lo_pct", None)
            self.what_if.pop("custom_hi_pct", None)
        if {"custom_lo_pct", "custom_hi_pct"} & set(picked) or picked.get("band_preset") == \
                "custom":
            picked["custom_lo_pct"], picked["custom_hi_pct"] = s.custom_lo_pct, s.custom_hi_pct
            picked["band_preset"] = "custom"
        self.what_if.update(picked)
        self.rescore()

    def apply(self, **changes: object) -> None:
        """Display settings as live; session settings as a what-if (see above)."""
        super().apply(**changes)
        self._show_replayed_settings()

    def _show_replayed_settings(self) -> None:
        """The settings line: those the replayed session has now (the recorded inputs
        change them as it goes), never a what-if's."""
        cfg = self.processor.tracker.config
        band = self.processor.state.band
        text = (f"as recorded: {cfg.mode} hold · grace {cfg.grace_s:g} s · target "
                f"{cfg.target_s:g} s · band " +
                (f"{band.lo_n:.1f}-{band.hi_n:.1f} N" if band is not None else "none yet"))
        if self.points.settings.text() != text:
            self.points.show_settings(text)

    def rescore(self) -> None:
        """Rescore the holds with the what-if and show them beside the recorded ones."""
        if self.info.rescore is None:
            self.what_if_label.setText("what-if is not available for this recording")
            self._show_what_if(True)
            return
        try:
            self.comparison = list(self.info.rescore(dict(self.what_if)))
        except ValueError as exc:
            self.what_if_label.setText(f"what-if refused: {exc}")
            self._show_what_if(True)
            return
        self.what_if_label.setText(
            f"{self.points.settings.text()}\nwhat-if: {settings_words(self.what_if)}, from "
            "the first sample on (the recorded inputs that set it are left out)")
        self.table.setRowCount(2 * len(self.comparison))
        for k, (rec, new) in enumerate(self.comparison):
            index = rec.index if rec is not None else new.index if new is not None else 0
            rows = [result_cells(rec), result_cells(new)]
            for j, (which, cells) in enumerate((("recorded", rows[0]), ("what-if", rows[1]))):
                texts = [f"{index}" if j == 0 else "", which, *cells]
                for col, text in enumerate(texts):
                    item = QtWidgets.QTableWidgetItem(text)
                    if j == 1 and col >= 2 and rows[1][col - 2] != rows[0][col - 2]:
                        item.setBackground(QtGui.QColor("#fff59d"))  # what the what-if changed
                    self.table.setItem(2 * k + j, col, item)
        self._show_what_if(True)

    def _show_what_if(self, shown: bool) -> None:
        """The what-if panel takes the points panel's place (the window still fits 1280 px
        across); its first line repeats the recorded settings the points panel showed."""
        # the one going away goes first: both shown at once would widen the window for good
        size = self.size()
        if shown:
            self.points.setVisible(False)
            self.what_if_box.setVisible(True)
        else:
            self.what_if_box.setVisible(False)
            self.points.setVisible(True)
        # the layouts settle in the event loop: then the window goes back to its size
        QtCore.QTimer.singleShot(0, lambda: self.resize(size.expandedTo(
            self.minimumSizeHint())))

    def clear_what_if(self) -> None:
        """Drop the what-if: the panel folds away."""
        self.what_if.clear()
        self.comparison = []
        self.table.setRowCount(0)
        self._show_what_if(False)

    # -- transport ------------------------------------------------------------------------

    def toggle_play(self) -> None:
        """Enter: play or pause."""
        self.source.pause(not self.source.paused)
        self._show_position()

    def step(self) -> None:
        """'.': pause and play the next 0.1 s of samples."""
        if not self.source.paused:
            self.source.pause(True)
        self.source.step(max(1, round(self.source.nominal_rate_sps * 0.1)))
        self._show_position()

    def jump(self, by_s: float) -> None:
        """Arrow keys: seek 5 s back or ahead."""
        self.seek(self.source.position_t() + by_s)

    def set_speed(self, speed: float) -> None:
        """Play at `speed` times the recorded pace."""
        self.source.speed = speed
        if self.speed_box.currentData() != speed:
            self.speed_box.setCurrentIndex(SPEEDS.index(speed))

    def change_speed(self, by: int) -> None:
        """'[' and ']': one speed slower or faster."""
        k = SPEEDS.index(self.source.speed) if self.source.speed in SPEEDS else 2
        self.set_speed(SPEEDS[min(len(SPEEDS) - 1, max(0, k + by))])

    def seek(self, t_s: float) -> None:
        """Go to recording time `t_s` (back or forth); what is passed on the way makes no
        sound."""
        t = min(max(t_s, self.source.start_t), self.source.end_t)
        self.processor.remove_consumer(self.relay)
        try:
            self.source.seek(t)
        finally:
            self.processor.add_consumer(self.relay)
        self.refresh()

    def _rewound(self) -> None:
        """The player went back to the start: forget what was shown (under its lock)."""
        self.processor.remove_consumer(self.ring)
        self.ring = SampleRing(self._ring_capacity)
        self.processor.add_consumer(self.ring)
        self.events.drain()
        self.trace.clear()
        self.seen_events.clear()
        self.tared, self.last_mark, self.summary = False, None, ""
        self._last_count = -1

    def _show_position(self) -> None:
        t0 = self.source.start_t
        now = self.source.position_t()
        state = "paused" if self.source.paused else f"playing {self.source.speed:g}x"
        if now >= self.source.end_t and not self.source.paused:
            state = "end of the recording"
        text = f"{_clock(now - t0)} / {_clock(self.source.end_t - t0)} · {state}"
        if text != self.position.text():
            self.position.setText(text)
        label = "▶ play (Enter)" if self.source.paused else "❚❚ pause (Enter)"
        if self.play_button.text() != label:
            self.play_button.setText(label)
        if not self.timeline.dragging:
            self.timeline.set_position(now)

    def _apply_scale(self) -> None:
        """The live window's scaling; the trace gives up a quarter of its minimum to the
        banner, transport and timeline, so a replay fits a 1280x800 screen."""
        super()._apply_scale()
        self.trace.setMinimumHeight(int(REPLAY_TRACE_MIN_PX * max(self._scale, 1.0)))

    def _show_sound_state(self) -> None:
        """As live, but the large no-audio warning only once the replay is unmuted: a muted
        replay has no patient to warn about, and the status bar still says SILENT."""
        super()._show_sound_state()
        if self.settings.muted:
            self.sound_warning.setVisible(False)

    def refresh(self) -> None:
        """The live window's refresh, then the position on the transport and timeline."""
        super().refresh()
        if hasattr(self, "timeline"):
            self._show_position()
            self._show_replayed_settings()
            rate = f"{self.source.nominal_rate_sps:g} sps · {self.source.speed:g}x"
            for name, text in (("rate", rate), ("record", "not recorded")):
                label = self.status.fields[name]
                if label.text() != text:
                    label.setText(text)
                    label.setStyleSheet("")


@dataclass
class ReplayOptions:
    """How `tpforce replay` wants the window: where to start, play or not, lifetime, shot."""

    seek_s: float | None = None
    play: bool = False
    speed: float = 1.0
    duration_s: float | None = None
    screenshot: str | None = None
    what_if: dict[str, Any] = field(default_factory=dict)


def run_replay_window(processor: Processor, ring: SampleRing, events: EventQueue,
                      source: ReplaySource, info: ReplayInfo, options: ReplayOptions,
                      settings: LiveSettings | None = None, link: LiveLink | None = None,
                      max_rate_sps: float = 1000.0) -> int:
    """Show the replay window until closed or the duration passes; a screenshot at the end."""
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    window = ReplayWindow(processor, ring, events, source, info, settings=settings, link=link,
                          max_rate_sps=max_rate_sps)
    window.show()
    source.speed = options.speed
    window.set_speed(options.speed)
    if options.seek_s is not None:
        window.seek(options.seek_s)
    if options.what_if:
        window.what_if.update(options.what_if)
        window.rescore()
    if options.play:
        source.pause(False)
    failed: list[str] = []

    def save_screenshot() -> None:
        if options.screenshot and not window.screenshot(options.screenshot):
            failed.append(options.screenshot)

    code = run_until_closed(app, window, duration_s=options.duration_s,
                            on_finish=save_screenshot, label="replay window")
    if failed:
        print(f"tpforce: could not write the screenshot to {failed[0]}", file=sys.stderr)
        return 1
    return code
