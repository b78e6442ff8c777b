"""Emulators of ASCII force gauges on a pty, for the drivers' tests and for rehearsal.

Each speaks its model's command set (docs/domain.md) and replies with readings taken in turn
from a list of exact strings, so a test can check the driver's newtons to the last bit.
"""

from __future__ import annotations

import contextlib
import select
import threading
import time

from tpforce.io.sim.links import PtyLink

MODELS = ("ascii", "mark10", "wagner", "fdix", "shimpo")


class GaugeEmulator:
    """A virtual gauge of `model` on a pty; `port` is what the driver opens.

    `readings` are (number text, unit) pairs sent in turn, looping. Polled models answer
    each `?`; streaming models send `rate_hz` lines a second once armed.
    """

    def __init__(self, model: str, readings: list[tuple[str, str]], rate_hz: float = 50.0,
                 template: str = "{value} {unit}") -> None:
        if model not in MODELS:
            raise ValueError(f"unknown gauge model {model!r}")
        self.model = model
        self.readings = readings
        self.rate_hz = rate_hz
        self.template = template
        self.sent = 0  # readings sent so far
        self.commands: list[bytes] = []
        self.streaming = model == "ascii"
        self._link = PtyLink()
        self._buf = b""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> str:
        """The pty to open."""
        return self._link.port

    def start(self) -> GaugeEmulator:
        """Power the gauge on."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"sim-{self.model}",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Power off and close the pty; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        self._link.close()

    def __enter__(self) -> GaugeEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def power_cycle(self) -> None:
        """Lose the continuous-output state, as an FDIX or Shimpo does when switched off."""
        self.streaming = self.model == "ascii"

    def _line(self) -> bytes:
        value, unit = self.readings[self.sent % len(self.readings)]
        self.sent += 1
        if self.model == "wagner" or self.model == "fdix":
            sign = "-" if value.startswith("-") else " "
            text = f"{sign} {value.lstrip('-+')} {unit}"
        elif self.model == "shimpo":
            text = f"{value if value.startswith('-') else '+' + value}{unit}"
        else:
            text = self.template.format(value=value, unit=unit)
        return text.encode("ascii") + b"\r\n"

    def _run(self) -> None:
        next_line = time.monotonic()
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._link], [], [], 0.002)
            except (OSError, ValueError):
                return
            if ready:
                self._commands(self._link.read())
            if self.streaming and time.monotonic() >= next_line:
                self._link.write(self._line())
                next_line = max(next_line + 1.0 / self.rate_hz, time.monotonic() - 0.1)

    def _commands(self, data: bytes) -> None:
        self._buf += data
        while True:
            if self.model == "mark10" and self._buf.startswith(b"?"):
                cmd, self._buf = b"?", self._buf[1:].lstrip(b"\r\n")
            else:
                end = min((i for i in (self._buf.find(b"\r"), self._buf.find(b"\n")) if i >= 0),
                          default=-1)
                if end < 0:
                    return
                cmd, self._buf = self._buf[:end], self._buf[end + 1:].lstrip(b"\r\n")
            if not cmd:
                continue
            self.commands.append(cmd)
            self._answer(cmd)

    def _answer(self, cmd: bytes) -> None:
        m = self.model
        if m == "shimpo":
            self._link.write(cmd + b"\r\n")  # echo
        if cmd == b"?" and m in ("mark10", "wagner"):
            self._link.write(self._line())
        elif m == "mark10" and cmd.startswith(b"*"):
            self._link.write(b"E\r\n")  # illegal command
        elif m == "fdix" and cmd.startswith(b"C") and cmd[1:].replace(b".", b"").isdigit():
            with contextlib.suppress(ValueError):
                self.rate_hz = float(cmd[1:])
        elif (m == "fdix" and cmd == b"CB") or (m == "shimpo" and cmd == b"BB"):
            self.streaming = True
        elif (m == "fdix" and cmd == b"CE") or (m == "shimpo" and cmd == b"AB"):
            self.streaming = False
