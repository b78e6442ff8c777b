"""The therapist's whole flow on the simulated probe, driven by keys like a foot pedal types.

Tare at rest, ramp at 5 N/s, Space at the peak marks the PPT, the force settles into the
band and the hold completes, a push over the threshold sounds the alarm, the probe goes
quiet (NO SIGNAL) and comes back by itself. Each state is saved as a screenshot.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PyQt5 import QtCore, QtGui

from tpforce.core.events import (
    HoldCompleted,
    HoldEnd,
    HoldEnded,
    HoldStarted,
    OverThreshold,
    Tared,
    ThresholdMarked,
    Zone,
)
from tpforce.io.sim.hand import Step
from tpforce.ui.readout import NO_SIGNAL, ZONE_NAMES
from tpforce.ui.settings import LiveSettings
from tpforce.ui.tones import Cue
from tpforce.ui.window import LiveWindow

pytestmark = pytest.mark.gui

PEAK_N = 20.0
SCRIPT = [
    Step(1.5, 0.0),  # at rest: tare here
    Step(PEAK_N / 5.0, PEAK_N),  # threshold ramp at 5 N/s
    Step(1.0, PEAK_N - 0.5),  # the patient says "now": the force eases off the peak
    Step(0.6, 0.0),  # the trial ends with a release; P moves on to treatment
    Step(2.0, 0.0),
    Step(3.3, 16.5),  # into the band (75-90 % of 20 N: 15-18 N)
    Step(8.0, 16.5),  # the hold
    Step(0.8, 23.0),  # too hard: over the threshold
    Step(2.0, 23.0),
    Step(0.8, 0.0),  # release
    Step(60.0, 0.0),
]


def events_of(window: LiveWindow, kind: type) -> list:
    """The events of one type the window has shown so far."""
    return [e for e in window.seen_events if isinstance(e, kind)]


def plain(label: object) -> str:
    """A label's text as a reader sees it (rich text without its markup)."""
    doc = QtGui.QTextDocument()
    doc.setHtml(label.text())  # type: ignore[attr-defined]
    return doc.toPlainText().replace("\xa0", " ")


def snap(window: LiveWindow, folder: Path, name: str) -> None:
    """Save a screenshot of the current state."""
    assert window.screenshot(str(folder / f"{name}.png")), name


def test_tare_mark_hold_alarm_unplug_reconnect(qtbot, rig_factory, store, player,
                                               output_dir: Path) -> None:
    rig = rig_factory(SCRIPT, speed=2.0, target_s=3.0)
    processor, ring = rig.session.processor, rig.session.ring
    window = LiveWindow(processor, ring, rig.session.events, LiveSettings(target_s=3.0),
                        store=store, player=player, title="tpforce test")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: not window.stale, timeout=5000)

    # 1. Tare with the probe at rest: the guide says so, then asks for trial 1.
    assert window.readout.zone_label.text() == ZONE_NAMES[Zone.NO_CONTACT]
    assert window.guide.phase.text() == "BASELINE TRIALS"
    assert window.guide.step.text() == "tare with the probe at rest (T)"
    assert not window.points.picker.isHidden()
    qtbot.keyClick(window, QtCore.Qt.Key_T)
    qtbot.waitUntil(lambda: bool(events_of(window, Tared)), timeout=2000)
    qtbot.waitUntil(lambda: window.guide.step.text().startswith("trial 1 of 3: ramp at 5 N/s"),
                    timeout=2000)
    snap(window, output_dir, "01-tared")
    # The ramp guide shows the live rate in N/s and kPa/s against 5 +- 1 N/s.
    qtbot.waitUntil(lambda: window.guide.detail.text().startswith("ramp ")
                    and "on target" in window.guide.detail.text(), timeout=8000)
    assert "kPa/s" in window.guide.detail.text()
    assert "target 5 ± 1 N/s" in window.guide.detail.text()

    # 2. Ramp to the peak; Space once the force has begun to ease off it.
    def past_peak() -> bool:
        data = ring.latest(400)
        if len(data) == 0 or data["force_n"].max() < PEAK_N - 0.3:
            return False
        t_peak = data["t_s"][data["force_n"].argmax()]
        return data["t_s"][-1] >= t_peak + 0.15

    qtbot.waitUntil(past_peak, timeout=10000)
    qtbot.keyClick(window, QtCore.Qt.Key_Space)
    qtbot.waitUntil(lambda: bool(events_of(window, ThresholdMarked)), timeout=2000)
    mark = events_of(window, ThresholdMarked)[0]
    assert mark.ppt_n == pytest.approx(PEAK_N, abs=0.5)
    band = processor.state.band
    assert band is not None and band.lo_n == pytest.approx(0.75 * mark.ppt_n)
    qtbot.waitUntil(lambda: window.trace.band.isVisible(), timeout=1000)
    assert "PPT before" in window.points.ppt.text()
    qtbot.waitUntil(lambda: window.guide.step.text().startswith("trial 2 of 3"), timeout=2000)
    assert window.guide.trials.text().startswith(f"last trial: peak {mark.ppt_n:.1f} N")
    assert f"1) {mark.ppt_n:.1f} N" in window.guide.trials.text()
    snap(window, output_dir, "02-threshold-marked")
    qtbot.keyClick(window, QtCore.Qt.Key_P)  # one trial here: P moves on to treatment
    qtbot.waitUntil(lambda: processor.state.phase == "treatment", timeout=2000)
    qtbot.waitUntil(lambda: window.guide.phase.text() == "TREATMENT", timeout=2000)
    assert window.points.picker.isHidden()  # the picker folds away during treatment
    lo, hi = f"{band.lo_n:.1f} N", f"{band.hi_n:.1f} N"
    assert f"band {lo} – {hi}" in plain(window.legend)
    assert f"PPT {band.over_n:.1f} N" in plain(window.legend)

    # 3. Into the band: a gentle cue, green, and a hold that starts by itself.
    qtbot.waitUntil(lambda: window.readout.zone == Zone.IN_BAND, timeout=5000)
    qtbot.waitUntil(lambda: Cue.BAND_ENTER in [c.cue for c in player.log], timeout=2000)
    qtbot.waitUntil(lambda: bool(events_of(window, HoldStarted)), timeout=8000)
    qtbot.waitUntil(lambda: window.readout.zone == Zone.IN_BAND, timeout=5000)
    assert window.readout.zone_label.text() == ZONE_NAMES[Zone.IN_BAND]
    qtbot.waitUntil(lambda: window.guide.step.text() == "treat: hold in the band",
                    timeout=2000)
    # T under load is refused, and the guide says why for a few seconds.
    qtbot.keyClick(window, QtCore.Qt.Key_T)
    qtbot.waitUntil(lambda: window.guide.notice.isVisibleTo(window), timeout=2000)
    assert window.guide.notice.text().startswith("not tared:")
    # One H stops the hold that started by itself; one H starts a new one by hand.
    qtbot.keyClick(window, QtCore.Qt.Key_H)
    qtbot.waitUntil(lambda: any(e.reason is HoldEnd.STOPPED
                                for e in events_of(window, HoldEnded)), timeout=2000)
    assert not processor.state.hold_active
    qtbot.waitUntil(lambda: window.guide.detail.text().startswith("hold 1 not complete: "),
                    timeout=2000)
    assert "% in band · CV " in window.guide.detail.text()
    qtbot.keyClick(window, QtCore.Qt.Key_H)
    qtbot.waitUntil(lambda: len(events_of(window, HoldStarted)) == 2, timeout=2000)
    assert processor.state.hold_manual
    qtbot.waitUntil(lambda: window.guide.detail.text() == "", timeout=2000)
    qtbot.waitUntil(lambda: window.ring_widget.active and window.ring_widget.in_band_s > 1.0,
                    timeout=5000)
    snap(window, output_dir, "03-holding-in-band")

    # 4. Hold complete: the chime, and the ring full.
    with qtbot.waitSignal(player.played, timeout=8000,
                          check_params_cb=lambda c: c.cue is Cue.HOLD_COMPLETE):
        pass
    qtbot.waitUntil(lambda: window.ring_widget.completed, timeout=2000)
    assert window.ring_widget.fraction == 1.0
    assert events_of(window, HoldCompleted)[-1].index == 2
    snap(window, output_dir, "04-hold-complete")

    # 5. Over the threshold: the high-priority alarm, decided in the core.
    with qtbot.waitSignal(player.played, timeout=8000,
                          check_params_cb=lambda c: c.cue is Cue.ALARM_HIGH):
        pass
    qtbot.waitUntil(lambda: window.readout.zone == Zone.OVER, timeout=2000)
    assert window.readout.zone_label.text() == ZONE_NAMES[Zone.OVER]
    if processor.state.hold_active and not processor.state.completed:  # why the count stops
        qtbot.waitUntil(lambda: window.ring_widget.caption == "paused: over PPT",
                        timeout=2000)
    qtbot.waitUntil(lambda: bool(events_of(window, OverThreshold)), timeout=2000)
    assert [c.cue for c in player.log].count(Cue.ALARM_HIGH) == 1
    snap(window, output_dir, "05-over-threshold")

    # 6. The cable is pulled: NO SIGNAL, never a frozen number.
    qtbot.waitUntil(lambda: window.readout.zone == Zone.NO_CONTACT, timeout=8000)
    rig.probe.unplug(for_s=1.0, reset=False)
    qtbot.waitUntil(lambda: window.stale, timeout=2000)
    assert window.readout.number.text() == "--"
    assert window.readout.zone_label.text() == NO_SIGNAL
    assert window.status.fields["rate"].text().startswith("no data")
    snap(window, output_dir, "06-no-signal")

    # 7. Plugged back in: the source finds the probe on its new port; the display recovers.
    qtbot.waitUntil(lambda: not window.stale, timeout=8000)
    assert rig.probe.plugs == 1
    assert window.readout.zone_label.text() == ZONE_NAMES[Zone.NO_CONTACT]
    assert window.readout.number.text() != "--"
    snap(window, output_dir, "07-signal-back")
    window.close()
