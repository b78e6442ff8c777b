"""The handshake on a noisy link: every start streams with the probe's own calibration."""

from __future__ import annotations

import serial

from benchmarks.bench_handshake import run_starts
from tpforce.core.protocol import CalRecord, FrameType, Info, Status, encode_frame
from tpforce.io import handshake


def test_a_dozen_starts_at_one_percent_corruption_all_stream_with_the_record() -> None:
    starts = run_starts(12, corrupt=0.01)
    assert starts.failures == []
    assert starts.streamed_with_record == 12


def test_an_ack_without_its_calibration_frame_is_asked_again() -> None:
    record = CalRecord(1, 8400, 1 / 42000, 100, 0, "TP000001", 0)
    port = serial.serial_for_url("loop://", timeout=0.02)
    info = Info(1, "0.1.0", 1, 1, 80, 0, True, "TP000001", 0)
    sent: list[bytes] = []
    real_write = port.write

    def write(data: bytes) -> int | None:
        """Answer like a probe: HELLO -> INFO + ACK; READ_CAL -> ACK alone the first
        time (its CALIBRATION lost), CALIBRATION + ACK after that."""
        sent.append(data)
        token = 0
        if len(sent) == 1:
            return real_write(info.encode() + encode_frame(
                FrameType.ACK, bytes((FrameType.HELLO, token, Status.OK))))
        reply = b"" if len(sent) == 2 else encode_frame(FrameType.CALIBRATION, record.pack())
        return real_write(reply + encode_frame(
            FrameType.ACK, bytes((FrameType.READ_CAL, token, Status.OK))))

    port.write = write  # type: ignore[method-assign]  # the device's side of a loopback
    greeting = handshake.greet(port)
    assert greeting.info.serial == "TP000001"
    assert greeting.record == CalRecord.unpack(record.pack())  # never "no record"
    assert len(sent) == 3 and greeting.retries >= 1
