"""The probe's handshake, written once: HELLO until INFO, then READ_CAL until its record.

Used at start, at reconnect and by port discovery. Each request is repeated every
`RETRY_S` within its time limit, because on a noisy link any frame may be lost: an INFO,
a CALIBRATION frame or an ACK. PROTOCOL.md says READ_CAL is answered by CALIBRATION and
then ACK, so an ACK OK that arrives without its CALIBRATION means that frame was lost: ask
again, never conclude "no record".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from tpforce.core.protocol import (
    Ack,
    CalRecord,
    Decoder,
    FrameType,
    Info,
    NoCalRecord,
    Status,
    encode_command,
)

HELLO_TIMEOUT_S = 2.5  # an Arduino resets when the port opens and boots in ~1.5 s
READ_CAL_TIMEOUT_S = 2.0
RETRY_S = 0.3


class HandshakeError(Exception):
    """The device did not answer as a tpforce probe in time; the message is one line."""


@dataclass(frozen=True, slots=True)
class Greeting:
    """What the probe said: who it is, its calibration record, and how sure we are."""

    info: Info
    record: CalRecord | None = None  # None: never written, damaged, or not asked
    record_damaged: bool = False  # READ_CAL answered BAD_RECORD
    hellos_sent: int = 0
    retries: int = 0  # requests sent again because an answer was lost


class _Asker:
    """Sends one request again and again on `port` until `done` has an answer."""

    def __init__(self, port: serial.SerialBase, decoder: Decoder,
                 stop: threading.Event | None) -> None:
        self.port = port
        self.decoder = decoder
        self.stop = stop
        self.sent = 0

    def ask(self, ftype: FrameType, token: int, timeout_s: float,
            take: Callable[[object], bool]) -> bool:
        """Send until `take(message)` says True; False at the time limit or on stop."""
        deadline = time.monotonic() + timeout_s
        next_send = 0.0
        while not (self.stop is not None and self.stop.is_set()):
            now = time.monotonic()
            if now >= deadline:
                return False
            if now >= next_send:
                self.port.write(encode_command(ftype, token))
                self.sent += 1
                next_send = now + RETRY_S
            data = self.port.read(self.port.in_waiting or 1)
            if not data:
                continue
            for msg in self.decoder.feed(data).messages:
                if take(msg):
                    return True
                if isinstance(msg, Ack) and msg.command == ftype and msg.token == token \
                        and msg.status == Status.OK:
                    next_send = 0.0  # acknowledged, but its answer was lost: ask again now
        return False


def hello(port: serial.SerialBase, timeout_s: float = HELLO_TIMEOUT_S,
          stop: threading.Event | None = None, decoder: Decoder | None = None
          ) -> tuple[Info, int]:
    """HELLO until an INFO arrives: (that INFO, HELLOs sent); HandshakeError at the limit."""
    asker = _Asker(port, decoder or Decoder(), stop)
    got: list[Info] = []

    def take(msg: object) -> bool:
        if isinstance(msg, Info):
            got.append(msg)
            return True
        return False

    if not asker.ask(FrameType.HELLO, 0, timeout_s, take):
        raise HandshakeError(f"no answer to HELLO in {timeout_s:g} s")
    return got[0], asker.sent


def read_record(port: serial.SerialBase, timeout_s: float = READ_CAL_TIMEOUT_S,
                stop: threading.Event | None = None, decoder: Decoder | None = None,
                token: int = 0) -> tuple[CalRecord | None, bool, int]:
    """READ_CAL until the record comes: (record or None if never written, damaged, sent)."""
    asker = _Asker(port, decoder or Decoder(), stop)
    state: dict[str, object] = {}

    def take(msg: object) -> bool:
        if isinstance(msg, CalRecord | NoCalRecord):
            state["record"] = msg
            return True
        if isinstance(msg, Ack) and msg.command == FrameType.READ_CAL \
                and msg.status == Status.BAD_RECORD:
            state["damaged"] = True
            return True
        return False

    if not asker.ask(FrameType.READ_CAL, token, timeout_s, take):
        raise HandshakeError(f"READ_CAL: no record from the device in {timeout_s:g} s")
    record = state.get("record")
    return (record if isinstance(record, CalRecord) else None,
            bool(state.get("damaged")), asker.sent)


def greet(port: serial.SerialBase, *, calibration: bool = True,
          hello_timeout_s: float = HELLO_TIMEOUT_S,
          read_cal_timeout_s: float = READ_CAL_TIMEOUT_S,
          stop: threading.Event | None = None) -> Greeting:
    """The whole handshake on an open port: INFO, then (if asked) the calibration record."""
    decoder = Decoder()
    info, hellos = hello(port, hello_timeout_s, stop, decoder)
    if not calibration:
        return Greeting(info, hellos_sent=hellos, retries=hellos - 1)
    record, damaged, reads = read_record(port, read_cal_timeout_s, stop, decoder)
    return Greeting(info, record, damaged, hellos, hellos - 1 + reads - 1)


__all__ = ["HELLO_TIMEOUT_S", "READ_CAL_TIMEOUT_S", "RETRY_S", "Greeting", "HandshakeError",
           "greet", "hello", "read_record"]
