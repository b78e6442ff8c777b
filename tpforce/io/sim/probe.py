"""A virtual tpforce probe on a pseudo-terminal (or a TCP socket where there are no ptys).

It speaks wire protocol v1 exactly as the firmware does, so the demo and the tests go through
pyserial and the real reader end to end with no hardware.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
from dataclasses import dataclass

import numpy as np

from tpforce.core.protocol import (
    PROTOCOL_VERSION,
    Ack,
    CalRecord,
    Command,
    Decoder,
    FrameType,
    Info,
    Status,
    encode_frame,
    encode_sample,
)
from tpforce.io.sim.hand import Hand, ScriptedIntent, demo_script

BOARD_SIM = 0xFE
ADC_SIM = 0xFE
CAPS_ALL = 0b1111
FIRMWARE = "0.1.0"


@dataclass(frozen=True, slots=True)
class LoadCell:
    """How the simulated cell and ADC turn newtons into counts (a 10 kg cell on an HX711)."""

    zero_counts: int = 8_400
    counts_per_n: float = 42_000.0
    noise_counts: float = 40.0

    def counts(self, force_n: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Raw counts, clipped to the HX711's 24-bit range."""
        c = self.zero_counts + force_n * self.counts_per_n + rng.normal(0, self.noise_counts,
                                                                        len(force_n))
        return np.clip(np.rint(c), -(1 << 23), (1 << 23) - 1).astype(np.int64)


class _PtyLink:
    """The device end of a pseudo-terminal; the client opens `port` with pyserial."""

    def __init__(self) -> None:
        import tty

        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line editing, before anyone writes
        self.port = os.ttyname(self._slave)
        os.set_blocking(self.master, False)

    def fileno(self) -> int:
        return self.master

    def read(self) -> bytes:
        try:
            return os.read(self.master, 4096)
        except (BlockingIOError, OSError):
            return b""

    def write(self, data: bytes) -> int:
        try:
            return os.write(self.master, data)
        except BlockingIOError:
            return 0
        except OSError:
            return len(data)  # nobody listening: bytes go nowhere, as on a real wire

    def close(self) -> None:
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class _SocketLink:
    """A TCP listener on loopback for platforms without ptys; the client opens `socket://`."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.setblocking(False)
        self.port = f"socket://127.0.0.1:{self._server.getsockname()[1]}"
        self._conn: socket.socket | None = None

    def fileno(self) -> int:
        return (self._conn or self._server).fileno()

    def read(self) -> bytes:
        if self._conn is None:
            with contextlib.suppress(BlockingIOError):
                self._conn, _ = self._server.accept()
                self._conn.setblocking(False)
            return b""
        try:
            data = self._conn.recv(4096)
        except BlockingIOError:
            return b""
        except OSError:
            data = b""
        if not data:
            self._conn.close()
            self._conn = None
        return data

    def write(self, data: bytes) -> int:
        if self._conn is None:
            return len(data)
        try:
            return self._conn.send(data)
        except BlockingIOError:
            return 0
        except OSError:
            return len(data)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._server.close()


class SimProbe:
    """A virtual probe streaming a scripted, hand-shaped force in real time (or faster).

    Use as a context manager; `port` is what to hand to pyserial's `serial_for_url`.
    """

    def __init__(
        self,
        rate_sps: int = 80,
        intent: ScriptedIntent | None = None,
        hand: Hand | None = None,
        cell: LoadCell | None = None,
        serial: str = "SIM00001",
        speed: float = 1.0,
        seed: int = 0,
        transport: str = "auto",
    ) -> None:
        self.rate_sps = rate_sps
        self.intent = intent or ScriptedIntent(demo_script())
        self.hand = hand or Hand(seed=seed)
        self.cell = cell or LoadCell()
        self.serial = serial
        self.speed = speed
        self.gain = 0
        self.streaming = True
        self.cal = CalRecord(1, self.cell.zero_counts, 1.0 / self.cell.counts_per_n, 100,
                             0, serial, 0)
        self._rng = np.random.default_rng(seed + 1)
        use_pty = transport == "pty" or (transport == "auto" and hasattr(os, "openpty"))
        self._link: _PtyLink | _SocketLink = _PtyLink() if use_pty else _SocketLink()
        self._decoder = Decoder()
        self._out = bytearray()
        self._seq = 0
        self._k = 0  # samples generated since the loop's time origin
        self._t_dev_s = 0.0  # device clock, seconds since boot
        self._retime = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> str:
        """The device path (pty) or URL (socket) to open."""
        return self._link.port

    def info(self) -> Info:
        """The INFO record this probe reports."""
        return Info(PROTOCOL_VERSION, FIRMWARE, BOARD_SIM, ADC_SIM, self.rate_sps, self.gain,
                    self.streaming, self.serial, CAPS_ALL)

    def start(self) -> SimProbe:
        """Boot the device: send the banner and start streaming on a thread."""
        if self._thread is None:
            self._out += self.info().encode()
            self._thread = threading.Thread(target=self._run, name="sim-probe", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the device and close its end of the link; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self._link.close()

    def __enter__(self) -> SimProbe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the device loop ------------------------------------------------------------------

    def _run(self) -> None:
        t0 = time.monotonic()
        k0 = self._k
        while not self._stop.is_set():
            due = k0 + int((time.monotonic() - t0) * self.speed * self.rate_sps)
            if self.streaming and due > self._k:
                self._emit(due - self._k)
            elif not self.streaming:
                self._k = due
            self._flush()
            timeout = 0.5 / (self.rate_sps * self.speed)
            try:
                ready, _, _ = select.select([self._link], [], [], min(timeout, 0.01))
            except (OSError, ValueError):
                break
            if ready:
                data = self._link.read()
                if data:
                    for msg in self._decoder.feed(data).messages:
                        if isinstance(msg, Command):
                            self._handle(msg)
            if self._retime:  # the rate changed: pace from here at the new rate
                t0, k0, self._retime = time.monotonic(), self._k, False

    def _emit(self, n: int) -> None:
        t_s = self._t_dev_s + np.arange(n) / self.rate_sps
        self._t_dev_s += n / self.rate_sps
        intent, button = self.intent.at(t_s)
        force = self.hand.apply(t_s, intent)
        counts = self.cell.counts(force, self._rng)
        saturated = (counts >= (1 << 23) - 1) | (counts <= -(1 << 23))
        t_us = np.rint(t_s * 1e6).astype(np.int64)
        flags = button.astype(int) | (saturated.astype(int) << 1) | (self.gain << 3)
        frames = [
            encode_sample(self._seq + i, int(t_us[i]), int(counts[i]), int(flags[i]))
            for i in range(n)
        ]
        self._seq += n
        self._k += n
        self._out += b"".join(frames)

    def _flush(self) -> None:
        if len(self._out) > 1 << 16:  # nobody reads: a real host buffer overflows too
            del self._out[: len(self._out) - (1 << 16)]
        while self._out:
            sent = self._link.write(bytes(self._out))
            if sent <= 0:
                return
            del self._out[:sent]

    def _ack(self, cmd: Command, status: Status = Status.OK) -> None:
        self._out += encode_frame(FrameType.ACK, bytes((cmd.type, cmd.token, status)))

    def _handle(self, cmd: Command) -> None:
        t = cmd.type
        if t == FrameType.HELLO:
            self._out += self.info().encode()
            self._ack(cmd)
        elif t == FrameType.START:
            self._seq = 0
            self.streaming = True
            self._ack(cmd)
        elif t == FrameType.STOP:
            self.streaming = False
            self._ack(cmd)
        elif t == FrameType.SET_RATE:
            if len(cmd.args) != 2:
                return self._ack(cmd, Status.BAD_LENGTH)
            rate = int.from_bytes(cmd.args, "little")
            if not 1 <= rate <= 4000:
                return self._ack(cmd, Status.BAD_VALUE)
            self.rate_sps = rate
            self._retime = True
            self._ack(cmd)
        elif t == FrameType.SET_GAIN:
            if len(cmd.args) != 1 or cmd.args[0] > 2:
                return self._ack(cmd, Status.BAD_VALUE)
            self.gain = cmd.args[0]
            self._ack(cmd)
        elif t == FrameType.READ_CAL:
            self._out += encode_frame(FrameType.CALIBRATION, self.cal.pack())
            self._ack(cmd)
        elif t == FrameType.WRITE_CAL:
            record = CalRecord.unpack(cmd.args)
            if record is None:
                return self._ack(cmd, Status.BAD_RECORD)
            self.cal = record
            self.serial = record.serial
            self._ack(cmd)
        elif t == FrameType.IDENTIFY:
            self._ack(cmd)
        else:
            self._ack(cmd, Status.UNKNOWN_COMMAND)
        return None


__all__ = ["Ack", "LoadCell", "SimProbe"]
