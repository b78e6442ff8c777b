"""The tpforce probe on any pyserial URL: wire protocol v1 frames into sample batches.

`ProbeProtocol` is the probe's device protocol (firmware/PROTOCOL.md): decode frames,
assemble samples, tell a banner from an answer, match commands to their ACKs, and recognise
the probe on a port by its serial number; the greeting itself is `tpforce.io.handshake`.
`ProbeSource` puts it on a port (`tpforce.io.source.PortSource`: transport, reader thread,
watchdog, reconnect) and adds the probe's commands. `open()` returns once the probe said who
it is and what calibration it holds, so no sample is tracked before its calibration is known.
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
from tpforce.io.reconnect import PortLister, Reconnector
from tpforce.io.source import CommandError, DeviceProtocol, PortSource

IDENTIFY_TIMEOUT_S = handshake.HELLO_TIMEOUT_S
HELLO_REPLY_S = 1.0  # an INFO this soon after one of our HELLOs is its answer, not a banner


WRITE_TIMEOUT_S = 5.0  # the ATmega328P needs about 90 ms to write the record; a busy host more


class CalWriteError(CommandError):
    """The probe did not take a calibration record, or holds another; the message says which."""


class ProbeProtocol(DeviceProtocol):
    """The probe's wire protocol v1: frames to samples and events, commands to ACKs."""

    driver = "probe"
    frame_end = b"\x00"
    default_baudrate = 115200
    try_unknown_ports = True  # any port of the same VID:PID may hold it: HELLO tells

    def __init__(self, identify_timeout_s: float = IDENTIFY_TIMEOUT_S,
                 read_cal_timeout_s: float = handshake.READ_CAL_TIMEOUT_S,
                 greet: bool = True) -> None:
        super().__init__()
        self.decoder = Decoder()
        self.assembler = StreamAssembler()
        self.info: Info | None = None
        self.record: CalRecord | None = None  # the EEPROM record read at open()
        self.record_damaged = False  # READ_CAL answered BAD_RECORD
        self.handshake_retries = 0  # requests sent again at open() because answers were lost
        self.identify_timeout_s = identify_timeout_s
        self.read_cal_timeout_s = read_cal_timeout_s
        self.infos = 0  # INFO frames seen (banners and answers)
        self.greet = greet  # False: a link that only carries frames (loop:// in tests)
        self._tokens = itertools.count(1)
        self._others: list[CalRecord | NoCalRecord | Info] = []
        self._replies: queue.Queue[Ack | CalRecord | NoCalRecord | Info] = queue.Queue()
        self._hellos: list[float] = []  # until when each unanswered HELLO may be answered
        self._greeting_stop = threading.Event()

    # -- what the source reports ----------------------------------------------------------

    def device(self, where: str) -> Device | None:
        """The probe as its INFO frame describes it."""
        info = self.info
        if info is None:
            return None
        return Device("tpforce probe", info.serial, float(info.rate_sps), info.firmware, where)

    @property
    def nominal_rate_sps(self) -> float:
        """The probe's rate from its INFO frame."""
        return float(self.info.rate_sps) if self.info is not None else 0.0

    @property
    def calibration(self) -> Calibration | None:
        """The probe's own record (None: never written or damaged, see `record_damaged`)."""
        return record_calibration(self.record) if self.record is not None else None

    def health(self) -> SourceHealth:
        """Decoder and assembler counters."""
        d, a = self.decoder.stats, self.assembler.stats
        return SourceHealth(
            good_frames=d.frames, samples=a.samples, crc_errors=d.crc_errors,
            framing_errors=d.framing_errors + d.unknown_frames, lost_frames=a.lost,
            resyncs=self.resyncs, reconnects=0, resets=a.resets, sink_errors=0,
            connected=False, signal=False,
        )

    # -- commands -------------------------------------------------------------------------

    def command(self, ftype: FrameType, args: bytes = b"", timeout: float = 1.0) -> Ack:
        """Send a command and wait for its ACK; raises CommandError on NACK or time-out."""
        token = next(self._tokens) & 0xFF or next(self._tokens) & 0xFF
        if ftype == FrameType.HELLO:
            self._expect_info(1, timeout)
        self.link.write(encode_command(ftype, token, args))
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
        """Ask the probe who it is again; retried within `timeout`."""
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
        """Write `record` to the EEPROM (WRITE_CAL), read it back and compare; the probe's
        copy when it matches. CalWriteError when refused, unanswered or read back different."""
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

    # -- what the reader calls ------------------------------------------------------------

    def connection_made(self, ser: serial.SerialBase, first: bool) -> None:
        """The first open: greet the probe (INFO, then its record) before any sample.
        A reconnect needs nothing: `identify` greeted it already."""
        if not first or self.info is not None or not self.greet:
            return
        self._greeting_stop.clear()
        try:
            greeting = handshake.greet(ser, hello_timeout_s=self.identify_timeout_s,
                                       read_cal_timeout_s=self.read_cal_timeout_s,
                                       stop=self._greeting_stop)
        except handshake.HandshakeError as exc:
            raise SourceOpenError(f"{self.link.port}: the device does not answer as a tpforce "
                                  f"probe ({exc}); try --driver for another gauge") from None
        self._greeted(greeting.info)
        self._expect_info(greeting.hellos_sent - 1)
        self.record, self.record_damaged = greeting.record, greeting.record_damaged
        self.handshake_retries = greeting.retries

    def close(self) -> None:
        """End a greeting in progress."""
        self._greeting_stop.set()

    def identify(self, ser: serial.SerialBase) -> tuple[bool, bytes]:
        """Greet the device on `ser`; ours if the serial number in its INFO matches."""
        try:
            info, sent = handshake.hello(ser, self.identify_timeout_s, self.link.stopping)
        except handshake.HandshakeError:
            return False, b""
        want = self.info.serial if self.info is not None else None
        if want is not None and info.serial != want:
            return False, b""
        self._expect_info(sent - 1)
        return True, b""

    def link_restarted(self) -> None:
        """Arrival times from before a reconnect are no guide to those after it."""
        self.assembler.link_restarted()

    def data_received(self, data: bytes, now: float) -> None:
        """Frames to samples (delivered as one batch) and replies (queued for commands)."""
        link = self.link
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
                link.emit(DeviceLog(link.last_t_s, msg.level, msg.text))
        if len(decoded.samples):
            batch, events = self.assembler.assemble(decoded.samples, now)
            for event in events:
                link.emit(event)
            link.deliver(batch, now)

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
        link = self.link
        link.emit(DeviceInfo(link.last_t_s, info.protocol, info.firmware, info.board,
                             info.adc, info.rate_sps, info.gain, info.streaming, info.serial,
                             info.caps))


def _delegate(name: str, doc: str) -> property:
    """A read-write attribute of the source that lives on its protocol."""
    return property(lambda self: getattr(self.protocol, name),
                    lambda self, value: setattr(self.protocol, name, value), doc=doc)


class ProbeSource(PortSource):
    """The tpforce probe on a port: greets it, streams its samples to `sink`, sends commands."""

    protocol: ProbeProtocol

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
        protocol: ProbeProtocol | None = None,
        reconnector: Reconnector | None = None,
    ) -> None:
        proto = protocol if protocol is not None else ProbeProtocol(
            identify_timeout_s, read_cal_timeout_s, greet)
        super().__init__(url, sink, baudrate, stale_s, reconnect, lister, protocol=proto,
                         reconnector=reconnector)

    decoder = _delegate("decoder", "The frame decoder (its `stats` count frames and errors).")
    assembler = _delegate("assembler", "The sample assembler (its `stats` count losses).")
    info = _delegate("info", "The probe's INFO (None before it answered).")
    record = _delegate("record", "The EEPROM record read at open() (None: none).")
    record_damaged = _delegate("record_damaged", "READ_CAL answered BAD_RECORD.")
    handshake_retries = _delegate("handshake_retries",
                                  "Requests sent again at open() because answers were lost.")
    infos = _delegate("infos", "INFO frames seen (banners and answers).")
    greet = _delegate("greet", "False: a link that only carries frames.")
    identify_timeout_s = _delegate("identify_timeout_s", "How long HELLO is tried.")
    read_cal_timeout_s = _delegate("read_cal_timeout_s", "How long READ_CAL is tried.")

    def command(self, ftype: FrameType, args: bytes = b"", timeout: float = 1.0) -> Ack:
        """Send a command and wait for its ACK; raises CommandError on NACK or time-out."""
        return self.protocol.command(ftype, args, timeout)

    def hello(self, timeout: float = 1.0) -> Info:
        """Ask the probe who it is again (it said so at `open()`); retried within `timeout`."""
        return self.protocol.hello(timeout)

    def read_calibration(self, timeout: float = 2.0) -> CalRecord | None:
        """Read the EEPROM record now (None if never written); see `ProbeProtocol`."""
        return self.protocol.read_calibration(timeout)

    def write_calibration(self, record: CalRecord,
                          timeout: float = WRITE_TIMEOUT_S) -> CalRecord:
        """Write `record` to the EEPROM and read it back; see `ProbeProtocol`."""
        return self.protocol.write_calibration(record, timeout)


__all__ = ["CalWriteError", "CommandError", "ProbeProtocol", "ProbeSource"]
