"""The Python codec and the firmware's C codec against the same golden frames.

`tests/data/golden_frames.json` holds payloads and exact wire bytes (PROTOCOL.md); the C
side is checked by `make -C firmware test`, run from here too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tpforce.core.protocol import (
    Ack,
    CalRecord,
    Command,
    Decoder,
    Info,
    Log,
    NoCalRecord,
    ReferenceDecoder,
    Status,
    cobs_decode,
    cobs_encode,
    crc16,
    encode_frame,
)

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = json.loads((ROOT / "tests" / "data" / "golden_frames.json").read_text())
FRAMES = GOLDEN["frames"]


DECODERS = {"reference": ReferenceDecoder, "bulk": lambda: Decoder(fast_path_min=1),
            "default": Decoder}


def _ids(entries: list[dict]) -> list[str]:
    return [e["name"] for e in entries]


def test_crc_check_value() -> None:
    """CRC-16/CCITT-FALSE of ASCII 123456789 is 0x29B1 by definition."""
    assert crc16(b"123456789") == 0x29B1


@pytest.mark.parametrize("entry", FRAMES, ids=_ids(FRAMES))
def test_frame_encodes_to_golden_wire(entry: dict) -> None:
    """encode_frame gives the golden wire bytes, whose COBS block holds no zero."""
    wire = encode_frame(entry["type"], bytes.fromhex(entry["body"]))
    assert wire.hex() == entry["wire"]
    assert b"\x00" not in wire[:-1] and wire[-1:] == b"\x00"
    assert cobs_decode(wire[:-1]).hex() == entry["payload"]


@pytest.mark.parametrize("entry", GOLDEN["cobs"], ids=_ids(GOLDEN["cobs"]))
def test_cobs_vectors(entry: dict) -> None:
    """COBS encodes to the canonical golden form (incl. 254-byte blocks) and back."""
    data = bytes.fromhex(entry["data"])
    assert cobs_encode(data).hex() == entry["encoded"]
    assert cobs_decode(bytes.fromhex(entry["encoded"])) == data


def _expected(entry: dict) -> object:
    """What the decoder must make of a golden frame: a sample row, a message or None."""
    body = bytes.fromhex(entry["body"])
    name = entry["name"]
    if name.startswith("sample_"):
        return (entry["seq"], entry["t_us"], entry["raw"], entry["flags"])
    return {
        "info_uno_hx711": Info(1, "0.1.0", 1, 1, 80, 0, True, "TP000042", 0b1111),
        "info_unserialised": Info(1, "0.1.0", 1, 1, 10, 2, False, "", 0b1110),
        "ack_ok": Ack(0x84, 7, Status.OK),
        "ack_unsupported": Ack(0x83, 255, Status.UNSUPPORTED),
        "log_info": Log(1, "tpforce probe ready"),
        "log_max_payload": Log(3, "x" * 60),
        "calibration_record": CalRecord.unpack(body),
        "calibration_erased": NoCalRecord(),  # never written: "no record", not an error
        "cmd_hello": Command(0x80, 1, b""),
        "cmd_start": Command(0x81, 2, b""),
        "cmd_stop": Command(0x82, 3, b""),
        "cmd_set_rate_80": Command(0x83, 4, b"\x50\x00"),
        "cmd_set_gain_b32": Command(0x84, 5, b"\x02"),
        "cmd_read_cal": Command(0x85, 6, b""),
        "cmd_write_cal": Command(0x86, 7, body[1:]),
        "cmd_identify_3s": Command(0x87, 0, b"\x03"),
        "min_payload_no_body": None,  # a command without its token
        "max_payload_all_zero": None,  # unknown type
        "max_payload_all_ff": Command(0xFF, 0xFF, b"\xff" * 60),
    }[name]


@pytest.mark.parametrize("entry", FRAMES, ids=_ids(FRAMES))
def test_frame_decodes_from_golden_wire(entry: dict) -> None:
    """Each golden wire frame decodes to its fields, after noise and split in two feeds."""
    wire = bytes.fromhex(entry["wire"])
    dec = Decoder()
    first = dec.feed(b"\x13\x37\x00" + wire[:5])
    rest = dec.feed(wire[5:])
    rows = [tuple(int(v) for v in r) for r in (*first.samples.tolist(),
                                                *rest.samples.tolist())]
    messages = first.messages + rest.messages
    expected = _expected(entry)
    assert dec.stats.framing_errors == 1  # the noise
    if isinstance(expected, tuple):
        assert rows == [expected] and messages == []
        assert dec.stats.samples == 1
    elif expected is None:
        assert rows == [] and messages == [] and dec.stats.unknown_frames == 1
    else:
        assert rows == [] and messages == [expected]
    if entry["name"] == "calibration_record":
        assert messages[0].serial == "TP000042" and messages[0].tip_area_mm2 == 100


@pytest.mark.parametrize("make", DECODERS.values(), ids=DECODERS.keys())
def test_golden_stream_decodes_in_one_feed(make: type[Decoder]) -> None:
    """All golden frames back to back: every sample in order, every counter right."""
    stream = b"".join(bytes.fromhex(e["wire"]) for e in FRAMES)
    dec = make()
    out = dec.feed(stream)
    samples = [e for e in FRAMES if e["name"].startswith("sample_")]
    assert out.samples["seq"].tolist() == [e["seq"] for e in samples]
    assert out.samples["raw"].tolist() == [e["raw"] for e in samples]
    unknown = sum(_expected(e) is None for e in FRAMES)
    assert dec.stats.unknown_frames == unknown
    assert dec.stats.frames == len(FRAMES) - unknown
    assert dec.stats.crc_errors == dec.stats.framing_errors == 0
    assert dec.stats.bytes_in == len(stream)


@pytest.mark.parametrize("make", DECODERS.values(), ids=DECODERS.keys())
@pytest.mark.parametrize("entry", GOLDEN["invalid"], ids=_ids(GOLDEN["invalid"]))
def test_invalid_wire_is_counted_not_raised(entry: dict, make: type[Decoder]) -> None:
    """Bad frames land in the counter the golden file names, and nothing decodes."""
    dec = make()
    out = dec.feed(bytes.fromhex(entry["wire"]))
    assert len(out.samples) == 0 and out.messages == []
    counter = {"crc": "crc_errors", "framing": "framing_errors",
               "unknown": "unknown_frames"}[entry["error"]]
    assert getattr(dec.stats, counter) == 1
    assert dec.stats.frames == 0
    assert dec.stats.bytes_discarded == len(bytes.fromhex(entry["wire"]))


@pytest.mark.skipif(shutil.which("make") is None or shutil.which("cc") is None,
                    reason="needs make and a C compiler (Debian: build-essential)")
def test_c_codec_against_golden_frames() -> None:
    """The firmware's frame.c passes its host unit test on the same golden file."""
    run = subprocess.run(["make", "-s", "-C", str(ROOT / "firmware"), "test"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 failures" in run.stdout
