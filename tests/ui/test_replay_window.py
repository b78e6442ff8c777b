"""The replay window on a real recording made by the simulated probe: never taken for a
live patient, inputs locked, seek back deterministic, timeline marks, what-if beside the
recorded result."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PyQt5 import QtCore, QtGui

from tpforce.cli.replay import Replay, open_replay
from tpforce.cli.wiring import open_pipeline
from tpforce.core.consumer import EventQueue
from tpforce.core.events import (
    Event,
    HoldScored,
    HoldStarted,
    Input,
    ThresholdMarked,
)
from tpforce.core.metrics import HoldMetrics
from tpforce.core.processor import Processor
from tpforce.core.replay import Collector
from tpforce.core.ringbuffer import SampleRing
from tpforce.core.tracker import HoldConfig, Tracker
from tpforce.io.recorder import RecordingReader
from tpforce.io.sim.hand import ScriptedIntent, Step, threshold_ramp_script
from tpforce.ui.replay import FRAME_COLOUR, ReplayWindow
from tpforce.ui.settings import LiveSettings
from tpforce.ui.sound import SoundPlayer
from tpforce.ui.timeline import COLOURS
from tpforce.ui.window import LiveWindow

pytestmark = pytest.mark.gui


def record_session(path: Path) -> None:
    """Three PPT trials and a hold on the simulated probe at 10x, the therapist's inputs
    through the processor's commands (what the keys call), recorded from the first sample."""
    steps = threshold_ramp_script(20.0) * 3 + [Step(1.0, 0.0), Step(3.0, 14.0),
                                               Step(12.0, 14.0), Step(1.0, 0.0), Step(3.0, 0.0)]
    events: EventQueue = EventQueue()
    with open_pipeline("sim", sim_options={"speed": 10.0, "intent": ScriptedIntent(steps)},
                       hold=HoldConfig(target_s=5.0), record=path, extras=[events],
                       patient="P017", operator="op3") as pipe:
        proc = pipe.processor
        seen: list[Event] = []

        def wait_for(kind: type, n: int = 1, timeout_s: float = 40.0) -> None:
            import time

            end = time.monotonic() + timeout_s
            while sum(isinstance(e, kind) for e in seen) < n:
                assert time.monotonic() < end, f"no {kind.__name__} from the simulated probe"
                seen.extend(events.drain())
                QtCore.QThread.msleep(20)

        while proc.tracker.samples_seen < 40:
            QtCore.QThread.msleep(20)
        proc.tare()
        wait_for(ThresholdMarked, 3)
        proc.set_phase("treatment")
        proc.set_target_s(4.0)
        wait_for(HoldScored)
        proc.next_point("upper trapezius", "left")


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replay") / "P017-session.tpfrec"
    record_session(path)
    return path


@pytest.fixture
def replay(recording: Path) -> Iterator[Replay]:
    opened = open_replay(str(recording))
    yield opened
    opened.pipeline.close()


def make_window(qtbot, replay: Replay, tmp_path: Path) -> tuple[ReplayWindow, Collector]:
    tap = Collector()
    replay.pipeline.processor.add_consumer(tap)
    player = SoundPlayer(folder=tmp_path / "sounds", enable_audio=False)
    window = ReplayWindow(replay.pipeline.processor, replay.pipeline.ring,
                          replay.pipeline.events, replay.player, replay.info,
                          settings=LiveSettings().with_(**replay.info.recorded_settings),
                          player=player)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)  # window shortcuts need focus
    return window, tap


def test_the_banner_names_the_file_the_date_and_the_pseudonym_and_sound_is_muted(
        qtbot, replay: Replay, recording: Path, tmp_path: Path) -> None:
    window, _ = make_window(qtbot, replay, tmp_path)
    started = RecordingReader(recording).doc["started"]  # e.g. 2026-12-01T22:46:16+0000
    text = window.banner.text()
    assert text.startswith("REPLAY")
    assert recording.name in text and "patient P017" in text and "operator op3" in text
    assert f"recorded {started[:10]} {started[11:16]}" in text
    assert "not a live patient" in text
    assert window.settings.muted and window.player.muted
    assert "REPLAY" in window.windowTitle()


def _edge_colour(window: LiveWindow) -> QtGui.QColor:
    """The colour just inside the central area's top-left corner, as rendered."""
    image = window.grab().toImage()
    central = window.centralWidget()
    assert central is not None
    corner = central.mapTo(window, QtCore.QPoint(3, 3))
    return image.pixelColor(corner)


def test_the_frame_is_a_colour_the_live_window_does_not_have(
        qtbot, replay: Replay, tmp_path: Path) -> None:
    window, _ = make_window(qtbot, replay, tmp_path)
    proc = Processor(replay.player.calibration, Tracker(HoldConfig()))
    ring, events = SampleRing(1000), EventQueue()
    proc.add_consumer(ring)
    proc.add_consumer(events)
    live = LiveWindow(proc, ring, events,
                      player=SoundPlayer(folder=tmp_path / "s2", enable_audio=False))
    qtbot.addWidget(live)
    live.show()
    qtbot.waitExposed(live)
    replay_edge, live_edge = _edge_colour(window), _edge_colour(live)
    assert replay_edge.name() == FRAME_COLOUR
    assert live_edge.name() != FRAME_COLOUR


@pytest.mark.parametrize("key, words", [
    (QtCore.Qt.Key_T, "T (tare)"), (QtCore.Qt.Key_Space, "Space (mark threshold)"),
    (QtCore.Qt.Key_H, "H (start / stop hold)"), (QtCore.Qt.Key_P, "P (next phase)"),
    (QtCore.Qt.Key_N, "N (next point)"), (QtCore.Qt.Key_R, "R (record)"),
])
def test_session_keys_are_locked_and_say_so(qtbot, replay: Replay, tmp_path: Path,
                                            key: int, words: str) -> None:
    window, tap = make_window(qtbot, replay, tmp_path)
    window.seek(replay.holds[0].start_s + 1.0)  # inside the recorded hold
    before = len(tap.events)
    qtbot.keyClick(window, key)
    qtbot.waitUntil(lambda: bool(window.locked_presses), timeout=2000)
    assert window.locked_presses == [words]
    assert f"{words} is locked" in window.lock_note.text()
    assert "replay" in window.lock_note.text() and window.lock_note.isVisible()
    assert not any(isinstance(e, Input) for e in tap.events[before:])
    assert len(tap.events) == before


def _state(window: ReplayWindow) -> tuple[str, str, str, np.ndarray]:
    proc = window.processor
    summary = proc.session.summary(proc.calibration.tip_area_cm2)
    data = window.ring.latest()
    return repr(proc.state), repr(proc.tracker.holds), repr(summary), data


def test_seeking_back_gives_the_state_of_playing_straight_there(
        qtbot, recording: Path, tmp_path: Path) -> None:
    a, b = open_replay(str(recording)), open_replay(str(recording))
    try:
        w_a, tap_a = make_window(qtbot, a, tmp_path)
        w_b, tap_b = make_window(qtbot, b, tmp_path)
        target = a.holds[0].start_s + 2.0
        w_a.seek(a.player.end_t)  # to the end: every decision made
        mark = len(tap_a.events)
        w_a.seek(target)  # and back
        end = int(np.searchsorted(b.player.samples["t_s"], target, side="right"))
        while b.player.pos + 7 <= end:  # played forward in small steps, never past it
            b.player.step(7)
        b.player.seek(target)
        assert b.player.pos == end == a.player.pos
        sa, sb = _state(w_a), _state(w_b)
        assert sa[:3] == sb[:3]
        assert np.array_equal(sa[3]["t_s"], sb[3]["t_s"])
        assert np.array_equal(sa[3]["force_n"], sb[3]["force_n"])
        assert w_a.processor.state.hold_active  # the state inside the hold, not the end's
        # What reached consumers after going back is what the straight play delivered.
        assert [repr(e) for e in tap_a.events[mark:]] == [repr(e) for e in tap_b.events]
        w_a.refresh()
        assert "paused" in w_a.position.text()
    finally:
        a.pipeline.close()
        b.pipeline.close()


def test_the_timeline_marks_the_recorded_holds_and_trials_where_they_were(
        qtbot, replay: Replay, recording: Path, tmp_path: Path) -> None:
    window, _ = make_window(qtbot, replay, tmp_path)
    recorded = [e for _, e in RecordingReader(recording).events()]
    starts = [e.t_s for e in recorded if isinstance(e, HoldStarted)]
    trials = [e.t_s for e in recorded if isinstance(e, ThresholdMarked)]
    holds = [m for m in window.timeline.marks if m.kind == "hold"]
    assert [m.t_s for m in holds] == starts and len(starts) >= 1
    assert [h.end_s for h in holds] == [h.end_s for h in replay.holds]
    assert [m.t_s for m in window.timeline.marks if m.kind == "trial"] == trials
    image = window.timeline.grab().toImage()
    hold = holds[0]
    assert hold.end_s is not None
    x = int(window.timeline.x_of(0.5 * (hold.t_s + hold.end_s)))
    y = window.timeline.height() // 2 - 3
    assert image.pixelColor(x, y).name() == COLOURS["hold"]
    # The position line follows a seek, and a click seeks.
    window.seek(hold.t_s)
    assert window.timeline.position_s == pytest.approx(replay.player.position_t())
    click_x = int(window.timeline.x_of(trials[1]))
    qtbot.mouseClick(window.timeline, QtCore.Qt.LeftButton,
                     pos=QtCore.QPoint(click_x, y))
    assert abs(replay.player.position_t() - window.timeline.t_of(click_x)) < 0.05


def _table(window: ReplayWindow) -> list[list[str]]:
    t = window.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def _cells(m: HoldMetrics) -> list[str]:
    return [f"{m.in_band_s:.1f}", f"{m.in_band_pct:.0f} %", "yes" if m.completed else "no"]


def test_a_what_if_band_rescores_the_holds_beside_the_recorded_ones(
        qtbot, replay: Replay, recording: Path, tmp_path: Path) -> None:
    window, tap = make_window(qtbot, replay, tmp_path)
    digest = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in recording.iterdir()}
    assert not window.what_if_box.isVisible()
    preset = window.menus["preset"]
    hou = next(a for a in preset.actions() if a.data() == "hou_p1")
    hou.trigger()  # the Settings menu, as the therapist picks it: Hou P1, 90-100 % PPT
    assert window.what_if_box.isVisible()
    rows = _table(window)
    recorded = replay.holds
    assert rows[0][:2] == ["1", "recorded"] and rows[1][1] == "what-if"
    assert rows[0][2:] == _cells(recorded[0])
    assert rows[1][2:] != rows[0][2:]  # 90-100 % of the PPT: a hold at 14 N is below it
    assert "Hou P1" in window.what_if_label.text()
    assert not any(isinstance(e, Input) for e in tap.events)  # nothing fed the replay
    assert {f.name: hashlib.sha256(f.read_bytes()).hexdigest()
            for f in recording.iterdir()} == digest  # the recording is never changed
    window.apply(band_preset="custom", custom_lo_pct=60.0, custom_hi_pct=80.0)
    rows = _table(window)
    assert "custom 60-80 % PPT" in window.what_if_label.text()
    assert rows[0][2:] == _cells(recorded[0])
    window.clear_what_if()
    assert not window.what_if_box.isVisible()


def test_the_transport_keys_play_pause_step_and_change_speed(qtbot, replay: Replay,
                                                             tmp_path: Path) -> None:
    window, tap = make_window(qtbot, replay, tmp_path)
    player = replay.player
    assert player.paused and player.pos == 0
    qtbot.keyClick(window, QtCore.Qt.Key_Period)  # step: 0.1 s of samples at 80 SPS
    assert player.pos == 8 and player.paused
    qtbot.keyClick(window, QtCore.Qt.Key_BracketRight)
    assert player.speed == 2.0 and window.speed_box.currentText() == "2x"
    qtbot.keyClick(window, QtCore.Qt.Key_Return)
    assert not player.paused
    qtbot.waitUntil(lambda: player.pos > 8, timeout=5000)  # it plays
    qtbot.keyClick(window, QtCore.Qt.Key_Return)
    assert player.paused
    at = player.pos
    qtbot.keyClick(window, QtCore.Qt.Key_Right)  # 5 s ahead
    assert player.position_t() >= player.samples["t_s"][at - 1] + 4.9
    qtbot.keyClick(window, QtCore.Qt.Key_Left)  # and back (to within a sample: times are
    assert abs(player.pos - at) <= 1  # the device's, not multiples of 5 s)
    window.refresh()
    assert window.position.text().endswith("paused")
    assert tap.samples > 0


def test_sound_follows_the_replay_and_what_a_seek_passes_makes_none(
        qtbot, replay: Replay, recording: Path, tmp_path: Path) -> None:
    from PyQt5 import QtWidgets

    from tpforce.core.events import HoldCompleted
    from tpforce.ui.tones import Cue

    window, _ = make_window(qtbot, replay, tmp_path)
    done = next(e for _, e in RecordingReader(recording).events()
                if isinstance(e, HoldCompleted))

    def chimes() -> int:
        return sum(c.cue is Cue.HOLD_COMPLETE for c in window.player.log)

    window.seek(done.t_s + 0.5)  # past the hold's completion at once
    QtWidgets.QApplication.processEvents()
    assert chimes() == 0
    window.seek(done.t_s - 0.5)  # back, and play through it
    window.set_speed(8.0)
    window.toggle_play()
    qtbot.waitUntil(lambda: chimes() == 1, timeout=5000)
    assert window.player.muted  # requested, logged, not heard: muted by default
