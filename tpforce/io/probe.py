"""The tpforce probe on any pyserial URL: wire protocol v1 frames into sample batches.

The reader thread and reconnect live in `tpforce.io.source.PortSource`, the greeting in
`tpforce.io.handshake`; this module speaks the rest of the probe's protocol
(firmware/PROTOCOL.md): decode frames, assemble samples, answer commands. `open()` returns
once the probe said who it is and what calibration it holds, so no sample is tracked before
its calibration is known.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time

import serial

from tpforce.core.calibration import Calibration
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
from tpforce.core.source import STALE_S, Device, Sink, SourceHealth, SourceOpenError
from tpforce.core.stream import StreamAssembler
from tpforce.io import handshake
from tpforce.io.calibration import record_calibration
from tpforce.io.source import CommandError, PortLister, PortSource

IDENTIFY_TIMEOUT_S = handshake.HELLO_TIMEOUT_S
HELLO_REPLY_S = 1.0  # an INFO this soon after one of our HELLOs is its answer, not a banner


WRITE_TIMEOUT_S = 5.0  # the ATmega328P needs about 90 ms to write the record; a busy host more


class CalWriteError(CommandError):
    """The probe did not take a calibration record, or holds another; the message says which."""


class ProbeSource(PortSource):
    """The tpforce probe: greets it, streams its samples to `sink`, sends commands."""

    frame_end = b"\x00"

    driver = "probe"

    def __init__(
        self,
        url: str,
        sink: Sink | None = None,
        baudrate: int = 115200,
        stale_s: float = STALE_S,
        reconnect: bool = True,
        lister: PortLister | None = None,
        identify_timeout_s: float = IDENTIFY_TIMEOUT_S,
        read_cal_timeout_s: float = handshake.READ_CAL_TIMEOUT_S,
        greet: bool = True,
    ) -> None:
        super().__init__(url, sink, baudrate, stale_s, reconnect, lister)
        self.decoder = Decoder()
        self.assembler = StreamAssembler()
        self.info: Info | None = None
        self.record: CalRecord | None = None  # the EEPROM record read at open()
        self.record_damaged = False  # READ_CAL answered BAD_RECORD
        self.handshake_retries = 0  # requests sent again at open() because answers were lost
        self.identify_timeout_s = identify_timeout_s
        self.read_cal_timeout_s = read_cal_timeout_s
        self._tokens = itertools.count(1)
        self._others: list[CalRecord | NoCalRecord | Info] = []
        self._replies: queue.Queue[Ack | CalRecord | NoCalRecord | Info] = queue.Queue()
        self.infos = 0  # INFO frames seen (banners and answers)
        self.greet = greet  # False: a link that only carries frames (loop:// in tests)
        self._hellos: list[float] = []  # until when each unanswered HELLO may be answered
        self._greeting_stop = threading.Event()

    # -- the interface --------------------------------------------------------------------

    @property
    def device(self) -> Device | None:
        """The probe as its INFO frame describes it."""
        info = self.info
        if info is None:
            return None
        return Device("tpforce probe", info.serial, float(info.rate_sps), info.firmware,
                      self.port)

    @property
    def nominal_rate_sps(self) -> float:
        """The probe's rate from its INFO frame."""
        return float(self.info.rate_sps) if self.info is not None else 0.0

    @property
    def calibration(self) -> Calibration | None:
        """The probe's own record (None: never written or damaged, see `record_damaged`)."""
        return record_calibration(self.record) if self.record is not None else None

    def close(self) -> None:
        """Stop the reader (and a greeting in progress) and close the port."""
        self._greeting_stop.set()
        super().close()

    # -- commands -------------------------------------------------------------------------

    def command(self, ftype: FrameType, args: bytes = b"", timeout: float = 1.0) -> Ack:
        """Send a command and wait for its ACK; raises CommandError on NACK or time-out."""
        token = next(self._tokens) & 0xFF or next(self._tokens) & 0xFF
        if ftype == FrameType.HELLO:
            self._expect_info(1, timeout)
        self.write(encode_command(ftype, token, args))
        self._others = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                if ftype == FrameType.HELLO and self._hellos:
                    # Unanswered: a late INFO taken for a banner costs nothing, while a real
                    # banner taken for this reply would hide a reset.
                    self._hellos.pop()
                raise CommandError(f"{ftype.name}: no answer from the device in {timeout:g} s")
            try:
                reply = self._replies.get(timeout=left)
            except queue.Empty:
                continue
            if not isinstance(reply, Ack):
                self._others.append(reply)  # what came before the ACK (CALIBRATION, INFO)
            elif reply.token == token and reply.command == ftype:
                if reply.status != Status.OK:
                    raise CommandError(f"{ftype.name} refused: {reply.status.name}")
                return reply

    def hello(self, timeout: float = 1.0) -> Info:
        """Ask the probe who it is again (it said so at `open()`); retried within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.infos
            try:
                self.command(FrameType.HELLO, timeout=min(handshake.RETRY_S,
                                                          max(deadline - time.monotonic(), 0.01)))
            except CommandError:
                if time.monotonic() >= deadline:
                    raise
            if self.infos > seen and self.info is not None:
                return self.info
            if time.monotonic() >= deadline:  # acknowledged, but every INFO was lost
                raise CommandError(f"HELLO: no INFO from the device in {timeout:g} s")

    def read_calibration(self, timeout: float = 2.0) -> CalRecord | None:
        """Read the EEPROM record now (None if never written); an ACK whose CALIBRATION
        frame was lost is asked again. CommandError with BAD_RECORD if it is damaged."""
        deadline = time.monotonic() + timeout
        while True:
            self._drain_replies()
            left = max(deadline - time.monotonic(), 0.01)
            try:
                self.command(FrameType.READ_CAL, timeout=min(handshake.RETRY_S * 2, left))
            except CommandError as exc:
                if "BAD_RECORD" in str(exc) or time.monotonic() >= deadline:
                    raise
                continue
            for reply in [*self._others, *self._drain_replies()]:
                if isinstance(reply, CalRecord | NoCalRecord):
                    self.record = reply if isinstance(reply, CalRecord) else None
                    return self.record
            if time.monotonic() >= deadline:
                raise CommandError(f"READ_CAL: no CALIBRATION frame in {timeout:g} s")

    def write_calibration(self, record: CalRecord,
                          timeout: float = WRITE_TIMEOUT_S) -> CalRecord:
        """Write `record` to the probe's EEPROM (WRITE_CAL), read it back and compare; the
        probe's copy when it matches. CalWriteError (a CommandError) when the probe refuses
        it (its reason named), does not answer, or reads back other bytes than were sent."""
        data = record.pack()
        try:
            self.command(FrameType.WRITE_CAL, data, timeout=timeout)
        except CommandError as exc:
            raise CalWriteError(f"the probe did not store the calibration ({exc}); its "
                                "previous record is unchanged only if it said so: read it back "
                                "with 'tpforce calibrate --verify'") from None
        try:
            back = self.read_calibration(timeout=timeout)
        except CommandError as exc:
            raise CalWriteError(f"the calibration was sent but could not be read back ({exc}); "
                                "write it again") from None
        if back is None or back.pack() != data:
            raise CalWriteError("the probe's EEPROM reads back a different record from the one "
                                "written: write it again; if it persists the EEPROM is worn")
        self.record_damaged = False
        return back

    def _drain_replies(self) -> list[Ack | CalRecord | NoCalRecord | Info]:
        out: list[Ack | CalRecord | NoCalRecord | Info] = []
        while True:
            try:
                out.append(self._replies.get_nowait())
            except queue.Empty:
                return out

    def health(self) -> SourceHealth:
        """Decoder and assembler counters together with the reader's own."""
        d, a = self.decoder.stats, self.assembler.stats
        return SourceHealth(
            good_frames=d.frames, samples=a.samples, crc_errors=d.crc_errors,
            framing_errors=d.framing_errors + d.unknown_frames, lost_frames=a.lost,
            resyncs=self.resyncs, reconnects=self.reconnects, resets=a.resets,
            sink_errors=self.sink_errors, connected=self.connected, signal=self.signal,
        )

    # -- the reader side ------------------------------------------------------------------

    def _on_connect(self, ser: serial.SerialBase) -> None:
        """The first open: greet the probe (INFO, then its record) before any sample."""
        if self.info is not None or not self.greet:
            return  # a reconnect: `_identify` greeted it already
        self._greeting_stop.clear()
        try:
            greeting = handshake.greet(ser, hello_timeout_s=self.identify_timeout_s,
                                       read_cal_timeout_s=self.read_cal_timeout_s,
                                       stop=self._greeting_stop)
        except handshake.HandshakeError as exc:
            raise SourceOpenError(f"{self.url}: the device does not answer as a tpforce probe "
                                  f"({exc}); try --driver for another gauge") from None
        self._greeted(greeting.info)
        self._expect_info(greeting.hellos_sent - 1)
        self.record, self.record_damaged = greeting.record, greeting.record_damaged
        self.handshake_retries = greeting.retries

    def _expect_info(self, hellos: int, within_s: float = 0.0) -> None:
        """`hellos` HELLOs are out: as many INFO frames soon after are answers, not banners."""
        until = time.monotonic() + HELLO_REPLY_S + within_s
        self._hellos = [t for t in self._hellos if t > time.monotonic()] + [until] * hellos

    def _is_reply(self, now: float) -> bool:
        """Take one outstanding HELLO for the INFO that just came, if one is still due."""
        self._hellos = [t for t in self._hellos if t > now]
        if self._hellos:
            self._hellos.pop(0)
            return True
        return False

    def _greeted(self, info: Info) -> None:
        self.info = info
        self.infos += 1
        self._emit(DeviceInfo(self.last_t_s, info.protocol, info.firmware, info.board,
                              info.adc, info.rate_sps, info.gain, info.streaming, info.serial,
                              info.caps))

    def _probe_unknown_ports(self) -> bool:
        return True

    def _identify(self, ser: serial.SerialBase) -> tuple[bool, bytes]:
        """Greet the device on `ser`; ours if the serial number in its INFO matches."""
        try:
            info, sent = handshake.hello(ser, self.identify_timeout_s, self.stopping)
        except handshake.HandshakeError:
            return False, b""
        want = self.info.serial if self.info is not None else None
        if want is not None and info.serial != want:
            return False, b""
        self._expect_info(sent - 1)
        return True, b""

    def _link_restarted(self) -> None:
        self.assembler.link_restarted()

    def _on_bytes(self, data: bytes, now: float) -> None:
        stats = self.decoder.stats
        bad_before = stats.crc_errors + stats.framing_errors + stats.unknown_frames
        decoded = self.decoder.feed(data)
        if stats.crc_errors + stats.framing_errors + stats.unknown_frames > bad_before:
            self.resyncs += 1
        for msg in decoded.messages:
            if isinstance(msg, Info):
                if not self._is_reply(time.monotonic()) and (self.info is not None
                                                             or self.assembler.stats.samples):
                    self.assembler.device_reset()  # a banner: the probe restarted
                self._greeted(msg)
                self._replies.put(msg)
            elif isinstance(msg, Ack | CalRecord | NoCalRecord):
                self._replies.put(msg)
            elif isinstance(msg, Log):
                self._emit(DeviceLog(self.last_t_s, msg.level, msg.text))
        if len(decoded.samples):
            batch, events = self.assembler.assemble(decoded.samples, now)
            for event in events:
                self._emit(event)
            self._deliver(batch, now)


__all__ = ["CommandError", "ProbeSource"]
