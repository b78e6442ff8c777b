"""The real window, offscreen at 1280x800 and 1920x1080, in each phase of a session: every
status message whole, the trace not squeezed in the after-trials, the ring true to the phase."""

from __future__ import annotations

import pytest
from PyQt5 import QtCore, QtGui, QtWidgets
from test_screen import _elided
from test_settings_and_keys import Feed, feed, make_window  # noqa: F401  (fixture)

from tpforce.core.events import HoldCompleted, PhaseChanged, SignalLost, ThresholdMarked
from tpforce.ui.window import LiveWindow

pytestmark = pytest.mark.gui
SIZES = [(1280, 800), (1920, 1080)]


def _settle(qtbot, window: LiveWindow) -> None:
    """Let the layout follow the last change, then draw one frame."""
    qtbot.wait(50)
    window.refresh()
    QtWidgets.QApplication.processEvents()


def _trial(qtbot, window: LiveWindow, fed: Feed, ppt_n: float) -> None:
    """One PPT trial: ramp at 5 N/s from rest to `ppt_n`, mark it, release."""
    marks = sum(isinstance(e, ThresholdMarked) for e in window.seen_events)
    fed.ramp(ppt_n, ppt_n / 5.0, 0.0)
    window.processor.mark_threshold("key")
    qtbot.waitUntil(lambda: sum(isinstance(e, ThresholdMarked)
                                for e in window.seen_events) > marks, timeout=3000)
    fed.ramp(0.0, 1.0)


def _next_phase(qtbot, window: LiveWindow, phase: str) -> None:
    """Move on to `phase` (the last baseline trial moves on to treatment by itself)."""
    if window.processor.state.phase != phase:
        window.processor.next_phase()
    qtbot.waitUntil(lambda: any(isinstance(e, PhaseChanged) and e.phase.value == phase
                                for e in window.seen_events), timeout=3000)


def _to_after_trials(qtbot, window: LiveWindow, fed: Feed) -> None:
    """Tare, three baseline trials, a completed 30 s hold, then one after-trial."""
    fed.ramp(0.0, 0.5, 0.0)
    window.processor.tare()
    qtbot.waitUntil(lambda: window.tared, timeout=3000)
    for ppt in (20.0, 21.0, 19.0):
        _trial(qtbot, window, fed, ppt)
    _next_phase(qtbot, window, "treatment")
    band = window.processor.state.band
    assert band is not None
    fed.ramp(band.centre_n, 1.0)
    fed.ramp(band.centre_n, 31.0)  # 31 s of samples in the band: the hold completes
    qtbot.waitUntil(lambda: any(isinstance(e, HoldCompleted) for e in window.seen_events),
                    timeout=3000)
    fed.ramp(0.0, 1.0)
    qtbot.waitUntil(lambda: window.guide.detail.text().startswith("hold 1 complete"),
                    timeout=3000)
    _next_phase(qtbot, window, "after")
    _trial(qtbot, window, fed, 24.0)
    qtbot.waitUntil(lambda: len(window.processor.session.current.trials_after_n) == 1,
                    timeout=3000)


def _bar_paints(window: LiveWindow) -> bool:
    """Whether the status bar itself draws its current message (its pixels change with it)."""
    bar = window.statusBar()
    message = bar.currentMessage()
    window.timer.stop()  # the fields stay as they are between the two pictures
    with_message = bar.grab().toImage()
    bar.blockSignals(True)
    bar.clearMessage()
    without = bar.grab().toImage()
    bar.showMessage(message, 4000)
    bar.blockSignals(False)
    window.timer.start()
    return with_message != without


def _message_fits(window: LiveWindow, text: str) -> str:
    """'' when `text` shows whole on the window and nothing shows it cut, else what is wrong."""
    problems = []
    bar = window.statusBar()
    if bar.currentMessage() == text and _bar_paints(window):  # left of the permanent fields
        used = sum(w.width() for w in bar.findChildren(QtWidgets.QLabel)
                   if w.isVisibleTo(bar) and w.parent() is bar)
        room = bar.width() - used - 16
        need = QtGui.QFontMetrics(bar.font()).horizontalAdvance(text)
        if need > room:
            problems.append(f"status bar: needs {need} px of {room}")
    holders = [w for w in window.findChildren(QtWidgets.QLabel)
               if w.isVisibleTo(window) and text in w.text().replace("\n", " ")]
    problems += [f"{w.text()!r}: {_elided(w)}" for w in holders if _elided(w)]
    if not holders:
        problems.append("no label shows it")
    return "; ".join(problems)


@pytest.mark.parametrize("size", SIZES)
def test_transient_messages_show_whole(qtbot, feed: Feed, store, player,  # noqa: F811
                                       size) -> None:
    window = make_window(qtbot, feed, store, player)
    window.resize(*size)
    _settle(qtbot, window)
    feed.ramp(20.0, 2.0, 0.0)
    window.processor.tare()  # 20 N on the probe: refused, and the reason is said
    qtbot.waitUntil(lambda: window.guide.notice.text().startswith("not tared"), timeout=3000)
    _settle(qtbot, window)
    reason = window.guide.notice.text()
    assert _message_fits(window, reason) == ""
    feed.timer.stop()  # the stream stops; the source's watchdog would now say so
    window.processor.on_event(SignalLost(feed.t))
    text = "NO SIGNAL: no data from the probe; waiting for it to return"
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == text, timeout=3000)
    _settle(qtbot, window)
    assert _message_fits(window, text) == ""
    qtbot.keyClick(window, QtCore.Qt.Key_R)  # another message: recording is not available
    text = "recording is not available here"
    _settle(qtbot, window)
    assert _message_fits(window, text) == ""
    window.close()


@pytest.mark.parametrize("size", SIZES)
def test_after_trials_keep_the_trace_readable_and_the_ring_true(
        qtbot, feed: Feed, store, player, size) -> None:  # noqa: F811
    window = make_window(qtbot, feed, store, player)
    window.resize(*size)
    _to_after_trials(qtbot, window, feed)
    qtbot.waitUntil(lambda: "after: trial 2 of 3" in window.guide.step.text(), timeout=3000)
    _settle(qtbot, window)
    scale = min(size[0] / 1280, size[1] / 800)
    # The trace keeps room for its curve, and its axis title is whole.
    trace = window.trace
    box = trace.getViewBox()
    assert box.height() >= 150 * scale, f"plot area {box.height():.0f} px high"
    axis = trace.getAxis("left")
    title = axis.label.boundingRect().width()  # the title runs up the axis
    assert title <= axis.geometry().height(), (title, axis.geometry().height())
    # Every label is whole in this phase too.
    for label in window.findChildren(QtWidgets.QLabel):
        if label.isVisibleTo(window) and label.text():
            assert _elided(label) == "", f"{label.text()!r}: {_elided(label)}"
    # The ring says what is true now: after-trials, 1 of 3; the hold is labelled as the last.
    ring = window.ring_widget
    words = " ".join(ring.text.split()) + " " + ring.caption
    assert "after" in words and "1 of 3" in words, words
    assert "done" not in words or "last hold" in words, words
    assert not ring.active
    font = QtGui.QFont()
    font.setPointSizeF(ring.caption_pt)
    inner = (min(ring.width(), ring.height()) - 24) * 0.82
    for text in (ring.middle, ring.caption):
        assert QtGui.QFontMetrics(font).horizontalAdvance(text) <= inner, text
    window.close()


def test_a_stopped_stream_greys_the_trace_and_live_data_make_it_dark_again(
        qtbot, feed: Feed, store, player) -> None:  # noqa: F811
    window = make_window(qtbot, feed, store, player)
    feed.ramp(10.0, 1.0, 0.0)
    qtbot.waitUntil(lambda: not window.stale, timeout=3000)
    dark = window.trace.curve.opts["pen"].color().lightness()
    feed.timer.stop()  # no new samples: NO SIGNAL, and the line goes grey
    qtbot.waitUntil(lambda: window.readout.zone_label.text() == "NO SIGNAL", timeout=3000)
    qtbot.waitUntil(lambda: window.trace.curve.opts["pen"].color().lightness() > dark + 80,
                    timeout=3000)
    feed.timer.start(50)
    qtbot.waitUntil(lambda: window.trace.curve.opts["pen"].color().lightness() == dark,
                    timeout=3000)
    window.close()
