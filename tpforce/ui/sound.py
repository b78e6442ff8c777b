"""Plays the cues through Qt's own audio, and records every request so that tests can hear it.

`SoundPlayer` keeps a log of each cue it was asked to play and emits `played`; it plays
through QtMultimedia's QSoundEffect when an output device exists and stays silent, without
failing, when there is none (a server, CI, a machine without a sound card).
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PyQt5 import QtCore

from tpforce.ui.tones import RATE_HZ, Cue, cue_waveform, loop_tone, wav_for

log = logging.getLogger(__name__)

PITCH_LO_HZ = 330.0  # the pitch at the bottom of the band
PITCH_STEPS = 12  # semitone steps up to one octave at the top of the band


@dataclass(frozen=True, slots=True)
class CuePlayed:
    """One cue the player was asked to play: when (monotonic), and whether it was audible."""

    cue: Cue
    at_s: float
    audible: bool


def pitch_step_hz(step: int) -> float:
    """The frequency of pitch step `step` (0 = band bottom, PITCH_STEPS = band top)."""
    return PITCH_LO_HZ * 2.0 ** (step / PITCH_STEPS)


def sound_folder() -> Path:
    """Where the synthesised WAVs are cached: the user's own cache folder, never a folder
    that another user of the machine could own."""
    cache = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.GenericCacheLocation)
    return Path(cache or tempfile.gettempdir()) / "tpforce" / "sounds"


SOUND_ON = "sound on"
MUTED = "muted"
SILENT = "SILENT: no audio output"


def _qt_multimedia() -> tuple[Any, str]:
    """QtMultimedia's module and '' if sound can play here, else None and the reason."""
    try:
        from PyQt5 import QtMultimedia
    except ImportError as exc:
        return None, f"QtMultimedia unavailable ({exc})"
    devices = QtMultimedia.QAudioDeviceInfo.availableDevices(QtMultimedia.QAudio.AudioOutput)
    if not devices:
        return None, "Qt Multimedia reports no audio output device"
    default = QtMultimedia.QAudioDeviceInfo.defaultOutputDevice()
    if default.isNull():
        return None, "Qt Multimedia reports no default audio output device"
    log.info("sound: playing through %r (%d output devices)", default.deviceName(),
             len(devices))
    return QtMultimedia, ""


class SoundPlayer(QtCore.QObject):
    """Plays cues and the optional continuous in-band pitch; logs every request."""

    played = QtCore.pyqtSignal(object)  # CuePlayed
    pitch_changed = QtCore.pyqtSignal(float)  # Hz, 0.0 when the tone stops
    silenced = QtCore.pyqtSignal(str)  # the backend failed: why the alarm cannot sound

    def __init__(self, folder: Path | None = None, enable_audio: bool = True,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = folder or sound_folder()
        self.muted = False
        self.log: list[CuePlayed] = []
        self.pitch_hz = 0.0
        self.pitch_log: list[float] = []
        self.files = {cue: self._wav(cue.value, cue_waveform(cue)) for cue in Cue}
        module, reason = _qt_multimedia() if enable_audio else (None, "audio disabled")
        self.backend = "QtMultimedia" if module else f"silent: {reason}"
        self.silent_reason = reason  # '' while the backend says it can play
        if reason:
            log.warning("sound: SILENT, the alarm cannot sound: %s", reason)
        self._effects: dict[Cue, Any] = {}
        self._tones: dict[int, Any] = {}
        self._tone_step: int | None = None
        self._module = module
        if module is not None:
            for cue, path in self.files.items():
                self._effects[cue] = self._effect(path, loop=False, name=cue.value)

    @property
    def audible(self) -> bool:
        """True when a device plays the sounds and they are not muted."""
        return self._module is not None and not self.silent_reason and not self.muted

    @property
    def state_text(self) -> str:
        """What the status bar says: 'SILENT: no audio output', 'muted' or 'sound on'."""
        if self.silent_reason:
            return SILENT
        return MUTED if self.muted else SOUND_ON

    def _on_status(self, effect: Any, name: str) -> None:
        """A sound effect's status changed: an error means the output cannot play."""
        if self._module is None or effect.status() != self._module.QSoundEffect.Error:
            return
        if not self.silent_reason:
            self.silent_reason = f"the audio output failed to play {name}"
            self.backend = f"silent: {self.silent_reason}"
            log.warning("sound: SILENT, the alarm cannot sound: %s", self.silent_reason)
            self.silenced.emit(self.silent_reason)

    def set_muted(self, muted: bool) -> None:
        """Mute or unmute everything, the continuous pitch too."""
        self.muted = muted
        if muted:
            self.set_pitch_step(None)

    def play(self, cue: Cue) -> CuePlayed:
        """Play one cue now (or log it silently); returns the log entry."""
        entry = CuePlayed(cue, time.monotonic(), self.audible)
        self.log.append(entry)
        effect = self._effects.get(cue)
        if effect is not None and not self.muted:
            if effect.isPlaying():
                effect.stop()
            effect.play()
        self.played.emit(entry)
        return entry

    def stop_all(self) -> None:
        """Silence what is playing (alarm acknowledged, window closing)."""
        for effect in self._effects.values():
            effect.stop()
        self.set_pitch_step(None)

    def set_pitch_step(self, step: int | None) -> None:
        """Hold the continuous tone at pitch step `step`, or stop it with None."""
        if self.muted:
            step = None
        if step == self._tone_step:
            return
        if self._tone_step is not None and self._tone_step in self._tones:
            self._tones[self._tone_step].stop()
        self._tone_step = step
        self.pitch_hz = 0.0 if step is None else pitch_step_hz(step)
        self.pitch_log.append(self.pitch_hz)
        if step is not None and self._module is not None:
            tone = self._tones.get(step)
            if tone is None:
                path = self._wav(f"pitch{step:02d}", loop_tone(pitch_step_hz(step)))
                tone = self._tones[step] = self._effect(path, loop=True, name="the pitch")
            tone.play()
        self.pitch_changed.emit(self.pitch_hz)

    def _wav(self, name: str, samples: Any) -> Path:
        return wav_for(self.folder, name, samples, RATE_HZ)

    def _effect(self, path: Path, loop: bool, name: str) -> Any:
        assert self._module is not None
        effect = self._module.QSoundEffect(self)
        effect.statusChanged.connect(lambda e=effect, n=name: self._on_status(e, n))
        effect.setSource(QtCore.QUrl.fromLocalFile(str(path)))
        effect.setLoopCount(self._module.QSoundEffect.Infinite if loop else 1)
        effect.setVolume(1.0)
        return effect
