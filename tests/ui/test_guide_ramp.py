"""The ramp guide names a falling force as a release, never as a ramp that is too slow."""

from __future__ import annotations

from tpforce.core.events import Zone
from tpforce.core.tracker import HoldConfig, TrackerState
from tpforce.ui.guide import ramp_text


def test_a_release_reads_releasing_and_a_slow_rise_too_slow() -> None:
    cfg = HoldConfig()
    falling = TrackerState(zone=Zone.BELOW, rate_n_per_s=-12.6, force_n=10.0)
    text, _ = ramp_text(falling, cfg, 1.0)
    assert text.startswith("releasing (-12.6 N/s)") and "too slow" not in text
    rising = TrackerState(zone=Zone.BELOW, rate_n_per_s=1.4, force_n=10.0)
    assert "too slow" in ramp_text(rising, cfg, 1.0)[0]
    steady = TrackerState(zone=Zone.BELOW, rate_n_per_s=5.2, force_n=10.0)
    assert "on target" in ramp_text(steady, cfg, 1.0)[0]
