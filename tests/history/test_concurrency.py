"""Two writer processes on one store at the same moment lose nothing (both engines)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.history import writer
from tpforce.history.store import HistoryStore

ROOT = Path(__file__).resolve().parents[2]
COUNT = 60


def test_two_processes_writing_at_once_lose_nothing(db_url: str) -> None:
    HistoryStore.open(db_url).close()  # the schema exists before the race starts
    procs = [subprocess.Popen([sys.executable, "-m", "tests.history.writer", db_url, str(tag),
                               str(COUNT)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for tag in (1, 2)]
    try:
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready"
        for p in procs:  # both are connected and waiting: start them together
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [p.communicate(timeout=240) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert out.strip() == "done"
    with HistoryStore.open(db_url) as store:
        assert len(store.visit_dates("P-SHARED")) == 2 * COUNT + writer.SHARED
        assert len(store.visit_dates("P-W1")) == len(store.visit_dates("P-W2")) == COUNT
        assert store.count("patients") == 3
        assert store.count("trials") == 3 * (4 * COUNT + writer.SHARED)
        assert store.count("hold_metrics") == 2 * (4 * COUNT + writer.SHARED)
        assert len(store.recurrence("P-SHARED")) == 2 * COUNT
