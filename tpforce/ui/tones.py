"""The sounds, synthesised with numpy: gentle band cue, hold chime, IEC 60601-1-8-style alarms.

IEC 60601-1-8 (docs/domain.md): alarm signals have a fundamental of 150-1000 Hz and at least four
harmonics; common practice is high priority = 2 bursts of 5 pulses, medium = 3 pulses. The
in-band cue and the chime are soft sines so that they never sound like an alarm.
"""

from __future__ import annotations

import enum
import hashlib
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE_HZ = 44_100
ALARM_HARMONICS = (1.0, 0.7, 0.5, 0.4, 0.3)  # fundamental + 4 harmonics (IEC: >= 4)


class Cue(enum.Enum):
    """Everything the display can say out loud."""

    BAND_ENTER = "band_enter"  # gentle: the force came into the band
    HOLD_COMPLETE = "hold_complete"  # distinct chime: the in-band time reached the target
    ALARM_HIGH = "alarm_high"  # over the patient's threshold: 2 bursts of 5 pulses
    ALARM_MEDIUM = "alarm_medium"  # the signal was lost: 3 pulses


@dataclass(frozen=True, slots=True)
class PulseSpec:
    """An alarm pulse train: fundamental, pulse length, gaps between pulses, bursts."""

    fundamental_hz: float
    pulse_s: float
    gaps_s: tuple[float, ...]  # between consecutive pulses of one burst
    bursts: int
    burst_gap_s: float
    level: float

    @property
    def pulses_per_burst(self) -> int:
        """Pulses in one burst."""
        return len(self.gaps_s) + 1


# High: 5 pulses in the IEC rhythm x-x-x---x-x, the burst twice; medium: x-x-x once.
HIGH_PRIORITY = PulseSpec(523.25, 0.15, (0.10, 0.10, 0.35, 0.10), 2, 0.9, 0.9)
MEDIUM_PRIORITY = PulseSpec(392.0, 0.20, (0.20, 0.20), 1, 0.0, 0.6)


def envelope(n: int, rise: int, fall: int) -> np.ndarray:
    """A trapezoid of `n` samples with linear rise and fall (no clicks)."""
    env = np.ones(n)
    if rise:
        env[:rise] = np.linspace(0.0, 1.0, rise, endpoint=False)
    if fall:
        env[n - fall:] = np.linspace(1.0, 0.0, fall)
    return env


def harmonic_tone(freq_hz: float, duration_s: float, harmonics: tuple[float, ...],
                  rate_hz: int = RATE_HZ) -> np.ndarray:
    """A tone with the given harmonic amplitudes (index 0 is the fundamental), peak 1."""
    t = np.arange(round(duration_s * rate_hz)) / rate_hz
    wave_ = sum(a * np.sin(2 * np.pi * freq_hz * (k + 1) * t) for k, a in enumerate(harmonics))
    peak = float(np.max(np.abs(wave_))) if len(t) else 1.0
    return np.asarray(wave_) / (peak or 1.0)


def alarm(spec: PulseSpec, rate_hz: int = RATE_HZ) -> np.ndarray:
    """The pulse train of an alarm priority: rich-harmonic pulses with 20 % rise and fall."""
    n = round(spec.pulse_s * rate_hz)
    ramp = n // 5
    pulse = harmonic_tone(spec.fundamental_hz, spec.pulse_s, ALARM_HARMONICS, rate_hz)
    pulse = pulse * envelope(n, ramp, ramp) * spec.level
    pieces: list[np.ndarray] = []
    for b in range(spec.bursts):
        if b:
            pieces.append(np.zeros(round(spec.burst_gap_s * rate_hz)))
        pieces.append(pulse)
        for gap in spec.gaps_s:
            pieces.append(np.zeros(round(gap * rate_hz)))
            pieces.append(pulse)
    return np.concatenate(pieces)


def band_cue(rate_hz: int = RATE_HZ) -> np.ndarray:
    """A soft, short sine 'tock' (660 Hz, 120 ms, quiet): heard, never alarming."""
    n = int(0.12 * rate_hz)
    t = np.arange(n) / rate_hz
    return 0.25 * np.sin(2 * np.pi * 660.0 * t) * np.exp(-t / 0.04) * envelope(n, 64, 256)


def chime(rate_hz: int = RATE_HZ) -> np.ndarray:
    """Two rising bell notes (G5 then C6) with a slow decay: 'done', unlike any alarm."""
    notes = []
    for freq in (783.99, 1046.5):
        n = int(0.45 * rate_hz)
        t = np.arange(n) / rate_hz
        bell = np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(2 * np.pi * 2 * freq * t)
        notes.append(0.4 * bell / 1.3 * np.exp(-t / 0.18) * envelope(n, 88, 512))
    return np.concatenate(notes)


def loop_tone(freq_hz: float, rate_hz: int = RATE_HZ, length_s: float = 0.5) -> np.ndarray:
    """A quiet sine holding a whole number of cycles, so that it loops without a click."""
    n = round(length_s * rate_hz)
    cycles = max(1, round(freq_hz * n / rate_hz))
    return 0.15 * np.sin(2 * np.pi * cycles * np.arange(n) / n)


def cue_waveform(cue: Cue, rate_hz: int = RATE_HZ) -> np.ndarray:
    """The waveform (floats in [-1, 1]) of a cue."""
    if cue is Cue.BAND_ENTER:
        return band_cue(rate_hz)
    if cue is Cue.HOLD_COMPLETE:
        return chime(rate_hz)
    if cue is Cue.ALARM_HIGH:
        return alarm(HIGH_PRIORITY, rate_hz)
    return alarm(MEDIUM_PRIORITY, rate_hz)


def write_wav(path: Path, samples: np.ndarray, rate_hz: int = RATE_HZ) -> Path:
    """Write mono 16-bit PCM; only if the file is not already there with this content."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    if path.exists() and path.stat().st_size == len(pcm) + 44:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(pcm)
    tmp.replace(path)
    return path


def wav_for(folder: Path, name: str, samples: np.ndarray, rate_hz: int = RATE_HZ) -> Path:
    """A cached WAV named after its content, so a changed sound never plays a stale file."""
    digest = hashlib.sha1(samples.tobytes()).hexdigest()[:10]
    return write_wav(folder / f"{name}-{digest}.wav", samples, rate_hz)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read back a mono 16-bit WAV as floats and its rate (for tests and checks)."""
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return data.astype(np.float64) / 32767.0, rate
