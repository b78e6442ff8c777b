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
class NoCalRecord:
    """A CALIBRATION frame from a probe whose EEPROM record was never written (version 0xFF)."""

    @staticmethod
    def pack() -> bytes:
        """The record bytes of an erased EEPROM, as a probe sends them."""
        return b"\xff" * (CAL_RECORD.size + 2)


@dataclass(frozen=True, slots=True)
class Command:
    """A decoded host command (used by the simulated probe)."""

    type: int
    token: int
    args: bytes


Message = Info | Ack | Log | CalRecord | NoCalRecord | Command


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


MAX_CHUNK = MAX_PAYLOAD + 1
"""The longest COBS block of a valid frame (payloads below 254 bytes gain one code byte)."""

SAMPLE_CHUNK_LEN = SAMPLE_PAYLOAD_LEN + 1
"""Every SAMPLE frame is a COBS block of exactly this many bytes before its delimiter."""


class ReferenceDecoder:
    """The simple decoder: split at delimiters, then decode and check one frame at a time.

    It defines what `Decoder` must produce, and stays as the test oracle and baseline.
    The stream between two delimiters is a *chunk*; a chunk longer than any valid frame
    is one framing error however it arrives, so the result never depends on how the
    stream was cut into `feed` calls.
    """

    def __init__(self) -> None:
        self._pending = b""  # the unfinished chunk, at most MAX_CHUNK bytes
        self._overflow = 0  # bytes of an over-long chunk dropped so far (0: none)
        self.stats = DecoderStats()

    def feed(self, data: bytes) -> Decoded:
        """Decode every frame completed by `data`; bad frames are counted, never raised."""
        rows: list[tuple[int, int, int, int]] = []
        messages: list[Message] = []
        for chunk in self._chunks(bytes(data)):
            self._decode_chunk(chunk, rows, messages)
        self.stats.samples += len(rows)
        samples = np.array(rows, dtype=SAMPLE_WIRE_DTYPE) if rows else _NO_SAMPLES
        return Decoded(samples, messages)

    def _chunks(self, data: bytes) -> list[bytes]:
        """The chunks `data` completes, after settling any over-long chunk in progress."""
        self.stats.bytes_in += len(data)
        if self._overflow:
            end = data.find(DELIMITER)
            if end < 0:
                self._overflow += len(data)
                return []
            self._count_overflow(end)
            data = data[end + 1 :]
        chunks = (self._pending + data).split(DELIMITER)
        self._keep_tail(chunks.pop())
        return chunks

    def _keep_tail(self, tail: bytes) -> None:
        """Hold the unfinished chunk, or start dropping it once it is too long to be a frame."""
        if len(tail) > MAX_CHUNK:
            self._pending = b""
            self._overflow = len(tail)
        else:
            self._pending = tail

    def _count_overflow(self, more: int) -> None:
        """An over-long chunk ended after `more` further bytes: one framing error."""
        self.stats.framing_errors += 1
        self.stats.bytes_discarded += self._overflow + more + 1
        self._overflow = 0

    def _decode_chunk(self, chunk: bytes, rows: list[tuple[int, int, int, int]],
                      messages: list[Message]) -> None:
        """Decode one chunk into `rows` or `messages`, or count why it was dropped."""
        if not chunk:
            return  # an empty frame flushes the receiver; not an error
        stats = self.stats
        payload = cobs_decode(chunk) if len(chunk) <= MAX_CHUNK else None
        if payload is None or len(payload) < 3 or len(payload) > MAX_PAYLOAD:
            stats.framing_errors += 1
            stats.bytes_discarded += len(chunk) + 1
            return
        if crc16(payload[:-2]) != int.from_bytes(payload[-2:], "little"):
            stats.crc_errors += 1
            stats.bytes_discarded += len(chunk) + 1
            return
        ftype = payload[0]
        body = payload[1:-2]
        if ftype == FrameType.SAMPLE and len(body) == SAMPLE_BODY.size:
            rows.append(SAMPLE_BODY.unpack(body))
            stats.frames += 1
            return
        message = _decode_message(ftype, body)
        if message is None:
            stats.unknown_frames += 1
            stats.bytes_discarded += len(chunk) + 1
            return
        stats.frames += 1
        messages.append(message)


class Decoder(ReferenceDecoder):
    """The decoder the host uses: `ReferenceDecoder`'s results, sample frames in bulk.

    Sample frames dominate the stream and all have the same length, so when a feed holds
    at least `fast_path_min` candidates they are COBS-decoded and CRC-checked column-wise
    with numpy; every other chunk, and any candidate that fails, takes the reference path.
    """

    def __init__(self, fast_path_min: int = 16) -> None:
        super().__init__()
        self.fast_path_min = fast_path_min

    def feed(self, data: bytes) -> Decoded:
        """Decode every frame completed by `data`; bad frames are counted, never raised."""
        if len(data) < self.fast_path_min * SAMPLE_CHUNK_LEN:
            return super().feed(data)
        stats = self.stats
        stats.bytes_in += len(data)
        buf = bytes(data)
        if self._overflow:
            end = buf.find(DELIMITER)
            if end < 0:
                self._overflow += len(buf)
                return Decoded(_NO_SAMPLES, [])
            self._count_overflow(end)
            buf = buf[end + 1 :]
        if self._pending:
            buf = self._pending + buf
        arr = np.frombuffer(buf, dtype=np.uint8)
        ends = np.flatnonzero(arr == 0)
        if len(ends) == 0:
            self._keep_tail(buf)
            return Decoded(_NO_SAMPLES, [])
        self._keep_tail(buf[int(ends[-1]) + 1 :])
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        lengths = ends - starts
        candidates = np.flatnonzero(lengths == SAMPLE_CHUNK_LEN)
        rows: list[tuple[int, int, int, int]] = []
        messages: list[Message] = []
        if len(candidates) >= self.fast_path_min:
            good, samples = _decode_sample_chunks(arr, starts[candidates])
            stats.frames += len(samples)
            stats.samples += len(samples)
            rest = lengths > 0
            rest[candidates[good]] = False
            for i in np.flatnonzero(rest).tolist():
                self._decode_chunk(buf[starts[i] : ends[i]], rows, messages)
            # Chunks of any other length cannot be sample frames.
            return Decoded(samples, messages)
        for i in np.flatnonzero(lengths).tolist():
            self._decode_chunk(buf[starts[i] : ends[i]], rows, messages)
        stats.samples += len(rows)
        return Decoded(np.array(rows, dtype=SAMPLE_WIRE_DTYPE) if rows else _NO_SAMPLES,
                       messages)


_CRC16_PAIR: np.ndarray | None = None


def _crc16_pair_table() -> np.ndarray:
    """T[x] = CRC register after 16 zero bits from register x: one lookup per 2 data bytes.

    The register is linear, so feeding bytes b0 b1 into register c gives T[c ^ (b0 << 8 | b1)].
    """
    global _CRC16_PAIR
    if _CRC16_PAIR is None:
        t8 = np.array([crc16(b"\x00", i << 8) for i in range(256)], dtype=np.uint16)
        x = np.arange(1 << 16, dtype=np.uint32)
        hi = t8[x >> 8].astype(np.uint32)
        _CRC16_PAIR = (((hi & 0xFF) << 8) ^ t8[(x & 0xFF) ^ (hi >> 8)]).astype(np.uint16)
    return _CRC16_PAIR


_SAMPLE_COLUMNS = np.arange(SAMPLE_CHUNK_LEN)


def _decode_sample_chunks(arr: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """COBS-decode and CRC-check the 17-byte chunks at `starts` of `arr`, all at once.

    Returns a mask of the chunks that are good sample frames and their rows, in order.
    """
    n = len(starts)
    stride = SAMPLE_CHUNK_LEN + 1
    if starts[-1] - starts[0] == stride * (n - 1):
        # Back to back (the usual case): a strided view, no gather.
        first = int(starts[0])
        block = arr[first : first + stride * n].reshape(n, stride)
    else:
        block = arr[starts[:, None] + _SAMPLE_COLUMNS]
    cols = np.ascontiguousarray(block[:, :SAMPLE_CHUNK_LEN].T)  # (17, n): one row per position
    # COBS: follow the chain of code bytes column by column. A code byte becomes a zero
    # in the payload; the chain must land exactly on the end of the chunk.
    payload = np.empty((SAMPLE_PAYLOAD_LEN, n), dtype=np.uint8)
    next_code = cols[0].astype(np.int16)  # position of the next code byte
    for j in range(1, SAMPLE_CHUNK_LEN):
        is_code = next_code == j
        np.multiply(cols[j], ~is_code, out=payload[j - 1])
        next_code += is_code * cols[j]
    good = next_code == SAMPLE_CHUNK_LEN
    good &= payload[0] == FrameType.SAMPLE
    # CRC-16 over type and body, two bytes per table lookup.
    table = _crc16_pair_table()
    words = payload[:15].astype(np.uint16)
    crc = np.full(n, 0xFFFF, dtype=np.uint16)
    for k in range(0, 14, 2):
        crc = table[crc ^ ((words[k] << 8) | words[k + 1])]
    good &= crc == (words[14] | (payload[15].astype(np.uint16) << 8))
    body = np.ascontiguousarray(payload[1 : 1 + SAMPLE_BODY.size, good].T)
    return good, body.view(SAMPLE_WIRE_DTYPE).reshape(-1)


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
        if len(body) == CAL_RECORD.size + 2 and body[0] == 0xFF:
            return NoCalRecord()
        return CalRecord.unpack(body)
    if ftype >= 0x80 and len(body) >= 1:
        return Command(ftype, body[0], body[1:])
    return None
