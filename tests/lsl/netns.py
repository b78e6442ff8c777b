"""LSL scenarios run inside a network namespace whose only interface is loopback.

liblsl binds its TCP data server and UDP time server to the wildcard address whatever its
configuration says, so the tests give it a namespace (`unshare -rn`) in which the wildcard
reaches 127.0.0.1 and nothing else, and a configuration (lsl_api.cfg here, via LSLAPICFG,
set before pylsl is imported) that resolves on this machine only. Run as
`python tests/lsl/netns.py SCENARIO [ARGS...]`; the result is one JSON object on stdout.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CFG = HERE / "lsl_api.cfg"
os.environ["LSLAPICFG"] = str(CFG)  # before anything imports pylsl
DEADLINE_S = 60.0
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def loopback_up() -> None:
    """Bring `lo` up (a fresh namespace starts with it down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def interfaces(pid: int | str = "self") -> list[str]:
    """Names of the network interfaces the process `pid` sees."""
    lines = Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]
    return [line.split(":")[0].strip() for line in lines]


def sockets(pid: int | str = "self") -> list[dict[str, str]]:
    """Every inet socket the process holds: protocol, local address, remote, TCP state."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    out = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        for line in Path(f"/proc/{pid}/net/{proto}").read_text().splitlines()[1:]:
            f = line.split()
            if f[9] in inodes:
                out.append({"proto": proto, "local": _addr(f[1]), "remote": _addr(f[2]),
                            "state": f[3]})
    return out


def _addr(hexaddr: str) -> str:
    ip, port = hexaddr.split(":")
    if len(ip) == 8:
        return f"{socket.inet_ntoa(struct.pack('<I', int(ip, 16)))}:{int(port, 16)}"
    return f"[{ip}]:{int(port, 16)}"


def tpforce(*args: str) -> subprocess.Popen[str]:
    """`tpforce ARGS` as a child with piped output."""
    return subprocess.Popen([sys.executable, "-m", "tpforce", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _lines(stream: Any, into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


def publish(name: str, *extra: str) -> dict[str, Any]:
    """`tpforce stream --port sim --lsl NAME`, read back by pylsl inlets."""
    import pylsl

    sender = tpforce("stream", "--port", "sim", "--lsl", name, "--lsl-wait", "30",
                     "--duration", "2", *extra)
    try:
        found = {}
        for stream_name in (name + "-markers", name):
            infos = pylsl.resolve_byprop("name", stream_name, 1, 30.0)
            found[stream_name] = infos[0]
        markers = pylsl.StreamInlet(found[name + "-markers"])
        markers.open_stream(timeout=30.0)  # the sender waits for the force stream's reader
        force = pylsl.StreamInlet(found[name])
        force.open_stream(timeout=30.0)
        header = force.info().as_xml()
        values: list[float] = []
        stamps: list[float] = []
        texts: list[str] = []
        held: list[dict[str, str]] = []
        deadline = time.monotonic() + DEADLINE_S
        csv = err = None
        while time.monotonic() < deadline:
            chunk, ts = force.pull_chunk(timeout=0.05)
            values += [row[0] for row in chunk]
            stamps += ts
            mchunk, _ = markers.pull_chunk(timeout=0.0)
            texts += [row[0] for row in mchunk]
            if values and not held and sender.poll() is None:
                held = sockets(sender.pid)
            if csv is None and sender.poll() is not None:
                csv, err = sender.communicate()
            if csv is not None:
                n_samples = sum(1 for line in csv.splitlines()[1:] if not line.startswith("#"))
                n_events = sum(1 for line in csv.splitlines() if line.startswith("# "))
                if len(values) >= n_samples and len(texts) >= n_events:
                    break
        return {"csv": csv, "stderr": err, "rc": sender.returncode, "values": values,
                "stamps": stamps, "markers": texts, "header": header, "sockets": held,
                "interfaces": interfaces(sender.pid) if sender.poll() is None else interfaces()}
    finally:
        _stop(sender)


def roundtrip(name: str) -> dict[str, Any]:
    """`tpforce stream --port sim --lsl NAME` into `tpforce stream --port lsl:NAME`."""
    sender = tpforce("stream", "--port", "sim", "--lsl", name, "--lsl-wait", "30",
                     "--duration", "2")
    receiver = tpforce("stream", "--port", f"lsl:{name}")
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_lines, args=(receiver.stdout, lines), daemon=True).start()
    got: list[str] = []
    try:
        csv, err = sender.communicate(timeout=DEADLINE_S)
        n = sum(1 for line in csv.splitlines()[1:] if not line.startswith("#"))
        deadline = time.monotonic() + DEADLINE_S
        while sum(1 for g in got[1:] if not g.startswith("#")) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            got.append(line)
    finally:
        _stop(sender)
        receiver.send_signal(signal.SIGINT)
        try:
            _, rerr = receiver.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            receiver.kill()
            _, rerr = receiver.communicate()
    return {"sent": csv, "stderr": err, "received": "".join(got), "receiver_stderr": rerr,
            "receiver_rc": receiver.returncode}


def inlet(name: str) -> dict[str, Any]:
    """An `LslInlet` on a pylsl outlet that pauses: SignalLost, then SignalRestored."""
    import numpy as np
    import pylsl

    from tpforce.core.events import SignalLost, SignalRestored
    from tpforce.core.source import Source
    from tpforce.io.drivers import DRIVER_CALIBRATION
    from tpforce.io.lsl import LslInlet

    class Sink:
        def __init__(self) -> None:
            self.items: queue.Queue[Any] = queue.Queue()

        def on_batch(self, batch: Any) -> None:
            self.items.put(batch.copy())

        def on_event(self, event: Any) -> None:
            self.items.put(event)

        def close(self) -> None:
            pass

    def until(pred: Any) -> list[Any]:
        seen = []
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            try:
                item = sink.items.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            seen.append(item)
            if pred(item, seen):
                break
        return seen

    def samples(seen: list[Any]) -> int:
        return sum(len(x) for x in seen if isinstance(x, np.ndarray))

    info = pylsl.StreamInfo(name, "Force", 1, 100.0, pylsl.cf_float32, "test-" + name)
    outlet = pylsl.StreamOutlet(info)
    sink = Sink()
    src = LslInlet(name, sink, stale_s=0.2)
    result: dict[str, Any] = {"is_source": isinstance(src, Source),
                              "device_before": src.device is not None}
    with src as opened:
        result["opened_self"] = opened is src
        dev = src.device
        result["device"] = [dev.name, dev.where, dev.rate_sps, dev.label] if dev else None
        result["rate"] = src.nominal_rate_sps
        result["calibration_is_gauges"] = src.calibration == DRIVER_CALIBRATION
        t0 = pylsl.local_clock()
        first = np.array([[1.5], [2.25], [-0.5]], dtype=np.float32)
        outlet.push_chunk(first, [t0, t0 + 0.01, t0 + 0.02])
        seen = until(lambda _item, s: samples(s) >= 3)
        seen += until(lambda item, _s: isinstance(item, SignalLost))
        outlet.push_chunk(np.array([[4.0]], dtype=np.float32), [t0 + 1.0])
        seen += until(lambda item, _s: isinstance(item, SignalRestored))
        seen += until(lambda _item, s: samples(s) >= 1)
        health = src.health()
    src.close()  # a second close is harmless
    batches = [x for x in seen if isinstance(x, np.ndarray)]
    rows: Any = np.concatenate(batches) if batches else np.zeros(0)
    result.update({
        "kinds": [type(x).__name__ for x in seen if not isinstance(x, np.ndarray)],
        "force": rows["force_n"].tolist() if len(rows) else [],
        "raw": rows["raw"].tolist() if len(rows) else [],
        "t_s": rows["t_s"].tolist() if len(rows) else [],
        "seq": rows["seq"].tolist() if len(rows) else [],
        "dtype": str(rows.dtype) if len(rows) else "",
        "pushed_t": [t0, t0 + 0.01, t0 + 0.02, t0 + 1.0],
        "gap_s": next((x.gap_s for x in seen if isinstance(x, SignalRestored)), None),
        "health_samples": health.samples,
        "health_signal": health.signal,
    })
    return result


def session(name: str) -> dict[str, Any]:
    """A processor's session events (holds, marks, alarms) through an `LslOutlet`."""
    import numpy as np
    import pylsl

    from tpforce.core.band import Band
    from tpforce.core.calibration import Calibration
    from tpforce.core.processor import Processor
    from tpforce.core.samples import batch_from_force
    from tpforce.core.tracker import HoldConfig, Tracker
    from tpforce.io.lsl import ForceStreamInfo, LslOutlet
    from tpforce.io.recorder import event_to_dict

    class Events:
        def __init__(self) -> None:
            self.seen: list[Any] = []

        def on_batch(self, batch: Any) -> None:
            pass

        def on_event(self, event: Any) -> None:
            self.seen.append(event)

        def close(self) -> None:
            pass

    outlet = LslOutlet(name, ForceStreamInfo(rate_hz=100.0))
    inlet = pylsl.StreamInlet(pylsl.resolve_byprop("name", name + "-markers", 1, 30.0)[0])
    inlet.open_stream(timeout=30.0)
    events = Events()
    processor = Processor(Calibration(n_per_count=1e-6), Tracker(HoldConfig(filter_window_s=0.0),
                                                                 Band(15.0, 18.0, 20.0)),
                          [outlet, events])
    processor.set_target_s(1.0)
    rate, base = 100, 1000.0
    pieces = [(0.5, 0.0), (1.5, 16.5), (0.3, 25.0), (0.5, 16.5), (0.5, 0.0)]
    force = np.concatenate([np.full(round(d * rate), f) for d, f in pieces])
    t = np.arange(len(force)) / rate
    batch = batch_from_force(t, force)
    batch["raw"] = np.round(force * 1e6)
    batch["t_host_s"] = t + base
    for k in range(0, len(batch), 10):
        processor.on_batch(batch[k:k + 10].copy())
        if k == 150:
            processor.mark_threshold()
    processor.stop_hold()
    want = [event_to_dict(e) for e in events.seen]
    texts: list[str] = []
    stamps: list[float] = []
    deadline = time.monotonic() + DEADLINE_S
    while len(texts) < len(want) and time.monotonic() < deadline:
        chunk, ts = inlet.pull_chunk(timeout=0.05)
        texts += [row[0] for row in chunk]
        stamps += ts
    processor.close()
    return {"want": json.loads(json.dumps(want)), "got": [json.loads(x) for x in texts],
            "stamps": stamps, "t_s": [e.t_s for e in events.seen], "base": base,
            "offset": outlet.offset_s}


def live(name: str) -> dict[str, Any]:
    """`tpforce live --port sim --lsl NAME` (offscreen window): a pylsl inlet reads it."""
    import pylsl

    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    window = tpforce("live", "--port", "sim", "--lsl", name, "--duration", "20",
                     "--settings", os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                                f"{name}.ini"))
    try:
        inlet = pylsl.StreamInlet(pylsl.resolve_byprop("name", name, 1, 60.0)[0])
        inlet.open_stream(timeout=30.0)
        header = inlet.info().as_xml()
        values: list[float] = []
        stamps: list[float] = []
        deadline = time.monotonic() + DEADLINE_S
        while len(values) < 80 and time.monotonic() < deadline:
            chunk, ts = inlet.pull_chunk(timeout=0.05)
            values += [row[0] for row in chunk]
            stamps += ts
        return {"values": values, "stamps": stamps, "header": header,
                "alive": window.poll() is None}
    finally:
        _stop(window)


def missing(name: str) -> dict[str, Any]:
    """`tpforce stream --port lsl:NAME` where no such stream exists."""
    proc = tpforce("stream", "--port", f"lsl:{name}", "--duration", "1")
    out, err = proc.communicate(timeout=DEADLINE_S)
    return {"rc": proc.returncode, "stdout": out, "stderr": err}


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


SCENARIOS = {"publish": publish, "roundtrip": roundtrip, "inlet": inlet, "session": session,
             "live": live,
             "missing": missing}

if __name__ == "__main__":
    loopback_up()
    scenario, *rest = sys.argv[1:]
    print(json.dumps({"interfaces_self": interfaces(), **SCENARIOS[scenario](*rest)}))
