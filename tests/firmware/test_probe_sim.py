"""The probe firmware, end to end on a simulated AVR: stream, commands, calibration, reset.

Everything between the simulated HX711 pins and the sample batches is real: the firmware
binary, the UART, a pty, pyserial, `ProbeSource`, the decoder and the stream assembler.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import SimulatedProbe, write_waveform

from tpforce.core.events import DeviceInfo
from tpforce.core.protocol import CalRecord, FrameType
from tpforce.io.probe import CommandError

pytestmark = pytest.mark.firmware

BUTTON, SATURATED, MISSED = 1, 2, 4
FULL_SCALE_HI, FULL_SCALE_LO = 0x7FFFFF, -0x800000

N = 960  # 12 s of conversions at 80 SPS
PRESSED = range(300, 400)
SATURATION = range(600, 611)


def stream_waveform() -> tuple[np.ndarray, np.ndarray]:
    """Counts that exercise the wire (zero and 0xFF bytes), a button press, full scale."""
    rng = np.random.default_rng(7)
    counts = rng.integers(FULL_SCALE_LO + 1, FULL_SCALE_HI, N)
    counts[:8] = [0, -1, 1, 255, 256, 0x10000, -0x10000, 0x7F00FF]
    counts[600:610] = [FULL_SCALE_HI, FULL_SCALE_LO] * 5
    counts[610] = 9_000_000  # beyond full scale: the HX711 saturates
    button = np.zeros(N, dtype=int)
    button[PRESSED.start : PRESSED.stop] = 1
    return counts, button


@pytest.fixture(scope="module")
def streamed(firmware_build: tuple[Path, Path],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimulatedProbe,
                                                                         np.ndarray]]:
    """One boot of the probe, streaming the waveform; yields the probe and N samples."""
    folder = tmp_path_factory.mktemp("stream")
    counts, button = stream_waveform()
    wave = write_waveform(folder / "waveform.txt", counts, button)
    probe = SimulatedProbe(*firmware_build, wave, folder / "sim.log").start()
    try:
        yield probe, probe.samples(N)[:N]
    finally:
        probe.stop()


def test_every_count_arrives_in_order_exactly(streamed: tuple[SimulatedProbe, np.ndarray]):
    """Each conversion the simulated HX711 made reaches the host once, in order, unchanged."""
    _, samples = streamed
    counts, _ = stream_waveform()
    expected = np.clip(counts, FULL_SCALE_LO, FULL_SCALE_HI)
    assert samples["raw"].tolist() == expected.tolist()


def test_seq_and_device_time_are_consistent(streamed: tuple[SimulatedProbe, np.ndarray]):
    """No gaps or misses, and the device clock says 80 samples per second within 1 %."""
    _, samples = streamed
    assert np.all(np.diff(samples["seq"]) == 1)
    assert not np.any(samples["flags"] & MISSED)
    dt = np.diff(samples["t_s"])
    rate_sps = (len(samples) - 1) / (samples["t_s"][-1] - samples["t_s"][0])
    assert abs(rate_sps / 80.0 - 1.0) < 0.01
    assert np.all(np.abs(dt - 1 / 80) < 0.01 / 80)  # every interval, not only the mean


def test_pressed_button_sets_the_flag(streamed: tuple[SimulatedProbe, np.ndarray]):
    """The button flag covers the press, late by no more than the 20 ms debounce."""
    _, samples = streamed
    flagged = np.flatnonzero(samples["flags"] & BUTTON)
    assert len(flagged) > 0
    assert np.all(np.diff(flagged) == 1), "one press, one run of flagged samples"
    assert PRESSED.start <= flagged[0] <= PRESSED.start + 3
    assert PRESSED.stop - 1 <= flagged[-1] <= PRESSED.stop + 2


def test_saturated_input_is_flagged(streamed: tuple[SimulatedProbe, np.ndarray]):
    """Full-scale counts, and only those, carry the SATURATED flag."""
    _, samples = streamed
    assert np.flatnonzero(samples["flags"] & SATURATED).tolist() == list(SATURATION)


def test_hx711_was_read_in_time_and_never_powered_down(
        streamed: tuple[SimulatedProbe, np.ndarray]) -> None:
    """The simulated chip saw every conversion read, PD_SCK never high past 60 us."""
    probe, _ = streamed
    summary = probe.stop()
    assert summary["returncode"] == 0
    assert summary["produced"] >= N
    assert summary["read"] >= summary["produced"] - 1  # the last one may still be waiting
    for counter in ("overwritten", "collisions", "power_downs", "stray_pulses", "short_reads"):
        assert summary[counter] == 0, counter
    print(f"simulation: {summary['sim_s']:.2f} s simulated in {summary['wall_s']:.2f} s "
          f"({summary['speed']:.1f}x real time)")


Boot = Callable[..., SimulatedProbe]
UNKNOWN = enum.IntEnum("Unknown", {"CMD_0x90": 0x90}).CMD_0x90


def ramp(n: int = 4000) -> list[int]:
    """Distinct counts whose halves and quarters differ from every neighbour's."""
    return [200_001 + 1_000 * i for i in range(n)]


def test_every_command_gets_its_ack(sim_probe: Boot) -> None:
    """Each command is answered by its own ACK: OK where it can be done, else the reason."""
    probe = sim_probe(ramp())
    src = probe.source
    info = src.hello()
    assert (info.protocol, info.board, info.adc, info.rate_sps) == (1, 1, 1, 80)
    assert info.streaming and info.caps == 0b1111
    for ftype, args in [(FrameType.SET_RATE, (80).to_bytes(2, "little")),
                        (FrameType.SET_GAIN, b"\x00"), (FrameType.IDENTIFY, b"\x01")]:
        assert src.command(ftype, args).token > 0
    refusals = [
        (FrameType.SET_RATE, (100).to_bytes(2, "little"), "UNSUPPORTED"),
        (FrameType.SET_RATE, (0).to_bytes(2, "little"), "BAD_VALUE"),
        (FrameType.SET_RATE, b"\x50", "BAD_LENGTH"),
        (FrameType.SET_GAIN, b"\x03", "BAD_VALUE"),
        (FrameType.WRITE_CAL, b"\x01" * 5, "BAD_LENGTH"),
        (UNKNOWN, b"", "UNKNOWN_COMMAND"),
    ]
    for ftype, args, reason in refusals:
        with pytest.raises(CommandError, match=f"refused: {reason}"):
            src.command(ftype, args)
    src.command(FrameType.STOP)
    assert not src.hello().streaming
    src.command(FrameType.START)
    assert src.hello().streaming
    assert len(probe.more_samples(5)) > 0  # streaming again


def test_gain_change_labels_the_next_conversion(sim_probe: Boot) -> None:
    """Each frame's gain bits name the gain its counts were converted at (A/64 halves them)."""
    counts = ramp()
    probe = sim_probe(counts)
    probe.samples(10)
    for gain in (1, 2, 0):
        probe.source.command(FrameType.SET_GAIN, bytes((gain,)))
        assert probe.source.hello().gain == gain
        probe.more_samples(10)
    samples = probe.drain()
    assert np.all(np.diff(samples["seq"]) == 1)
    gains = (samples["flags"] >> 3) & 0b11
    assert set(gains.tolist()) == {0, 1, 2}
    expected = [counts[i] >> (0, 1, 2)[g] for i, g in enumerate(gains.tolist())]
    assert samples["raw"].tolist() == expected


def test_rate_pin_switches_between_10_and_80_sps(sim_probe: Boot) -> None:
    """SET_RATE drives the HX711's RATE pin; the device clock shows the new period."""
    probe = sim_probe(ramp())
    probe.samples(5)
    probe.source.command(FrameType.SET_RATE, (10).to_bytes(2, "little"))
    assert probe.source.hello().rate_sps == 10
    slow = np.diff(probe.more_samples(6)["t_s"][-4:])
    probe.source.command(FrameType.SET_RATE, (80).to_bytes(2, "little"))
    fast = np.diff(probe.more_samples(12)["t_s"][-8:])
    assert np.all(np.abs(slow * 10 - 1) < 0.01)
    assert np.all(np.abs(fast * 80 - 1) < 0.01)
    samples = probe.drain()
    assert not np.any(samples["flags"] & MISSED) and np.all(np.diff(samples["seq"]) == 1)


def test_missed_conversions_are_flagged_and_counted(sim_probe: Boot) -> None:
    """RATE strapped to 10 SPS while the firmware expects 80: each conversion comes 7 periods
    late, so it is flagged MISSED and seq skips the 7 it takes for lost; no count is lost."""
    counts = ramp()
    probe = sim_probe(counts, options=["-S", "-s", "10"])
    samples = probe.samples(8)
    assert samples["raw"].tolist() == counts[: len(samples)]
    assert np.all(np.diff(samples["seq"]) == 8)
    assert np.all(samples["flags"][1:] & MISSED)
    assert np.all(np.abs(np.diff(samples["t_s"]) * 10 - 1) < 0.01)


def test_identify_blinks_the_led(sim_probe: Boot) -> None:
    """IDENTIFY for 1 s toggles the LED at 4 Hz, then leaves it off."""
    probe = sim_probe(ramp())
    probe.source.command(FrameType.IDENTIFY, b"\x01")
    probe.more_samples(100)  # 1.25 s of device time: the blinking is over
    summary = probe.stop()
    assert 7 <= summary["led_toggles"] <= 10  # 8 half-periods of 125 ms
    assert not summary["led_on"]


def test_calibration_record_survives_a_reset(sim_probe: Boot) -> None:
    """A record written to EEPROM is read back, and again after the MCU restarts."""
    probe = sim_probe(ramp())
    src = probe.source
    assert src.record is None and src.calibration is None  # erased EEPROM, read at open
    assert src.read_calibration() is None  # and again on demand: answered, no record
    record = CalRecord(1, 8_123, 2.5e-5, 100, 1_767_225_600, "TPSIM042", 0)
    damaged = bytearray(record.pack())
    damaged[-1] ^= 0xFF
    with pytest.raises(CommandError, match="refused: BAD_RECORD"):
        src.command(FrameType.WRITE_CAL, bytes(damaged))
    back = src.write_calibration(record, timeout=5.0)  # written, read back and compared
    assert back.pack() == record.pack()
    assert src.calibration is not None and src.calibration.serial == "TPSIM042"
    assert src.hello().serial == "TPSIM042"

    probe.drain_events()
    probe.control("reset")
    banner = probe.wait_event(DeviceInfo)
    assert banner.serial == "TPSIM042"  # read from EEPROM at boot
    again = src.read_calibration()
    assert again is not None and again.pack() == record.pack()
    before = len(probe.drain())
    after = probe.more_samples(5)[before:]
    assert set(after["raw"].tolist()) <= set(ramp())  # streams the waveform again


def test_a_full_transmit_queue_drops_replies_and_flags_them_never_blocks(
        sim_probe: Boot) -> None:
    """Forty READ_CALs at once ask for more bytes than the link carries: replies are
    dropped and the next sample says so; sampling never waits (no MISSED conversion)."""
    from tpforce.core.protocol import encode_command
    from tpforce.core.samples import SampleFlag

    probe = sim_probe(ramp())
    before = len(probe.more_samples(5))
    probe.source.write(b"".join(encode_command(FrameType.READ_CAL, 100 + k)
                                for k in range(40)))
    after = probe.more_samples(80)[before:]
    flags = after["flags"].astype(int)
    assert np.any(flags & int(SampleFlag.TX_DROPPED))  # the loss is said, not silent
    assert not np.any(flags & int(SampleFlag.MISSED))  # loop() kept reading the ADC in time
