"""The device end of a simulated link: a pseudo-terminal, or a TCP socket where there are none."""

from __future__ import annotations

import contextlib
import os
import socket


class PtyLink:
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


class SocketLink:
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
