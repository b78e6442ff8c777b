"""The synthesised sounds, checked by ear's proxy: the FFT and the pulse envelope."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tpforce.ui.tones import (
    HIGH_PRIORITY,
    MEDIUM_PRIORITY,
    RATE_HZ,
    Cue,
    alarm,
    cue_waveform,
    loop_tone,
    read_wav,
    wav_for,
)


def spectrum(samples: np.ndarray, rate_hz: int) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies and magnitudes of a Hann-windowed FFT."""
    mag = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.fft.rfftfreq(len(samples), 1.0 / rate_hz), mag


def peaks(freqs: np.ndarray, mag: np.ndarray, floor: float) -> list[float]:
    """Local maxima above `floor` of the peak magnitude."""
    top = mag.max()
    idx = [i for i in range(1, len(mag) - 1)
           if mag[i] >= mag[i - 1] and mag[i] > mag[i + 1] and mag[i] > floor * top]
    return [float(freqs[i]) for i in idx]


def pulse_count(samples: np.ndarray, rate_hz: int) -> int:
    """How many separate pulses: runs where the 5 ms envelope is above a tenth of its peak."""
    k = int(0.005 * rate_hz)
    env = np.convolve(np.abs(samples), np.ones(k) / k, mode="same")
    on = env > 0.1 * env.max()
    return int(np.count_nonzero(np.diff(on.astype(np.int8)) == 1) + on[0])


def test_high_priority_alarm_has_a_150_to_1000_hz_fundamental_and_four_harmonics() -> None:
    wave_ = alarm(HIGH_PRIORITY)
    first_pulse = wave_[: int(HIGH_PRIORITY.pulse_s * RATE_HZ)]
    freqs, mag = spectrum(np.pad(first_pulse, (0, RATE_HZ - len(first_pulse))), RATE_HZ)
    f0 = float(freqs[mag.argmax()])
    assert 150.0 <= f0 <= 1000.0
    for h in range(2, 6):  # 4 harmonics, each at least a tenth of the fundamental
        near = np.abs(freqs - h * f0) < 0.02 * h * f0
        assert mag[near].max() > 0.1 * mag.max(), h
    found = peaks(freqs, mag, 0.1)
    assert len(found) >= 5


def test_high_priority_is_two_bursts_of_five_pulses_and_medium_is_three() -> None:
    assert pulse_count(alarm(HIGH_PRIORITY), RATE_HZ) == 10
    assert HIGH_PRIORITY.bursts == 2 and HIGH_PRIORITY.pulses_per_burst == 5
    assert pulse_count(alarm(MEDIUM_PRIORITY), RATE_HZ) == 3


def test_band_cue_is_a_soft_pure_tone_unlike_the_alarm() -> None:
    cue = cue_waveform(Cue.BAND_ENTER)
    freqs, mag = spectrum(cue, RATE_HZ)
    assert abs(freqs[mag.argmax()] - 660.0) < 20.0
    assert np.abs(cue).max() < 0.5 * np.abs(alarm(HIGH_PRIORITY)).max()
    assert len(cue) / RATE_HZ < 0.2


def test_chime_rises_from_g5_to_c6() -> None:
    wave_ = cue_waveform(Cue.HOLD_COMPLETE)
    half = len(wave_) // 2
    first = spectrum(wave_[:half], RATE_HZ)
    second = spectrum(wave_[half:], RATE_HZ)
    assert abs(first[0][first[1].argmax()] - 784.0) < 10.0
    assert abs(second[0][second[1].argmax()] - 1046.5) < 10.0


def test_loop_tone_ends_where_it_starts_so_looping_does_not_click() -> None:
    tone = loop_tone(415.3)
    assert abs(tone[0]) < 1e-9
    step = np.abs(np.diff(tone)).max()
    assert abs(tone[-1] - tone[0]) <= step


def test_wav_round_trips_and_keeps_the_spectrum(tmp_path: Path) -> None:
    wave_ = alarm(HIGH_PRIORITY)
    path = wav_for(tmp_path, "alarm", wave_)
    assert wav_for(tmp_path, "alarm", wave_) == path  # cached by content
    back, rate = read_wav(path)
    assert rate == RATE_HZ and len(back) == len(wave_)
    assert np.abs(back - wave_).max() < 1e-3
