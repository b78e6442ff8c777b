"""Wire protocol v1 codec (firmware/PROTOCOL.md): COBS framing, CRC-16, frame types.

Pure: standard library and numpy only. The decoder is incremental (`feed(bytes)`), never
raises on bad input, and counts what it had to throw away.
"""

from __future__ import annotations

import binascii
import enum
import struct
from dataclasses import dataclass, field

import numpy as np

PROTOCOL_VERSION = 1
MAX_PAYLOAD = 64
DELIMITER = b"\x00"


class FrameType(enum.IntEnum):
    """Frame types: device-to-host below 0x80, host-to-device commands from 0x80."""

    SAMPLE = 0x01
    INFO = 0x02
    ACK = 0x03
    LOG = 0x04
    CALIBRATION = 0x05
    HELLO = 0x80
    START = 0x81
    STOP = 0x82
    SET_RATE = 0x83
    SET_GAIN = 0x84
    READ_CAL = 0x85
    WRITE_CAL = 0x86
    IDENTIFY = 0x87


class Status(enum.IntEnum):
    """ACK status: 0 is OK, anything else a NACK reason."""

    OK = 0
    UNKNOWN_COMMAND = 1
    BAD_LENGTH = 2
    BAD_VALUE = 3
    UNSUPPORTED = 4
    BAD_RECORD = 5
    STORAGE = 6


SAMPLE_BODY = struct.Struct("<IIiB")
INFO_BODY = struct.Struct("<BBBBBBHBB8sH")
ACK_BODY = struct.Struct("<BBB")
CAL_RECORD = struct.Struct("<BifHI8sB")  # without its trailing record_crc
SAMPLE_PAYLOAD_LEN = 1 + SAMPLE_BODY.size + 2


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF); `binascii.crc_hqx` computes it in C."""
    return binascii.crc_hqx(data, crc)


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode `data` (canonical form, PROTOCOL.md); the result holds no zero byte."""
    out = bytearray(b"\x00")
    code_at = 0
    code = 1
    for byte in data:
        if byte:
            out.append(byte)
            code += 1
            if code == 0xFF:
                out[code_at] = code
                code_at = len(out)
                out.append(0)
                code = 1
        else:
            out[code_at] = code
            code_at = len(out)
            out.append(0)
            code = 1
    out[code_at] = code
    return bytes(out)


def cobs_decode(data: bytes) -> bytes | None:
    """Decode one COBS block (without its delimiter); None if it is malformed."""
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0:
            return None
        end = i + code
        if end > n:
            return None
        out += data[i + 1 : end]
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def encode_frame(ftype: int, body: bytes = b"") -> bytes:
    """One complete wire frame: COBS(type | body | crc16) followed by the 0x00 delimiter."""
    payload = bytes((ftype,)) + body
    payload += crc16(payload).to_bytes(2, "little")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return cobs_encode(payload) + DELIMITER


def encode_sample(seq: int, t_us: int, raw: int, flags: int = 0) -> bytes:
    """A SAMPLE frame; `seq` and `t_us` wrap at 2^32 as on the device."""
    body = SAMPLE_BODY.pack(seq & 0xFFFFFFFF, t_us & 0xFFFFFFFF, raw, flags & 0xFF)
    return encode_frame(FrameType.SAMPLE, body)


def encode_command(ftype: int, token: int, args: bytes = b"") -> bytes:
    """A host command frame: the token first, echoed by the device's ACK."""
    return encode_frame(ftype, bytes((token & 0xFF,)) + args)


@dataclass(frozen=True, slots=True)
class Info:
    """Decoded INFO frame."""

    protocol: int
    firmware: str
    board: int
    adc: int
    rate_sps: int
    gain: int
    streaming: bool
    serial: str
    caps: int

    def encode(self) -> bytes:
        """The INFO frame for this record."""
        major, minor, patch = (int(p) for p in self.firmware.split("."))
        body = INFO_BODY.pack(
            self.protocol, major, minor, patch, self.board, self.adc, self.rate_sps,
            self.gain, int(self.streaming), self.serial.encode("ascii")[:8], self.caps,
        )
        return encode_frame(FrameType.INFO, body)


@dataclass(frozen=True, slots=True)
class Ack:
    """Decoded ACK frame."""

    command: int
    token: int
    status: Status


@dataclass(frozen=True, slots=True)
class Log:
    """Decoded LOG frame."""

    level: int
    text: str


@dataclass(frozen=True, slots=True)
class CalRecord:
    """The calibration record kept in the probe's EEPROM (PROTOCOL.md, 0x05)."""

    version: int
    zero_counts: int
    n_per_count: float
    tip_area_mm2: int
    cal_unix: int
    serial: str
    gain: int

    def pack(self) -> bytes:
        """The 26 record bytes, with their own CRC."""
        head = CAL_RECORD.pack(
            self.version, self.zero_counts, self.n_per_count, self.tip_area_mm2,
            self.cal_unix, self.serial.encode("ascii")[:8], self.gain,
        )
        return head + crc16(head).to_bytes(2, "little")

    @classmethod
    def unpack(cls, data: bytes) -> CalRecord | None:
        """The record in `data`, or None if its length, version or CRC is wrong."""
        if len(data) != CAL_RECORD.size + 2:
            return None
        head, crc = data[:-2], int.from_bytes(data[-2:], "little")
        if crc16(head) != crc:
            return None
        version, zero, npc, area, when, serial, gain = CAL_RECORD.unpack(head)
        if version != 1:
            return None
        return cls(version, zero, npc, area, when, _ascii(serial), gain)


@dataclass(frozen=True, slots=True)
class Command:
    """A decoded host command (used by the simulated probe)."""

    type: int
    token: int
    args: bytes


Message = Info | Ack | Log | CalRecord | Command


def _ascii(raw: bytes) -> str:
    return raw.rstrip(b"\x00").decode("ascii", "replace")


@dataclass
class DecoderStats:
    """What the decoder has seen; every bad byte lands in one of these counters."""

    frames: int = 0
    samples: int = 0
    crc_errors: int = 0
    framing_errors: int = 0
    unknown_frames: int = 0
    bytes_in: int = 0
    bytes_discarded: int = 0


SAMPLE_WIRE_DTYPE = np.dtype([("seq", "<u4"), ("t_us", "<u4"), ("raw", "<i4"), ("flags", "u1")])
"""Samples as they come off the wire, before the host unwraps sequence and time."""


@dataclass
class Decoded:
    """The result of one `feed`: sample rows and other messages, each in arrival order."""

    samples: np.ndarray
    messages: list[Message] = field(default_factory=list)


class Decoder:
    """Incremental frame decoder: `feed(bytes)` returns what completed, keeps the rest."""

    def __init__(self) -> None:
        self._pending = b""
        self.stats = DecoderStats()

    def feed(self, data: bytes) -> Decoded:
        """Decode every frame completed by `data`; bad frames are counted, never raised."""
        stats = self.stats
        stats.bytes_in += len(data)
        chunks = (self._pending + data).split(DELIMITER)
        self._pending = chunks.pop()
        if len(self._pending) > 4 * MAX_PAYLOAD:
            # A run with no delimiter that long is noise: drop it rather than grow.
            stats.framing_errors += 1
            stats.bytes_discarded += len(self._pending)
            self._pending = b""
        rows: list[tuple[int, int, int, int]] = []
        messages: list[Message] = []
        for chunk in chunks:
            if not chunk:
                continue
            payload = cobs_decode(chunk)
            if payload is None or len(payload) < 3 or len(payload) > MAX_PAYLOAD:
                stats.framing_errors += 1
                stats.bytes_discarded += len(chunk) + 1
                continue
            if crc16(payload[:-2]) != int.from_bytes(payload[-2:], "little"):
                stats.crc_errors += 1
                stats.bytes_discarded += len(chunk) + 1
                continue
            ftype = payload[0]
            body = payload[1:-2]
            if ftype == FrameType.SAMPLE and len(body) == SAMPLE_BODY.size:
                rows.append(SAMPLE_BODY.unpack(body))
                stats.frames += 1
                continue
            message = _decode_message(ftype, body)
            if message is None:
                stats.unknown_frames += 1
                stats.bytes_discarded += len(chunk) + 1
                continue
            stats.frames += 1
            messages.append(message)
        stats.samples += len(rows)
        samples = np.array(rows, dtype=SAMPLE_WIRE_DTYPE) if rows else _NO_SAMPLES
        return Decoded(samples, messages)


_NO_SAMPLES = np.zeros(0, dtype=SAMPLE_WIRE_DTYPE)


def _decode_message(ftype: int, body: bytes) -> Message | None:
    """Decode a non-sample frame body, or None if its type or length is wrong."""
    if ftype == FrameType.INFO and len(body) == INFO_BODY.size:
        proto, ma, mi, pa, board, adc, rate, gain, streaming, serial, caps = INFO_BODY.unpack(body)
        return Info(proto, f"{ma}.{mi}.{pa}", board, adc, rate, gain, bool(streaming),
                    _ascii(serial), caps)
    if ftype == FrameType.ACK and len(body) == ACK_BODY.size:
        command, token, status = ACK_BODY.unpack(body)
        try:
            return Ack(command, token, Status(status))
        except ValueError:
            return None
    if ftype == FrameType.LOG and len(body) >= 1:
        return Log(body[0], body[1:].decode("utf-8", "replace"))
    if ftype == FrameType.CALIBRATION:
        return CalRecord.unpack(body)
    if ftype >= 0x80 and len(body) >= 1:
        return Command(ftype, body[0], body[1:])
    return None
