"""A tpforce probe on any pyserial URL: wire protocol v1 frames into sample batches.

The reader thread, reconnect and health live in `tpforce.io.source.Source`; this module
only speaks the probe's protocol (firmware/PROTOCOL.md): decode frames, assemble samples,
answer commands, and recognise the probe by the serial number in its INFO frame.
"""

from __future__ import annotations

import itertools
import queue
import time

import serial

from tpforce.core.consumer import Consumer
from tpforce.core.events import DeviceInfo, DeviceLog
from tpforce.core.protocol import (
    Ack,
    CalRecord,
    Decoder,
    FrameType,
    Info,
    Log,
    NoCalRecord,
    Status,
    encode_command,
)
from tpforce.core.stream import StreamAssembler
from tpforce.io.source import (
    STALE_S,
    CommandError,
    PortLister,
    Source,
    SourceHealth,
    SourceOpenError,
    open_error_message,
)

IDENTIFY_TIMEOUT_S = 2.5  # an Arduino resets when the port opens and boots in ~1.5 s
HELLO_RETRY_S = 0.3

__all__ = ["STALE_S", "CommandError", "SerialSource", "SourceOpenError", "open_error_message"]


class SerialSource(Source):
    """Opens a probe, streams its samples to `sink` from a reader thread, sends commands."""

    frame_end = b"\x00"

    driver = "probe"

    def __init__(
        self,
        url: str,
        sink: Consumer | None = None,
        baudrate: int = 115200,
        stale_s: float = STALE_S,
        reconnect: bool = True,
        lister: PortLister | None = None,
        identify_timeout_s: float = IDENTIFY_TIMEOUT_S,
    ) -> None:
        super().__init__(url, sink, baudrate, stale_s, reconnect, lister)
        self.decoder = Decoder()
        self.assembler = StreamAssembler()
        self.info: Info | None = None
        self.calibration: CalRecord | None = None
        self.identify_timeout_s = identify_timeout_s
        self._tokens = itertools.count(1)
        self._replies: queue.Queue[Ack | CalRecord | Info] = queue.Queue()
        self._hellos_pending = 0
        self._id_hellos = 0

    # -- commands -------------------------------------------------------------------------

    def command(self, ftype: FrameType, args: bytes = b"", timeout: float = 1.0) -> Ack:
        """Send a command and wait for its ACK; raises CommandError on NACK or time-out."""
        token = next(self._tokens) & 0xFF
        if ftype == FrameType.HELLO:
            self._hellos_pending += 1
        self.write(encode_command(ftype, token, args))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                if ftype == FrameType.HELLO and self._hellos_pending > 0:
                    # Unanswered: a late INFO taken for a banner costs nothing, while a real
                    # banner taken for this reply would hide a reset.
                    self._hellos_pending -= 1
                raise CommandError(f"{ftype.name}: no answer from the device in {timeout:g} s")
            try:
                reply = self._replies.get(timeout=left)
            except queue.Empty:
                continue
            if isinstance(reply, Ack) and reply.token == token and reply.command == ftype:
                if reply.status != Status.OK:
                    raise CommandError(f"{ftype.name} refused: {reply.status.name}")
                return reply

    def hello(self, timeout: float = 1.0) -> Info:
        """Ask the device who it is."""
        self.command(FrameType.HELLO, timeout=timeout)
        if self.info is None:
            raise CommandError("HELLO acknowledged without INFO")
        return self.info

    def read_calibration(self, timeout: float = 1.0) -> CalRecord | None:
        """The probe's calibration record (None if its EEPROM was never written).

        Raises CommandError, with BAD_RECORD in its text, if the stored record is damaged.
        """
        self.calibration = None  # never answer with a record from an earlier read
        self.command(FrameType.READ_CAL, timeout=timeout)
        return self.calibration

    def health(self) -> SourceHealth:
        """Decoder and assembler counters together with the reader's own."""
        d, a = self.decoder.stats, self.assembler.stats
        return SourceHealth(
            good_frames=d.frames, samples=a.samples, crc_errors=d.crc_errors,
            framing_errors=d.framing_errors + d.unknown_frames, lost_frames=a.lost,
            resyncs=self.resyncs, reconnects=self.reconnects, resets=a.resets,
            sink_errors=self.sink_errors, connected=self.connected, signal=not self._lost,
        )

    # -- the reader side ------------------------------------------------------------------

    def _probe_unknown_ports(self) -> bool:
        return True

    def _identify(self, ser: serial.SerialBase) -> tuple[bool, bytes]:
        """Send HELLO until an INFO arrives; ours if its serial number matches."""
        decoder = Decoder()
        got = bytearray()
        deadline = time.monotonic() + self.identify_timeout_s
        next_hello = 0.0
        self._id_hellos = 0
        while time.monotonic() < deadline and not self._stop.is_set():
            now = time.monotonic()
            if now >= next_hello:
                ser.write(encode_command(FrameType.HELLO, 0))
                self._id_hellos += 1
                next_hello = now + HELLO_RETRY_S
            data = ser.read(ser.in_waiting or 1)
            if not data:
                continue
            got += data
            for msg in decoder.feed(data).messages:
                if isinstance(msg, Info):
                    want = self.info.serial if self.info is not None else None
                    return (want is None or msg.serial == want), bytes(got)
        return False, b""

    def _link_restarted(self) -> None:
        self.assembler.link_restarted()
        # Our identification HELLOs are answered with INFO frames that are not banners.
        self._hellos_pending += self._id_hellos

    def _on_bytes(self, data: bytes, now: float) -> None:
        stats = self.decoder.stats
        bad_before = stats.crc_errors + stats.framing_errors + stats.unknown_frames
        decoded = self.decoder.feed(data)
        if stats.crc_errors + stats.framing_errors + stats.unknown_frames > bad_before:
            self.resyncs += 1
        for msg in decoded.messages:
            if isinstance(msg, Info):
                if self._hellos_pending > 0:
                    self._hellos_pending -= 1
                elif self.info is not None or self.assembler.stats.samples:
                    self.assembler.device_reset()
                self.info = msg
                self._emit(DeviceInfo(self._last_sample_t, msg.protocol, msg.firmware, msg.board,
                                      msg.adc, msg.rate_sps, msg.gain, msg.streaming, msg.serial,
                                      msg.caps))
                self._replies.put(msg)
            elif isinstance(msg, Ack):
                self._replies.put(msg)
            elif isinstance(msg, CalRecord):
                self.calibration = msg
                self._replies.put(msg)
            elif isinstance(msg, NoCalRecord):
                self.calibration = None
            elif isinstance(msg, Log):
                self._emit(DeviceLog(self._last_sample_t, msg.level, msg.text))
        if len(decoded.samples):
            batch, events = self.assembler.assemble(decoded.samples, now)
            for event in events:
                self._emit(event)
            self._deliver(batch, now)
