"""A virtual tpforce probe on a pseudo-terminal (or a TCP socket where there are no ptys).

It speaks wire protocol v1 exactly as the firmware does, so the demo and the tests go through
pyserial and the real reader end to end with no hardware. It can run in real time, faster,
or unpaced (as fast as the reader drains the port), and it can misbehave on purpose
(`Faults`): corrupt and drop bytes, be unplugged and come back under another name, reset,
or stall, so that anyone can rehearse a failure.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import threading
import time
from dataclasses import dataclass

import numpy as np

from tpforce.core.protocol import (
    PROTOCOL_VERSION,
    CalRecord,
    Command,
    Decoder,
    FrameType,
    Info,
    NoCalRecord,
    Status,
    encode_frame,
    encode_sample,
)
from tpforce.io.sim.cell import SimCell
from tpforce.io.sim.faults import Faults
from tpforce.io.sim.hand import Hand, ScriptedIntent, demo_script
from tpforce.io.sim.links import PtyLink, SocketLink

BOARD_SIM = 0xFE
ADC_SIM = 0xFE
CAPS_ALL = 0b1111
FIRMWARE = "0.1.0"
UNPACED_CHUNK = 256
HISTORY_DTYPE = np.dtype([("seq", "<i8"), ("t_us", "<i8"), ("raw", "<i4")])


@dataclass(frozen=True, slots=True)
class LoadCell:
    """How the simulated cell and ADC turn newtons into counts (a 10 kg cell on an HX711)."""

    zero_counts: int = 8_400
    counts_per_n: float = 42_000.0
    noise_counts: float = 40.0

    def counts(self, force_n: np.ndarray, rng: np.random.Generator,
               t_s: np.ndarray | None = None) -> np.ndarray:
        """Raw counts, clipped to the HX711's 24-bit range (`t_s` is for models with memory)."""
        c = self.zero_counts + force_n * self.counts_per_n + rng.normal(0, self.noise_counts,
                                                                        len(force_n))
        return np.clip(np.rint(c), -(1 << 23), (1 << 23) - 1).astype(np.int64)


class SimProbe:
    """A virtual probe streaming a scripted, hand-shaped force in real time (or faster).

    Use as a context manager; `port` is what to hand to pyserial's `serial_for_url`.
    `speed=0` (or infinity) runs unpaced: samples are made as fast as the reader takes them.
    `link_path` keeps a symlink to the current port, stable across unplug/replug.
    """

    def __init__(
        self,
        rate_sps: int = 80,
        intent: ScriptedIntent | None = None,
        hand: Hand | None = None,
        cell: LoadCell | SimCell | None = None,
        serial: str = "SIM00001",
        speed: float = 1.0,
        seed: int = 0,
        transport: str = "auto",
        faults: Faults | None = None,
        link_path: str | None = None,
        max_samples: int | None = None,
        keep_history: bool = False,
    ) -> None:
        self.rate_sps = rate_sps
        self.intent = intent or ScriptedIntent(demo_script())
        self.hand = hand or Hand(seed=seed)
        self.cell: LoadCell | SimCell = cell or LoadCell()
        self.serial = serial
        self.speed = speed
        self.unpaced = speed <= 0 or math.isinf(speed)
        self.faults = faults or Faults()
        self.link_path = link_path
        self.max_samples = max_samples
        self.gain = 0
        self.streaming = True
        self.cal_damaged = False  # answer READ_CAL as a probe with a corrupted EEPROM would
        self.cal: CalRecord | None = CalRecord(
            1, self.cell.zero_counts, 1.0 / self.cell.counts_per_n, 100, 0, serial, 0)
        self.plugged = threading.Event()  # set while the cable is in
        self.plugs = 0  # how many times it was plugged back in
        self.resets = 0
        self.sent = 0  # sample frames made since the start (across resets)
        self.history: list[np.ndarray] | None = [] if keep_history else None
        self._rng = np.random.default_rng(seed + 1)
        self._fault_rng = np.random.default_rng(seed + 2)
        self._use_pty = transport == "pty" or (transport == "auto" and hasattr(os, "openpty"))
        self._link: PtyLink | SocketLink | None = self._new_link()
        self._last_port = self._link.port
        self._decoder = Decoder()
        self._out = bytearray()
        self._seq = 0
        self._k = 0  # samples due since the loop's time origin
        self._t_dev_s = 0.0  # device clock, seconds since boot
        self._retime = False
        self._lock = threading.Lock()  # requests from other threads
        self._requests: list[tuple[str, float, bool]] = []
        self._replug_at: float | None = None
        self._replug_reset = False
        self._stall_until = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.plugged.set()
        self._update_symlink()

    # -- the outside ----------------------------------------------------------------------

    @property
    def port(self) -> str:
        """The device path (pty) or URL (socket) to open; the last one while unplugged."""
        return self._link.port if self._link is not None else self._last_port

    def ports(self) -> list[str]:
        """The port this probe is on now, or none while unplugged (a port lister for tests)."""
        link = self._link
        return [link.port] if link is not None and self.plugged.is_set() else []

    def info(self) -> Info:
        """The INFO record this probe reports."""
        return Info(PROTOCOL_VERSION, FIRMWARE, BOARD_SIM, ADC_SIM, self.rate_sps, self.gain,
                    self.streaming, self.serial, CAPS_ALL)

    def start(self) -> SimProbe:
        """Boot the device: send the banner and start streaming on a thread."""
        if self._thread is None:
            self._send(b"\x00" + self.info().encode())  # lone delimiter, then the banner
            self._thread = threading.Thread(target=self._run, name="sim-probe", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the device and close its end of the link; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        if self._link is not None:
            self._link.close()
            self._link = None
        self.plugged.clear()
        if self.link_path:
            with contextlib.suppress(OSError):
                os.unlink(self.link_path)

    def __enter__(self) -> SimProbe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self, for_s: float = 1.0, reset: bool | None = None) -> None:
        """Pull the cable now and plug it back in after `for_s` (rebooting if `reset`)."""
        self._request("unplug", for_s, self.faults.reset_on_replug if reset is None else reset)

    def reset(self) -> None:
        """Reboot the board: banner, sequence and clock from 0."""
        self._request("reset", 0.0, True)

    def stall(self, for_s: float) -> None:
        """The ADC stops converting for `for_s`; the port stays open."""
        self._request("stall", for_s, False)

    def history_array(self) -> np.ndarray:
        """Every sample made so far (seq, t_us, raw), when built with keep_history."""
        if not self.history:
            return np.zeros(0, dtype=HISTORY_DTYPE)
        with self._lock:
            return np.concatenate(self.history)

    def _request(self, what: str, for_s: float, reset: bool) -> None:
        with self._lock:
            self._requests.append((what, for_s, reset))

    # -- the link -------------------------------------------------------------------------

    def _new_link(self) -> PtyLink | SocketLink:
        return PtyLink() if self._use_pty else SocketLink()

    def _update_symlink(self) -> None:
        if not self.link_path or self._link is None or "://" in self._link.port:
            return
        tmp = f"{self.link_path}.{os.getpid()}.tmp"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.symlink(self._link.port, tmp)
        os.replace(tmp, self.link_path)

    def _do_unplug(self, for_s: float, reset: bool, now: float) -> None:
        if self._link is None:
            return
        self.plugged.clear()
        self._last_port = self._link.port
        self._link.close()
        self._link = None
        self._out.clear()
        self._decoder = Decoder()
        self._replug_at = now + for_s
        self._replug_reset = reset

    def _do_replug(self) -> None:
        self._link = self._new_link()
        self._replug_at = None
        self.plugs += 1
        self._update_symlink()
        if self._replug_reset:
            self._do_reset()
        self.plugged.set()

    def _do_reset(self) -> None:
        self.resets += 1
        self._seq = 0
        self._t_dev_s = 0.0
        self.gain = 0
        self.streaming = True
        self._out.clear()
        self._send(b"\x00" + self.info().encode())  # a frame cut by the reset ends here

    def _send(self, data: bytes) -> None:
        """Queue bytes for the wire, through the link's faults; gone if unplugged."""
        if self._link is None:
            return
        self._out += self.faults.mangle(data, self._fault_rng)

    # -- the device loop ------------------------------------------------------------------

    def _run(self) -> None:
        t0 = time.monotonic()
        k0 = self._k
        f = self.faults
        next_unplug = t0 + f.unplug_every_s if f.unplug_every_s > 0 else math.inf
        next_reset = t0 + f.reset_every_s if f.reset_every_s > 0 else math.inf
        next_stall = t0 + f.stall_every_s if f.stall_every_s > 0 else math.inf
        while not self._stop.is_set():
            now = time.monotonic()
            with self._lock:
                requests, self._requests = self._requests, []
            if now >= next_unplug:
                requests.append(("unplug", f.unplug_for_s, f.reset_on_replug))
                next_unplug = now + f.unplug_every_s
            if now >= next_reset:
                requests.append(("reset", 0.0, True))
                next_reset = now + f.reset_every_s
            if now >= next_stall:
                requests.append(("stall", f.stall_for_s, False))
                next_stall = now + f.stall_every_s
            for what, for_s, reset in requests:
                if what == "unplug":
                    self._do_unplug(for_s, reset, now)
                elif what == "reset":
                    self._do_reset()
                elif what == "stall":
                    self._stall_until = now + for_s
            if self._replug_at is not None and now >= self._replug_at:
                self._do_replug()
            stalled = now < self._stall_until
            if self.unpaced:
                room = self.max_samples - self.sent if self.max_samples is not None else \
                    UNPACED_CHUNK
                if self.streaming and not stalled and len(self._out) < 8192 and room > 0 \
                        and self._link is not None:
                    self._emit(min(UNPACED_CHUNK, room))
            else:
                due = k0 + int((now - t0) * self.speed * self.rate_sps)
                if self.max_samples is not None:
                    due = min(due, self._k + max(self.max_samples - self.sent, 0))
                if due > self._k:
                    if self.streaming and not stalled:
                        self._emit(due - self._k)
                    else:
                        self._t_dev_s += (due - self._k) / self.rate_sps
                        self._k = due
            self._flush()
            self._serve(0.0005 if self.unpaced and self._out else
                        min(0.5 / (self.rate_sps * (self.speed if not self.unpaced else 1)),
                            0.01))
            if self._retime:  # the rate changed: pace from here at the new rate
                t0, k0, self._retime = time.monotonic(), self._k, False

    def _serve(self, timeout: float) -> None:
        """Wait for commands (or for the link to drain) and answer them."""
        link = self._link
        if link is None:
            self._stop.wait(timeout)
            return
        wlist = [link] if self._out else []
        try:
            ready, _, _ = select.select([link], wlist, [], timeout)
        except (OSError, ValueError):
            return
        if ready:
            data = link.read()
            if data:
                for msg in self._decoder.feed(data).messages:
                    if isinstance(msg, Command):
                        self._handle(msg)

    def _emit(self, n: int) -> None:
        t_s = self._t_dev_s + np.arange(n) / self.rate_sps
        self._t_dev_s += n / self.rate_sps
        intent, button = self.intent.at(t_s)
        force = self.hand.apply(t_s, intent)
        counts = self.cell.counts(force, self._rng, t_s)
        saturated = (counts >= (1 << 23) - 1) | (counts <= -(1 << 23))
        t_us = np.rint(t_s * 1e6).astype(np.int64)
        flags = button.astype(int) | (saturated.astype(int) << 1) | (self.gain << 3)
        frames = [
            encode_sample(self._seq + i, int(t_us[i]), int(counts[i]), int(flags[i]))
            for i in range(n)
        ]
        if self.history is not None:
            rows = np.zeros(n, dtype=HISTORY_DTYPE)
            rows["seq"] = np.arange(self._seq, self._seq + n)
            rows["t_us"] = t_us
            rows["raw"] = counts
            with self._lock:
                self.history.append(rows)
        self._seq += n
        self._k += n
        self.sent += n
        self._send(b"".join(frames))

    def _flush(self) -> None:
        link = self._link
        if link is None:
            self._out.clear()
            return
        if not self.unpaced and len(self._out) > 1 << 16:
            del self._out[: len(self._out) - (1 << 16)]  # nobody reads: a host buffer overflows
        while self._out:
            sent = link.write(bytes(self._out[:4096]))
            if sent <= 0:
                return
            del self._out[:sent]

    def _ack(self, cmd: Command, status: Status = Status.OK) -> None:
        self._send(encode_frame(FrameType.ACK, bytes((cmd.type, cmd.token, status))))

    def _handle(self, cmd: Command) -> None:
        t = cmd.type
        if t == FrameType.HELLO:
            self._send(self.info().encode())
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
            record = self.cal.pack() if self.cal is not None else NoCalRecord.pack()
            if self.cal_damaged:  # a flipped bit in the EEPROM: the record's CRC fails
                record = bytes((record[0], record[1] ^ 0x04)) + record[2:]
            self._send(encode_frame(FrameType.CALIBRATION, record))
            self._ack(cmd, Status.BAD_RECORD if self.cal_damaged else Status.OK)
        elif t == FrameType.WRITE_CAL:
            written = CalRecord.unpack(cmd.args)
            if written is None:
                return self._ack(cmd, Status.BAD_RECORD)
            self.cal = written
            self.serial = written.serial
            self._ack(cmd)
        elif t == FrameType.IDENTIFY:
            self._ack(cmd)
        else:
            self._ack(cmd, Status.UNKNOWN_COMMAND)
        return None


__all__ = ["LoadCell", "SimProbe"]
