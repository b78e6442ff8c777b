"""Which cue plays when: the director's rules against alarm fatigue, the relay across threads."""

from __future__ import annotations

import threading

import pytest

from tpforce.core.band import Band
from tpforce.core.events import (
    AlarmPriority,
    HoldCompleted,
    OverThreshold,
    SignalLost,
    ThresholdMarked,
    Zone,
    ZoneChanged,
)
from tpforce.ui.alarms import AlarmRelay, SoundDirector
from tpforce.ui.sound import PITCH_STEPS, SoundPlayer, pitch_step_hz
from tpforce.ui.tones import Cue

HIGH = AlarmPriority.HIGH


def cues(player: SoundPlayer) -> list[Cue]:
    return [entry.cue for entry in player.log]


def test_silent_player_logs_every_cue_and_emits(qtbot, player: SoundPlayer) -> None:
    assert player.backend.startswith("silent")
    with qtbot.waitSignal(player.played) as blocker:
        player.play(Cue.HOLD_COMPLETE)
    assert blocker.args[0].cue is Cue.HOLD_COMPLETE and not blocker.args[0].audible
    assert all(path.exists() for path in player.files.values())


def test_band_entry_is_gentle_and_rate_limited(player: SoundPlayer) -> None:
    director = SoundDirector(player, band_cue_min_s=60.0)
    for _ in range(5):  # tremor at the band edge: in, out, in, out ...
        director.on_event(ZoneChanged(1.0, Zone.IN_BAND, Zone.BELOW))
        director.on_event(ZoneChanged(1.1, Zone.BELOW, Zone.IN_BAND))
    assert cues(player) == [Cue.BAND_ENTER]
    assert director.suppressed == 4


def test_no_band_cue_when_contact_starts_inside_the_band(player: SoundPlayer) -> None:
    director = SoundDirector(player)
    director.on_event(ZoneChanged(1.0, Zone.IN_BAND, Zone.UNKNOWN))
    assert cues(player) == []


def test_over_threshold_alarm_plays_once_then_repeats_while_over(qtbot,
                                                                 player: SoundPlayer) -> None:
    director = SoundDirector(player, alarm_repeat_s=0.05)
    director.on_event(OverThreshold(2.0, 21.0, 20.0, HIGH))
    director.on_event(OverThreshold(2.1, 21.0, 20.0, HIGH))  # a second crossing at once: no stack
    assert cues(player) == [Cue.ALARM_HIGH]
    with qtbot.waitSignal(player.played, timeout=2000):
        pass  # the repeat, because the force is still over
    assert cues(player) == [Cue.ALARM_HIGH, Cue.ALARM_HIGH]
    director.on_event(ZoneChanged(2.5, Zone.ABOVE, Zone.OVER))
    with qtbot.assertNotEmitted(player.played, wait=200):
        pass  # back below the threshold: the repeat is cancelled


def test_hold_complete_chimes_and_signal_loss_is_medium_priority(player: SoundPlayer) -> None:
    director = SoundDirector(player)
    director.on_event(HoldCompleted(5.0, 1, 30.0))
    director.on_event(SignalLost(6.0))
    assert cues(player) == [Cue.HOLD_COMPLETE, Cue.ALARM_MEDIUM]


def test_switched_off_sounds_stay_off(player: SoundPlayer) -> None:
    director = SoundDirector(player)
    director.band_cue = director.hold_chime = director.alarm_sound = False
    director.on_event(ZoneChanged(1.0, Zone.IN_BAND, Zone.BELOW))
    director.on_event(HoldCompleted(5.0, 1, 30.0))
    director.on_event(OverThreshold(6.0, 21.0, 20.0, HIGH))
    assert cues(player) == []


def test_muted_player_logs_inaudibly(player: SoundPlayer) -> None:
    player.set_muted(True)
    assert not player.play(Cue.ALARM_HIGH).audible


@pytest.mark.parametrize(("force_n", "step"), [(15.0, 0), (16.5, PITCH_STEPS // 2),
                                                (18.0, PITCH_STEPS)])
def test_pitch_follows_force_across_the_band(player: SoundPlayer, force_n: float,
                                             step: int) -> None:
    director = SoundDirector(player)
    director.pitch = True
    band = Band(15.0, 18.0, 20.0)
    director.update_pitch(force_n, band, Zone.IN_BAND)
    assert player.pitch_hz == pytest.approx(pitch_step_hz(step))
    director.update_pitch(19.0, band, Zone.ABOVE)
    assert player.pitch_hz == 0.0  # silent outside the band


def test_relay_crosses_from_the_acquisition_thread_only_for_alarm_events(qtbot) -> None:
    relay = AlarmRelay()
    got: list[object] = []
    relay.alarm.connect(got.append)

    def acquisition() -> None:
        relay.on_event(ThresholdMarked(1.0, 20.0, 1))  # not an alarm: stays on its thread
        relay.on_event(OverThreshold(2.0, 21.0, 20.0, HIGH))

    thread = threading.Thread(target=acquisition)
    with qtbot.waitSignal(relay.alarm, timeout=2000):
        thread.start()
    thread.join()
    assert [type(e) for e in got] == [OverThreshold]
    relay.close()
    relay.on_event(OverThreshold(3.0, 21.0, 20.0, HIGH))
    assert len(got) == 1


def test_back_over_the_threshold_soon_after_an_alarm_sounds_when_that_burst_ends(
        qtbot, player: SoundPlayer) -> None:
    director = SoundDirector(player, alarm_repeat_s=10.0)
    director.alarm_burst_s = 0.3  # a short burst, so the test need not wait for a real one
    director.on_event(OverThreshold(2.0, 21.0, 20.0, HIGH))
    director.on_event(ZoneChanged(2.1, Zone.ABOVE, Zone.OVER))  # dips below the PPT...
    director.on_event(ZoneChanged(2.2, Zone.OVER, Zone.ABOVE))
    director.on_event(OverThreshold(2.2, 21.0, 20.0, HIGH))  # ...and straight back over
    assert cues(player) == [Cue.ALARM_HIGH]  # no stacking on the burst still sounding
    with qtbot.waitSignal(player.played, timeout=2000):
        pass  # at the burst's end, not 10 s later
    assert cues(player) == [Cue.ALARM_HIGH, Cue.ALARM_HIGH]


def test_alarm_sound_follows_priority_and_trial_crossings_are_silent(player: SoundPlayer
                                                                     ) -> None:
    director = SoundDirector(player)
    director.on_event(OverThreshold(1.0, 20.5, 20.0, silent=True))  # a threshold trial
    assert cues(player) == [] and director.zone == Zone.OVER
    director.on_event(OverThreshold(2.0, 20.5, 20.0))  # a crossing: medium priority
    director.on_event(OverThreshold(3.1, 20.6, 20.0, HIGH, escalation=True))  # > 1 s: high
    assert cues(player) == [Cue.ALARM_MEDIUM, Cue.ALARM_HIGH]
