"""Frames per second decoded and CRC-checked by `protocol.Decoder`, against the reference.

The baseline is `ReferenceDecoder`, the simple per-frame decoder (split, COBS-decode,
CRC-check, unpack one frame at a time), run on the same bytes in the same process.
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import median_time
from tpforce.core.protocol import (
    Decoder,
    FrameType,
    ReferenceDecoder,
    encode_frame,
    encode_sample,
)


def make_stream(n: int, seed: int = 11) -> bytes:
    """`n` sample frames as a 1 kHz probe sends them, with an ACK every 1000 samples."""
    rng = np.random.default_rng(seed)
    raw = np.cumsum(rng.integers(-2000, 2000, n)) + 8_400
    raw = np.clip(raw, -(1 << 23), (1 << 23) - 1)
    parts = []
    for i in range(n):
        parts.append(encode_sample(i, 1000 * i, int(raw[i]), i & 1))
        if i % 1000 == 999:
            parts.append(encode_frame(FrameType.ACK, bytes((0x80, i & 0xFF, 0))))
    return b"".join(parts)


def decode_all(make: type[ReferenceDecoder], stream: bytes, read_size: int) -> int:
    """Feed `stream` in reads of `read_size` bytes; the number of samples decoded."""
    dec = make()
    n = 0
    for i in range(0, len(stream), read_size):
        n += len(dec.feed(stream[i : i + read_size]).samples)
    return n


def run(quick: bool = False) -> list[str]:
    """Median frames/s of Decoder and ReferenceDecoder on the same stream, and the ratio."""
    n = 50_000 if quick else 400_000
    repeats = 3 if quick else 7
    stream = make_stream(n)
    frames = n + n // 1000
    assert decode_all(Decoder, stream, 65_536) == decode_all(ReferenceDecoder, stream, 65_536) == n
    lines = []
    for read_size, label in ((65_536, "64 KiB reads"), (4_096, "4 KiB reads"),
                             (18 * 4, "4-frame reads, as from a live 1 kHz port")):
        base_s = median_time(lambda size=read_size: decode_all(ReferenceDecoder, stream, size),
                             repeats)
        fast_s = median_time(lambda size=read_size: decode_all(Decoder, stream, size), repeats)
        lines.append(f"{label}: Decoder {frames / fast_s:,.0f} frames/s, reference "
                     f"{frames / base_s:,.0f} frames/s, ratio {base_s / fast_s:.1f}x")
    lines.append(f"({frames:,} frames, {len(stream):,} bytes, median of {repeats}, one core)")
    return lines
