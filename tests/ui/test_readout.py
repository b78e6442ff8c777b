"""The big readout never shows a made-up number."""

from __future__ import annotations

import math

import pytest

from tpforce.core.events import Zone
from tpforce.core.units import Unit
from tpforce.ui.readout import NO_SIGNAL, OVER_RANGE, UNKNOWN_FORCE, ForceReadout

pytestmark = pytest.mark.gui


def test_saturated_push_reads_max_on_red(qtbot) -> None:
    readout = ForceReadout()
    qtbot.addWidget(readout)
    readout.show_force(math.nan, Unit.N, 1.0, Zone.OVER, stale=False)
    assert readout.number.text() == OVER_RANGE
    assert readout.zone_label.text() == "OVER THRESHOLD"


def test_stale_stream_says_no_signal_not_the_last_value(qtbot) -> None:
    readout = ForceReadout()
    qtbot.addWidget(readout)
    readout.show_force(16.4, Unit.N, 1.0, Zone.IN_BAND, stale=False)
    assert readout.number.text() == "16.4"
    readout.show_force(16.4, Unit.N, 1.0, Zone.IN_BAND, stale=True)
    assert readout.number.text() == "--" and readout.zone_label.text() == NO_SIGNAL


def test_live_data_without_a_force_is_not_called_no_signal(qtbot) -> None:
    readout = ForceReadout()
    qtbot.addWidget(readout)
    readout.show_force(math.nan, Unit.N, 1.0, Zone.UNKNOWN, stale=False)
    assert readout.number.text() == "--" and readout.zone_label.text() == UNKNOWN_FORCE
    readout.show_force(math.nan, Unit.N, 1.0, Zone.UNKNOWN, stale=False, over_range=True)
    assert readout.number.text() == OVER_RANGE and readout.zone_label.text() == "OVER RANGE"
