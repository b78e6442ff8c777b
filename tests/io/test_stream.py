"""The stream assembler and clock map on their own: wraparound, resets, jitter and drift."""

from __future__ import annotations

import numpy as np

from tpforce.core.events import DeviceReset, FramesLost
from tpforce.core.protocol import SAMPLE_WIRE_DTYPE
from tpforce.core.samples import SampleFlag
from tpforce.core.stream import WRAP, ClockMap, StreamAssembler


def wire(seq: np.ndarray, t_us: np.ndarray) -> np.ndarray:
    w = np.zeros(len(seq), dtype=SAMPLE_WIRE_DTYPE)
    w["seq"] = np.asarray(seq) % WRAP
    w["t_us"] = np.asarray(t_us) % WRAP
    w["raw"] = np.arange(len(seq))
    return w


def test_seq_and_time_unwrap_across_2_32_in_any_chunking() -> None:
    k = np.arange(WRAP - 500, WRAP + 500, dtype=np.int64)
    t_us = k * 1000
    for chunk in (1, 7, 1000):
        asm = StreamAssembler()
        parts = [asm.assemble(wire(k[i:i + chunk], t_us[i:i + chunk]), 1.0)[0]
                 for i in range(0, len(k), chunk)]
        got = np.concatenate(parts)
        assert np.array_equal(got["seq"], k - 0)  # the device's own numbers, unwrapped
        assert np.allclose(np.diff(got["t_s"]), 1e-3)
        assert asm.stats.lost == 0 and asm.stats.resets == 0


def test_losses_are_exact_and_flagged() -> None:
    seq = np.array([0, 1, 2, 5, 6, 10])
    asm = StreamAssembler()
    batch, events = asm.assemble(wire(seq, seq * 12_500), 1.0)
    assert asm.stats.lost == 5
    assert [e.count for e in events if isinstance(e, FramesLost)] == [2, 3]
    assert np.flatnonzero(batch["flags"] & SampleFlag.GAP_BEFORE).tolist() == [3, 5]


def test_a_reset_starts_a_new_epoch_after_the_host_gap() -> None:
    asm = StreamAssembler()
    a, _ = asm.assemble(wire(np.arange(100, 200), np.arange(100, 200) * 12_500), 10.0)
    asm.device_reset()  # the banner
    b, events = asm.assemble(wire(np.arange(0, 10), np.arange(0, 10) * 12_500 + 300), 13.0)
    assert any(isinstance(e, DeviceReset) for e in events)
    assert b["seq"][0] == a["seq"][-1] + 1
    assert b["t_s"][0] - a["t_s"][-1] >= 3.0 - 1e-9  # the host saw 3 s pass
    assert b["flags"][0] & SampleFlag.RESET_BEFORE and asm.stats.resets == 1
    assert asm.stats.lost == 0


def test_a_restart_inside_one_batch_is_split() -> None:
    seq = np.array([7, 8, 9, 0, 1, 2])
    t_us = np.array([7, 8, 9, 0, 1, 2]) * 1000
    batch, events = StreamAssembler().assemble(wire(seq, t_us), 1.0)
    assert np.all(np.diff(batch["seq"]) == 1) and np.all(np.diff(batch["t_s"]) > 0)
    assert sum(isinstance(e, DeviceReset) for e in events) == 1


def test_implausible_frames_are_rejected() -> None:
    asm = StreamAssembler()
    seq = np.arange(0, 50)
    asm.assemble(wire(seq, seq * 1000), 1.0)
    bad = wire(np.array([50, 51, 90_000, 52]), np.array([50_000, 51_000, 52_000, 52_000]))
    batch, _ = asm.assemble(bad, 1.1)  # seq jumped 90,000 while the clock moved 1 ms
    assert batch["seq"].tolist() == [50, 51, 52]
    assert asm.stats.rejected == 1 and asm.stats.lost == 0


def test_clock_map_ignores_jitter_and_follows_drift() -> None:
    rng = np.random.default_rng(3)
    rate, drift, offset = 1000, 0.005, 500.0  # the device clock runs 0.5 % slow
    t_dev = np.arange(0, 60, 1 / rate)
    t_true = offset + t_dev * (1 + drift)  # host time at which each sample was measured
    cm = ClockMap()
    mapped = []
    for i in range(0, len(t_dev), 10):  # batches of 10, delivered late by 0.2-8 ms
        arrival = t_true[i + 9] + 0.0002 + rng.exponential(0.002)
        cm.update(t_dev[i + 9], arrival)
        mapped.append(cm.to_host(t_dev[i:i + 10], arrival))
    host = np.concatenate(mapped)
    err = host - t_true
    assert np.all(np.diff(host) >= 0)
    assert np.abs(err[len(err) // 6:]).max() < 0.002  # after 10 s: within 2 ms, no jitter
    assert np.median(np.abs(err[len(err) // 6:])) < 0.001


P_US = 12_500  # 80 SPS


def _feed_one_by_one(asm: StreamAssembler, seqs: list[int], tus: list[int]) -> np.ndarray:
    """Each row in its own batch, as a live reader would hand them on; host time follows."""
    out = [asm.assemble(_rows(s, t), t * 1e-6)[0] for s, t in zip(seqs, tus, strict=True)]
    return np.concatenate(out)


def _rows(seq: int, t_us: int) -> np.ndarray:
    w = np.zeros(1, SAMPLE_WIRE_DTYPE)
    w["seq"], w["t_us"] = seq, t_us
    return w


def test_a_frame_whose_time_jumps_far_ahead_of_its_sequence_is_rejected() -> None:
    """Accepting it would count a phantom minute in the band and then refuse every good
    frame until device time caught up."""
    seqs = list(range(400))
    tus = [s * P_US + (60_000_000 if s == 300 else 0) for s in seqs]
    asm = StreamAssembler()
    out = _feed_one_by_one(asm, seqs, tus)
    assert asm.stats.rejected == 1
    assert out["seq"].tolist() == [s for s in seqs if s != 300]
    assert out["t_s"][-1] == (399 * P_US) * 1e-6


def test_a_sequence_damaged_downward_costs_a_few_frames_not_the_stream() -> None:
    seqs = [*range(1000), 1000 - 512, *range(1001, 1801)]
    tus = [*(s * P_US for s in range(1000)), 1000 * P_US, *(s * P_US for s in range(1001, 1801))]
    asm = StreamAssembler()
    out = _feed_one_by_one(asm, seqs, tus)
    assert len(out) >= len(seqs) - 1 - 2 * 3  # the damaged frame and a re-anchor at most
    assert np.all(np.diff(out["seq"]) > 0) and np.all(np.diff(out["t_s"]) > 0)


def test_a_rate_change_is_followed() -> None:
    """80 SPS to 10 SPS passes as it is; to 1 SPS the stream re-anchors after a few frames."""
    for period_us, most_lost in ((100_000, 0), (1_000_000, 3)):
        seqs = list(range(230))
        tus = [min(s, 200) * P_US + max(s - 200, 0) * period_us for s in seqs]
        asm = StreamAssembler()
        out = _feed_one_by_one(asm, seqs, tus)
        assert len(out) >= len(seqs) - most_lost
        assert asm.stats.resets == 0
        assert np.all(np.diff(out["t_s"]) > 0)


def test_sigterm_stops_stream_cleanly_with_130() -> None:
    import os
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "tpforce", "stream", "--port", "sim"],
                            env=dict(os.environ), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # the header: the pipeline is open and streaming
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in err


def test_sigint_during_the_greeting_exits_130_without_a_traceback() -> None:
    """Ctrl-C while the device is still being asked who it is (a silent pty).

    The greeting gives up after 2.5 s; on a starved machine the signal can land after that,
    when the command has already said that nothing answered. Such a try is not a Ctrl-C
    during the greeting and is made again (at most three tries)."""
    import os
    import signal
    import subprocess
    import sys
    import tty

    outcomes: list[tuple[int, str]] = []
    for _ in range(3):
        master, slave = os.openpty()
        tty.setraw(slave)
        try:
            proc = subprocess.Popen([sys.executable, "-m", "tpforce", "stream", "--port",
                                     os.ttyname(slave)], text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                first = os.read(master, 64)  # the first HELLO: the greeting is under way
                assert first
                proc.send_signal(signal.SIGINT)
                _, err = proc.communicate(timeout=20)
            finally:
                proc.kill()
        finally:
            os.close(master)
            os.close(slave)
        outcomes.append((proc.returncode, err))
        assert "Traceback" not in err
        if not (proc.returncode == 2 and "no answer to HELLO" in err):
            break
    assert outcomes[-1][0] == 130, outcomes


def test_the_steady_fast_path_gives_exactly_what_the_general_path_gives() -> None:
    """Random streams with wraps, losses, resets, jitter and damaged rows, cut at random:
    the assembler with its fast path and without it agree on every sample, event and count."""
    rng = np.random.default_rng(11)
    for trial in range(20):
        n = 3000
        step = rng.choice([1, 1, 1, 1, 1, 1, 1, 1, 2, 5], size=n)  # mostly steady, some losses
        seq = (np.cumsum(step) + int(rng.integers(0, WRAP))) % WRAP
        jitter = rng.integers(-30, 30, size=n)
        t_us = (np.cumsum(step * 1000 + jitter) + int(rng.integers(0, WRAP))) % WRAP
        restart = int(rng.integers(500, n))
        seq[restart:] = np.arange(n - restart)  # the device restarted
        t_us[restart:] = np.arange(n - restart) * 1000
        damaged = rng.choice(n, size=5, replace=False)
        seq[damaged] ^= 1 << int(rng.integers(8, 30))  # damage a CRC let through
        rows = wire(seq, t_us)
        cuts = np.sort(rng.choice(np.arange(1, n), size=900, replace=False))
        fast, general = StreamAssembler(), StreamAssembler()
        general.fast_path = False
        got: dict[bool, tuple[list[np.ndarray], list[object]]] = {True: ([], []), False: ([], [])}
        for i, part in enumerate(np.split(rows, cuts)):
            for asm in (fast, general):
                batch, events = asm.assemble(part, 0.003 * i)
                got[asm.fast_path][0].append(batch)
                got[asm.fast_path][1].extend(events)
        a, b = np.concatenate(got[True][0]), np.concatenate(got[False][0])
        assert a.tobytes() == b.tobytes(), f"trial {trial}"
        assert got[True][1] == got[False][1]
        assert fast.stats == general.stats
