"""The therapist's screen: honest sound, legible text at two sizes, the guide's words in each
phase, the settings in the window, and `live` taking every gauge option `stream` takes."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pytest
from PyQt5 import QtCore, QtGui, QtWidgets
from test_settings_and_keys import Feed, feed, make_window  # noqa: F401  (fixture)

from tpforce.cli import build_parser
from tpforce.core.events import Phase, ThresholdMarked, Zone
from tpforce.core.metrics import HoldMetrics
from tpforce.core.session import Mark, Point
from tpforce.core.tracker import HoldConfig, TrackerState
from tpforce.core.units import Unit
from tpforce.ui.actions import parse_band
from tpforce.ui.guide import guide_view, hold_summary
from tpforce.ui.readout import HoldRing
from tpforce.ui.sound import SILENT, SoundPlayer
from tpforce.ui.window import MIN_PT, PAUSE_NOTES, SILENT_WARNING

pytestmark = pytest.mark.gui


def test_real_backend_without_a_device_says_silent_and_warns(qtbot, feed: Feed,  # noqa: F811
                                                             store, tmp_path: Path,
                                                             caplog) -> None:
    # The real Qt Multimedia backend: this machine has no audio output device.
    with caplog.at_level(logging.INFO, logger="tpforce.ui.sound"):
        real = SoundPlayer(folder=tmp_path / "sounds", enable_audio=True)
    assert real.silent_reason and real.state_text == SILENT and not real.audible
    assert any("SILENT" in r.getMessage() and real.silent_reason in r.getMessage()
               for r in caplog.records)  # -v (and any log) says why
    window = make_window(qtbot, feed, store, real)
    qtbot.waitUntil(lambda: window.status.fields["sound"].text() == SILENT, timeout=2000)
    assert window.sound_warning.isVisibleTo(window)
    assert window.sound_warning.text() == SILENT_WARNING
    window.toggle_mute()  # muting cannot make a silent machine sound: it still says SILENT
    window.refresh()
    assert window.status.fields["sound"].text() == SILENT
    assert window.sound_warning.isVisibleTo(window)
    window.close()


def _elided(widget: QtWidgets.QLabel) -> str:
    """Why a visible label's text does not fit, or ''."""
    text = widget.text()
    if not text or widget.textFormat() == QtCore.Qt.RichText or "<" in text:
        doc = QtGui.QTextDocument()
        doc.setDefaultFont(widget.font())
        doc.setDocumentMargin(0)
        doc.setHtml(text)
        doc.setTextWidth(widget.contentsRect().width())
        if widget.wordWrap():
            return "" if doc.size().height() <= widget.contentsRect().height() + 2 else "tall"
        return "" if doc.idealWidth() <= widget.contentsRect().width() + 2 else "wide"
    metrics = QtGui.QFontMetrics(widget.font())
    rect = widget.contentsRect()
    if widget.wordWrap():
        need = metrics.boundingRect(QtCore.QRect(0, 0, rect.width(), 100000),
                                    int(QtCore.Qt.TextWordWrap), text).height()
        return "" if need <= rect.height() + 2 else f"needs {need} px of {rect.height()}"
    width = max(metrics.horizontalAdvance(line) for line in text.split("\n"))
    return "" if width <= rect.width() + 2 else f"needs {width} px of {rect.width()}"


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_every_label_is_legible_and_nothing_is_elided(qtbot, feed: Feed,  # noqa: F811
                                                      store, player, size) -> None:
    window = make_window(qtbot, feed, store, player)
    window.resize(*size)
    feed.ramp(5.0, 2.0)
    feed.ramp(20.0, 3.0)
    window.processor.mark_threshold("key")  # a trial: the guide lists it
    qtbot.waitUntil(lambda: "last trial" in window.guide.trials.text(), timeout=3000)
    qtbot.wait(50)  # one more frame after the layout settles
    window.refresh()
    QtWidgets.QApplication.processEvents()
    scale = min(size[0] / 1280, size[1] / 800)
    labels = [w for w in window.findChildren(QtWidgets.QLabel)
              if w.isVisibleTo(window) and w.text()]
    assert len(labels) >= 10
    for label in labels:
        assert label.font().pointSizeF() >= MIN_PT * scale - 0.01, label.text()
        assert _elided(label) == "", f"{label.text()!r}: {_elided(label)}"
    # The ring's caption fits inside the ring at >= 14 pt.
    ring = window.ring_widget
    font = QtGui.QFont()
    font.setPointSizeF(ring.caption_pt)
    assert ring.caption_pt >= MIN_PT
    side = min(ring.width(), ring.height()) - 24
    for text in (*PAUSE_NOTES.values(), "in band: counting", "of 90 s in band", "✓ done"):
        assert QtGui.QFontMetrics(font).horizontalAdvance(text) <= side * 0.82, text
    # The trace: a thick line, dark axis text at >= 14 pt.
    trace = window.trace  # 2 px: two 1-px strokes one pixel apart, a NaN between them
    _, y = trace.curve.getData()
    half = (len(y) - 1) // 2
    assert len(y) == 2 * half + 1 and np.isnan(y[half]) and half >= 2
    pixel = trace.viewRange()[1][1] / trace.getViewBox().height()
    assert trace.line_px == 2
    assert y[half + 1:] - y[:half] == pytest.approx(np.full(half, pixel), rel=0.05)
    axis = window.trace.getAxis("left")
    assert axis.style["tickFont"].pointSizeF() >= MIN_PT * scale - 0.01
    assert axis.textPen().color().lightness() < 60
    # The table shows the whole site name and side, not "levator …".
    window.processor.next_point("levator scapulae", "L")
    window.refresh()
    cell = window.points.table.item(1, 0).text()
    assert cell.replace("\n", " ") == "levator scapulae L"
    window.close()


def _state(**kw: object) -> TrackerState:
    return TrackerState(**kw)  # type: ignore[arg-type]


def test_guide_words_for_each_phase() -> None:
    cfg = HoldConfig()
    point = Point(1, "upper trapezius")
    view = guide_view(_state(zone=Zone.NO_CONTACT), point, cfg, False, None, "", Unit.N,
                      1.0, False)
    assert (view.phase, view.step) == ("BASELINE TRIALS", "tare with the probe at rest (T)")
    live = _state(zone=Zone.BELOW, rate_n_per_s=7.5, trials_n=(18.8,))
    point.marks.append(Mark(1.0, 18.8, "baseline"))
    mark = ThresholdMarked(1.0, 18.8, 1, 5.1, True)
    view = guide_view(live, point, cfg, True, mark, "", Unit.N, 1.0, False)
    assert view.step == "trial 2 of 3: ramp at 5 N/s, Space at the threshold"
    assert view.detail.startswith("ramp 7.5 N/s · 75 kPa/s: too fast · target 5 ± 1 N/s")
    assert view.trials.startswith("last trial: peak 18.8 N at 5.1 N/s, ramp on target")
    treat = _state(phase="treatment", band_status="ok", hold_active=True, zone=Zone.ABOVE,
                   band=object())
    view = guide_view(treat, point, cfg, True, mark, "", Unit.N, 1.0, False)
    assert (view.phase, view.step) == ("TREATMENT", "treat: hold in the band")
    point.marks += [Mark(2.0, 19.0, "baseline"), Mark(9.0, 30.0, "after"),
                    Mark(10.0, 31.0, "after")]
    after = _state(phase="after", zone=Zone.NO_CONTACT, trials_n=(30.0, 31.0))
    view = guide_view(after, point, cfg, True, None, "", Unit.N, 1.0, False)
    assert view.phase == "AFTER TRIALS"
    assert view.step.startswith("measure after: trial 3 of 3")
    assert "+61 %" in view.trials and "+116 kPa" in view.trials
    assert view.trials.endswith("rise beyond the detectable change")


def test_hold_summary_line() -> None:
    m = HoldMetrics(index=2, start_s=0.0, end_s=40.0, ended_by=None, manual=False,  # type: ignore[arg-type]
                    completed=True, completed_at_s=35.0, target_s=30.0, in_band_s=30.2,
                    in_band_pct=81.4, contact_to_band_s=1.0, above_count=2, above_s=3.0,
                    below_count=1, below_s=1.0, over_count=0, over_s=0.0, unknown_s=0.0,
                    pressure_steps=0, samples=100, mean_n=15.0, sd_n=0.6, cv=0.04,
                    rmse_n=0.5, max_n=17.0, drift_n_per_s=0.0)
    assert hold_summary(m) == ("hold 2 complete: 30 of 30 s in band · 81 % in band · "
                               "CV 4.0 % · 2 above, 1 below")


def test_ring_says_when_it_is_paused(qapp: object) -> None:
    ring = HoldRing()
    ring.set_hold(12.0, 30.0, True, False, PAUSE_NOTES[Zone.ABOVE])
    assert ring.caption == "paused: above"
    ring.set_hold(12.5, 30.0, True, False, "")
    assert ring.caption == "in band: counting"


def test_delete_last_trial_and_tare_anyway_keys(qtbot, feed: Feed, store,  # noqa: F811
                                                player) -> None:
    window = make_window(qtbot, feed, store, player)
    feed.ramp(5.0, 2.0)
    feed.ramp(20.0, 3.0)
    qtbot.keyClick(window, QtCore.Qt.Key_Space)
    qtbot.waitUntil(lambda: len(window.processor.session.current.trials_before_n) == 1,
                    timeout=2000)
    qtbot.keyClick(window, QtCore.Qt.Key_Backspace)
    qtbot.waitUntil(lambda: window.processor.session.current.trials_before_n == [],
                    timeout=2000)
    qtbot.keyClick(window, QtCore.Qt.Key_Backspace)  # nothing left: the guide says so
    assert window.guide.notice.text() == "nothing to delete: this point has no trial"
    qtbot.keyClick(window, QtCore.Qt.Key_T)  # 20 N on the probe: refused, with the reason
    qtbot.waitUntil(lambda: window.guide.notice.text().startswith("not tared"), timeout=2000)
    qtbot.keyClick(window, QtCore.Qt.Key_T, QtCore.Qt.ShiftModifier)
    qtbot.waitUntil(lambda: window.tared, timeout=2000)
    window.close()


def test_settings_in_the_window_reach_the_core(qtbot, feed: Feed, store,  # noqa: F811
                                               player) -> None:
    window = make_window(qtbot, feed, store, player)
    window.apply(hold_mode="continuous", grace_s=2.0)
    tracker = window.processor.tracker
    assert (tracker.config.mode, tracker.config.grace_s) == ("continuous", 2.0)
    assert "continuous hold · grace 2 s" in window.points.settings.text()
    window.apply(band_preset="custom", custom_lo_pct=60.0, custom_hi_pct=70.0)
    feed.ramp(5.0, 2.0)
    feed.ramp(20.0, 3.0)
    window.processor.mark_threshold("key")
    qtbot.waitUntil(lambda: window.processor.state.band is not None, timeout=2000)
    band = window.processor.state.band
    assert band.lo_n == pytest.approx(0.6 * band.ppt_n) and band.hi_n == pytest.approx(
        0.7 * band.ppt_n)
    assert "band custom 60-70 % PPT" in window.points.settings.text()
    assert [a.text() for a in window.menus["mode"].actions() if a.isChecked()] == [
        "continuous"]
    window.close()
    assert parse_band("70-85") == (70.0, 85.0)
    with pytest.raises(ValueError, match="like 70-85"):
        parse_band("seventy")


def test_live_takes_every_gauge_option_stream_takes() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    live, stream = sub.choices["live"], sub.choices["stream"]

    def options(p: object) -> set[str]:
        return {o for a in p._actions for o in a.option_strings}  # type: ignore[attr-defined]

    gauge = {"--driver", "--baud", "--pattern", "--unit", "--invert", "--rate",
             "--no-reconnect", "--port"}
    assert gauge <= options(stream) and gauge <= options(live)
    args = parser.parse_args(["live", "--port", "loop://", "--driver", "ascii", "--unit",
                              "kgf", "--invert", "--baud", "9600", "--pattern", "(?P<value>.*)"])
    assert (args.unit, args.invert, args.baud) == ("kgf", True, 9600)


def test_phase_title_covers_every_phase() -> None:
    from tpforce.ui.guide import PHASE_TITLES

    assert set(PHASE_TITLES) == set(Phase)
