"""The alarm path: core events to sounds, without waiting for the 60 Hz repaint.

Alarms are decided in the core on the acquisition thread (`OverThreshold`, `HoldCompleted`,
`ZoneChanged`, `SignalLost`). `AlarmRelay` is one more consumer on the processor's fan-out:
it re-emits only those rare events as a Qt signal, which Qt queues to the GUI thread. The
sound starts as soon as the GUI event loop is free, not at the next frame tick, and no paint
code sits in between. A signal per alarm event (a few per minute) keeps the rule that the IO
thread never emits a signal per sample; the display still drains its `EventQueue` at 60 Hz
for everything visual. `SoundDirector` turns those events into cues, rate-limited against
alarm fatigue: the band cue at most every few seconds, the high-priority alarm repeating
while the force stays over the threshold but never stacking.
"""

from __future__ import annotations

import time

import numpy as np
from PyQt5 import QtCore

from tpforce.core.band import Band
from tpforce.core.events import (
    AlarmPriority,
    Event,
    HoldCompleted,
    OverThreshold,
    SignalLost,
    SignalRestored,
    Zone,
    ZoneChanged,
)
from tpforce.ui.sound import PITCH_STEPS, SoundPlayer
from tpforce.ui.tones import RATE_HZ, Cue, cue_waveform

ALARM_EVENTS = (OverThreshold, HoldCompleted, ZoneChanged, SignalLost, SignalRestored)


class AlarmRelay(QtCore.QObject):
    """A consumer that forwards alarm-relevant events to the GUI thread as a Qt signal."""

    alarm = QtCore.pyqtSignal(object)  # Event

    def __init__(self) -> None:
        super().__init__()
        self._open = True

    def on_batch(self, batch: np.ndarray) -> None:
        """Samples are not alarms: nothing per sample crosses to the GUI here."""

    def on_event(self, event: Event) -> None:
        """Forward one alarm-relevant event (called on the acquisition thread)."""
        if self._open and isinstance(event, ALARM_EVENTS):
            self.alarm.emit(event)

    def close(self) -> None:
        """Stop forwarding; may be called twice."""
        self._open = False


class SoundDirector(QtCore.QObject):
    """Chooses what to play for each event, with rate limits; drives the in-band pitch."""

    def __init__(
        self,
        player: SoundPlayer,
        band_cue_min_s: float = 3.0,
        alarm_repeat_s: float = 10.0,
        lost_cue_min_s: float = 10.0,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.player = player
        self.band_cue_min_s = band_cue_min_s
        self.alarm_repeat_s = alarm_repeat_s
        self.alarm_burst_s = len(cue_waveform(Cue.ALARM_HIGH)) / RATE_HZ  # about 3.7 s
        self.lost_cue_min_s = lost_cue_min_s
        self.band_cue = True
        self.hold_chime = True
        self.alarm_sound = True
        self.pitch = False
        self.zone = Zone.UNKNOWN
        self.suppressed = 0  # cues held back by the rate limits
        self._last: dict[Cue, float] = {}
        self._repeat = QtCore.QTimer(self)
        self._repeat.setSingleShot(True)
        self._repeat.timeout.connect(self._repeat_alarm)

    def on_event(self, event: object) -> None:
        """React to one core event (slot of `AlarmRelay.alarm`)."""
        if isinstance(event, ZoneChanged):
            self.zone = event.zone
            if event.zone == Zone.IN_BAND and event.previous in (Zone.BELOW, Zone.ABOVE) \
                    and self.band_cue:
                self._play(Cue.BAND_ENTER, self.band_cue_min_s)
            if event.zone != Zone.OVER:
                self._repeat.stop()
        elif isinstance(event, OverThreshold):
            self.zone = Zone.OVER
            if event.silent or not self.alarm_sound:
                pass  # a trial phase: the crossing is shown, not sounded
            elif event.priority < AlarmPriority.HIGH:
                self._play(Cue.ALARM_MEDIUM, self.alarm_burst_s)
            else:
                # Held back only while the last burst still sounds; then, if still over, the
                # repeat comes as soon as that burst ends, not a full interval later.
                if self._play(Cue.ALARM_HIGH, self.alarm_burst_s):
                    self._repeat.start(int(self.alarm_repeat_s * 1000))
                elif not self._repeat.isActive():  # it dipped out and straight back in
                    left_s = self._last[Cue.ALARM_HIGH] + self.alarm_burst_s - time.monotonic()
                    self._repeat.start(max(0, int(left_s * 1000)))
        elif isinstance(event, HoldCompleted):
            if self.hold_chime:
                self._play(Cue.HOLD_COMPLETE, 0.0)
        elif isinstance(event, SignalLost):
            self.zone = Zone.UNKNOWN
            self._repeat.stop()
            if self.alarm_sound:
                self._play(Cue.ALARM_MEDIUM, self.lost_cue_min_s)

    def update_pitch(self, force_n: float, band: Band | None, zone: Zone) -> None:
        """Keep the continuous tone on the force's place in the band (silent outside it)."""
        if not self.pitch or band is None or zone != Zone.IN_BAND or not np.isfinite(force_n):
            self.player.set_pitch_step(None)
            return
        span = max(band.hi_n - band.lo_n, 1e-9)
        frac = min(max((force_n - band.lo_n) / span, 0.0), 1.0)
        self.player.set_pitch_step(round(frac * PITCH_STEPS))

    def stop(self) -> None:
        """Silence everything and cancel repeats."""
        self._repeat.stop()
        self.player.stop_all()

    def _play(self, cue: Cue, min_gap_s: float) -> bool:
        now = time.monotonic()
        last = self._last.get(cue)
        if last is not None and now - last < min_gap_s:
            self.suppressed += 1
            return False
        self._last[cue] = now
        self.player.play(cue)
        return True

    def _repeat_alarm(self) -> None:
        if self.zone == Zone.OVER and self.alarm_sound:
            self._play(Cue.ALARM_HIGH, 0.0)
            self._repeat.start(int(self.alarm_repeat_s * 1000))
