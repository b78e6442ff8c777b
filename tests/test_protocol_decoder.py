"""The stream decoder under fuzzing: never raises, loses no valid frame, ignores chunking.

`ReferenceDecoder` is the oracle: the bulk (numpy) path of `Decoder` must give exactly
its samples, messages and counters on any input.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tpforce.core.protocol import (
    Ack,
    CalRecord,
    Decoded,
    Decoder,
    DecoderStats,
    FrameType,
    Info,
    Log,
    ReferenceDecoder,
    Status,
    encode_command,
    encode_frame,
    encode_sample,
)

u32 = st.integers(0, 2**32 - 1)
i24 = st.integers(-(2**23), 2**23 - 1)
u8 = st.integers(0, 255)

sample_rows = st.tuples(u32, u32, i24, u8)
messages = st.one_of(
    st.builds(Ack, st.sampled_from([int(t) for t in FrameType if t >= 0x80]), u8,
              st.sampled_from(list(Status))),
    st.builds(Log, st.integers(0, 3), st.text("abc xyz019", max_size=40)),
    st.builds(Info, st.just(1), st.just("0.1.0"), u8, u8, st.integers(0, 65535),
              st.integers(0, 2), st.booleans(), st.text("ABC0123", max_size=8), st.integers(0, 15)),
    st.builds(CalRecord, st.just(1), st.integers(-(2**31), 2**31 - 1),
              st.sampled_from([1.0, -0.5, 0.0, 2.0**-15, -(2.0**-16)]), st.integers(0, 65535),
              u32, st.text("TP0123", max_size=8), st.integers(0, 2)),
)


def _wire(item: tuple | object) -> bytes:
    """The wire frame of a sample row or a message."""
    if isinstance(item, tuple):
        return encode_sample(*item)
    if isinstance(item, Ack):
        return encode_frame(FrameType.ACK, bytes((item.command, item.token, item.status)))
    if isinstance(item, Log):
        return encode_frame(FrameType.LOG, bytes((item.level,)) + item.text.encode())
    if isinstance(item, Info):
        return item.encode()
    assert isinstance(item, CalRecord)
    return encode_frame(FrameType.CALIBRATION, item.pack())


frames = st.one_of(sample_rows, sample_rows, messages)


@st.composite
def damaged_samples(draw: st.DrawFn) -> bytes:
    """A sample frame with one byte of its COBS block changed: same length, so it reaches
    the bulk path, and must be rejected there exactly as the reference rejects it."""
    wire = bytearray(encode_sample(*draw(sample_rows)))
    i = draw(st.integers(0, len(wire) - 2))
    wire[i] = draw(st.integers(1, 255))
    return bytes(wire)


noise = st.one_of(st.binary(max_size=90), damaged_samples(),
                  st.builds(encode_command, st.sampled_from(list(FrameType)), u8))

DecoderFactory = Callable[[], ReferenceDecoder]
DECODERS: dict[str, DecoderFactory] = {
    "reference": ReferenceDecoder,
    "bulk": lambda: Decoder(fast_path_min=1),
    "default": Decoder,
}


def _run(make: DecoderFactory, pieces: list[bytes]) -> tuple[list, list, DecoderStats]:
    """Feed `pieces` one by one; all sample rows, all messages, the final counters."""
    dec = make()
    rows: list[tuple] = []
    msgs: list = []
    for piece in pieces:
        out: Decoded = dec.feed(piece)
        rows += [tuple(int(v) for v in r) for r in out.samples.tolist()]
        msgs += out.messages
    return rows, msgs, dec.stats


def _cut(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` split at the given offsets (taken modulo its length, sorted)."""
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def _is_subsequence(needles: list, haystack: list) -> bool:
    it = iter(haystack)
    return all(any(n == h for h in it) for n in needles)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_give_counted_errors_never_an_exception(data: bytes) -> None:
    """Garbage is counted, not raised, and every decoder agrees with the reference."""
    expected = _run(ReferenceDecoder, [data])
    for make in DECODERS.values():
        rows, msgs, stats = _run(make, [data])
        assert (rows, msgs, stats) == expected
        assert stats.bytes_in == len(data)
        assert stats.bytes_discarded <= len(data)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(noise, frames), min_size=1, max_size=40))
def test_every_valid_frame_in_garbage_is_recovered(parts: list[tuple[bytes, object]]) -> None:
    """Whatever precedes a delimiter, the frame after it decodes, in order."""
    stream = b"".join(junk + b"\x00" + _wire(item) for junk, item in parts)
    want_rows = [item for _, item in parts if isinstance(item, tuple)]
    want_msgs = [item for _, item in parts if not isinstance(item, tuple)]
    expected = _run(ReferenceDecoder, [stream])
    for make in DECODERS.values():
        rows, msgs, stats = _run(make, [stream])
        assert _is_subsequence(want_rows, rows)
        assert _is_subsequence(want_msgs, msgs)
        assert (rows, msgs, stats) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(noise, frames.map(_wire)), max_size=60),
       st.lists(st.integers(0, 10_000), max_size=30))
def test_any_chunking_gives_the_same_output(items: list[bytes], cuts: list[int]) -> None:
    """Cut anywhere, fed piece by piece: the same rows, messages and final counters."""
    stream = b"".join(items)
    whole = _run(ReferenceDecoder, [stream])
    for make in DECODERS.values():
        assert _run(make, _cut(stream, cuts)) == whole


def test_long_run_without_delimiter_is_one_framing_error_in_any_chunking() -> None:
    """A 10 kB run with no delimiter costs one framing error, then frames decode again."""
    frame = encode_sample(7, 8, 9, 0)
    stream = b"\x55" * 10_000 + b"\x00" + frame * 40
    for make in DECODERS.values():
        for step in (1, 7, 100, 4096, len(stream)):
            rows, _, stats = _run(make, [stream[i : i + step]
                                         for i in range(0, len(stream), step)])
            assert stats.framing_errors == 1
            assert stats.bytes_discarded == 10_001
            assert rows == [(7, 8, 9, 0)] * 40


def test_bulk_path_keeps_sample_order_among_other_frames() -> None:
    """Samples interleaved with messages and damaged frames come out in order, counted."""
    rng = np.random.default_rng(5)
    rows = [(i, 12_500 * i, int(rng.integers(-(2**23), 2**23)), i & 0x1F) for i in range(500)]
    parts = []
    for i, row in enumerate(rows):
        parts.append(encode_sample(*row))
        if i % 50 == 0:
            parts.append(encode_frame(FrameType.ACK, bytes((0x80, i & 0xFF, 0))))
        if i % 70 == 0:
            bad = bytearray(encode_sample(*row))
            bad[3] ^= 0x40
            parts.append(bytes(bad))
    stream = b"".join(parts)
    got_rows, msgs, stats = _run(lambda: Decoder(fast_path_min=1), [stream])
    assert got_rows[: len(rows)] == rows or _is_subsequence(rows, got_rows)
    assert len(msgs) >= 10
    assert (got_rows, msgs, stats) == _run(ReferenceDecoder, [stream])
    assert stats.crc_errors + stats.framing_errors + stats.unknown_frames >= 1
