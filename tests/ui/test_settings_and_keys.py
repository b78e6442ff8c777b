"""Settings kept between runs, units, and every key a foot pedal can type, on a fed processor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PyQt5 import QtCore

from tpforce.core.calibration import Calibration
from tpforce.core.consumer import EventQueue
from tpforce.core.events import PointChanged, ThresholdMarked
from tpforce.core.processor import Processor
from tpforce.core.ringbuffer import SampleRing
from tpforce.core.samples import empty_batch
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.ui import settings as settings_io
from tpforce.ui.settings import LiveSettings, open_store
from tpforce.ui.status import LiveLink
from tpforce.ui.window import LiveWindow

pytestmark = pytest.mark.gui
RATE = 100


class Feed:
    """A processor fed by hand (raw counts are millinewtons), kept live by a Qt timer."""

    def __init__(self) -> None:
        self.timer = QtCore.QTimer()
        self.timer.timeout.connect(lambda: self.ramp(self.last, 0.05))
        self.last = 0.0
        self.ring = SampleRing(RATE * 60)
        self.events = EventQueue()
        self.processor = Processor(Calibration(0.0, 0.001), Tracker(HoldConfig()),
                                   [self.ring, self.events])
        self.t = 0.0

    def ramp(self, to_n: float, seconds: float, from_n: float | None = None) -> None:
        n = int(seconds * RATE)
        start = from_n if from_n is not None else self.last
        batch = empty_batch(n)
        batch["t_s"] = self.t + np.arange(1, n + 1) / RATE
        batch["seq"] = np.arange(n)
        batch["raw"] = np.rint(np.linspace(start, to_n, n) * 1000).astype(np.int32)
        self.processor.on_batch(batch)
        self.t, self.last = float(batch["t_s"][-1]), to_n


@pytest.fixture
def feed(qapp: object) -> Iterator[Feed]:
    feed = Feed()
    feed.timer.start(50)  # a live stream: 5 samples every 50 ms at the last force
    yield feed
    feed.timer.stop()


def make_window(qtbot, feed: Feed, store, player, **kw) -> LiveWindow:
    window = LiveWindow(feed.processor, feed.ring, feed.events, store=store, player=player,
                        **kw)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)  # window shortcuts need focus
    return window


def test_settings_round_trip_and_bad_values_fall_back(tmp_path: Path) -> None:
    store = open_store(tmp_path / "a.ini")
    chosen = LiveSettings(unit="kPa", tip_area_cm2=0.5, band_preset="hou_p1", target_s=90.0,
                          pitch=True, muted=True, alarm_sound=False)
    settings_io.save(store, chosen)
    back = settings_io.load(open_store(tmp_path / "a.ini"))
    # Every session starts with the alarm on and sound up; the rest is kept.
    assert back == chosen.with_(muted=False, alarm_sound=True)
    store.setValue("live/unit", "furlongs")
    store.setValue("live/target_s", "-3")
    store.setValue("live/band_preset", "nonsense")
    store.setValue("live/window_s", "inf")
    store.setValue("live/tip_area_cm2", "1e7")
    back = settings_io.load(store)
    assert (back.unit, back.target_s, back.band_preset, back.window_s, back.tip_area_cm2) == \
        ("N", 30.0, "below_threshold", 30.0, 1.0)


def test_choices_made_in_the_window_are_there_next_run(qtbot, feed, store, player,
                                                       tmp_path: Path) -> None:
    window = make_window(qtbot, feed, store, player)
    window.apply(unit="lbf", target_s=60.0, band_preset="hou_p1")
    qtbot.keyClick(window, QtCore.Qt.Key_M)
    window.close()
    again = settings_io.load(open_store(Path(store.fileName())))
    assert (again.unit, again.target_s, again.band_preset, again.muted) == \
        ("lbf", 60.0, "hou_p1", False)  # mute lasts the session only
    assert feed.processor.state.target_s == 60.0


def test_units_key_cycles_and_kpa_uses_the_tip_area(qtbot, feed, store, player) -> None:
    window = make_window(qtbot, feed, store, player)
    feed.ramp(10.0, 1.0, 0.0)
    qtbot.waitUntil(lambda: window.readout.number.text() == "10.0", timeout=2000)
    qtbot.keyClick(window, QtCore.Qt.Key_U)  # N -> kgf
    qtbot.waitUntil(lambda: window.readout.number.text() == "1.02", timeout=2000)
    window.apply(unit="kPa", tip_area_cm2=0.5)
    qtbot.waitUntil(lambda: window.readout.number.text() == "200", timeout=2000)
    assert "0.5 cm²" in window.readout.unit.text()
    assert window.trace.getAxis("left").labelUnits == "kPa"


def test_space_marks_n_moves_on_r_records_f11_goes_full_screen(qtbot, feed, store,
                                                               player) -> None:
    calls: list[bool] = []

    def record(on: bool) -> str:
        calls.append(on)
        return "session-1.tpf"

    window = make_window(qtbot, feed, store, player, link=LiveLink("test rig", record=record))
    feed.ramp(20.0, 4.0, 0.0)  # 5 N/s
    qtbot.keyClick(window, QtCore.Qt.Key_Space)
    qtbot.waitUntil(lambda: any(isinstance(e, ThresholdMarked) for e in window.seen_events),
                    timeout=2000)
    qtbot.waitUntil(lambda: "PPT before 19.9 N" in window.points.ppt.text(), timeout=2000)


    window.points.sites.setCurrentRow(0)
    window.points.sides.button(0).setChecked(True)
    qtbot.keyClick(window, QtCore.Qt.Key_N)
    qtbot.waitUntil(lambda: any(isinstance(e, PointChanged) for e in window.seen_events),
                    timeout=2000)
    qtbot.waitUntil(lambda: window.points.current.text() == "2. upper trapezius L",
                    timeout=2000)
    assert window.points.table.rowCount() == 2

    qtbot.keyClick(window, QtCore.Qt.Key_R)
    qtbot.waitUntil(lambda: "REC session-1.tpf" in window.status.fields["record"].text(),
                    timeout=2000)
    qtbot.keyClick(window, QtCore.Qt.Key_R)
    qtbot.waitUntil(lambda: window.status.fields["record"].text() == "not recording",
                    timeout=2000)
    assert calls == [True, False]

    qtbot.keyClick(window, QtCore.Qt.Key_F11)
    qtbot.waitUntil(window.isFullScreen, timeout=2000)
    qtbot.keyClick(window, QtCore.Qt.Key_F11)
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=2000)


def test_keys_reach_the_window_after_clicking_the_point_list(qtbot, feed, store,
                                                             player) -> None:
    window = make_window(qtbot, feed, store, player)
    feed.ramp(20.0, 4.0, 0.0)
    qtbot.mouseClick(window.points.sites.viewport(), QtCore.Qt.LeftButton)
    qtbot.keyClick(window.focusWidget() or window, QtCore.Qt.Key_Space)
    qtbot.waitUntil(lambda: any(isinstance(e, ThresholdMarked) for e in window.seen_events),
                    timeout=2000)


def test_recording_unavailable_says_so(qtbot, feed, store, player) -> None:
    window = make_window(qtbot, feed, store, player)
    qtbot.keyClick(window, QtCore.Qt.Key_R)
    assert "not available" in window.statusBar().currentMessage()
    assert window.status.recording is None


def test_a_held_key_acts_once(qtbot, feed, store, player) -> None:
    """A foot pedal held down makes the system repeat the key: one mark, not six."""
    from PyQt5 import QtGui, QtWidgets

    window = make_window(qtbot, feed, store, player)
    feed.ramp(20.0, 4.0, 0.0)
    target = window.windowHandle()

    def key(kind: QtCore.QEvent.Type, repeat: bool) -> None:
        event = QtGui.QKeyEvent(kind, QtCore.Qt.Key_Space, QtCore.Qt.NoModifier, " ", repeat)
        QtWidgets.QApplication.sendEvent(target, event)

    key(QtCore.QEvent.KeyPress, False)
    for _ in range(5):  # what the system sends while the key stays down
        key(QtCore.QEvent.KeyRelease, True)
        key(QtCore.QEvent.KeyPress, True)
    key(QtCore.QEvent.KeyRelease, False)
    assert len(feed.processor.state.trials_n) == 1


def test_a_slow_gauge_is_not_called_lost_between_readings(qtbot, feed, store, player) -> None:
    """With a 1 s reading interval, NO SIGNAL waits for the link's own stale time."""
    import time

    window = make_window(qtbot, feed, store, player, link=LiveLink("gauge", stale_s=1.0))
    feed.ramp(5.0, 0.5, 0.0)
    qtbot.waitUntil(lambda: not window.stale, timeout=2000)
    feed.timer.stop()  # readings stop arriving
    qtbot.waitUntil(lambda: window.stale, timeout=5000)
    # never sooner than the gauge's own interval after the last reading the window saw
    assert time.monotonic() - window._last_new_s > 1.0
