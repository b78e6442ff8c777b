"""Reference cycles are freed on the GUI thread, never on a reader thread that allocates."""

from __future__ import annotations

import gc
import threading
from typing import ClassVar

from tpforce.ui.gc_guard import collect_on_gui_thread


class _Cycle:
    """Half of a reference cycle that notes which thread frees it."""

    freed_on: ClassVar[list[str]] = []

    def __init__(self) -> None:
        self.other: object = self

    def __del__(self) -> None:
        _Cycle.freed_on.append(threading.current_thread().name)


def test_a_reader_thread_allocating_never_collects_gui_garbage(qtbot) -> None:
    collect_on_gui_thread()
    assert not gc.isenabled()  # automatic collection is off for the whole process
    _Cycle.freed_on.clear()
    for _ in range(50):
        _Cycle()  # garbage that only the cycle collector can free
    done = threading.Event()

    def reader() -> None:  # allocates container objects as the reader does, by thousands
        junk = [[i] for i in range(200_000)]
        del junk
        done.set()

    worker = threading.Thread(target=reader, name="reader")
    worker.start()
    assert done.wait(60)
    worker.join(60)
    assert _Cycle.freed_on == []  # the reader's allocations did not start a collection
    keep = [[i] for i in range(2 * gc.get_threshold()[0])]  # enough young objects for a pass
    qtbot.waitUntil(lambda: len(_Cycle.freed_on) == 50, timeout=10_000)
    assert set(_Cycle.freed_on) == {threading.main_thread().name}
    assert len(keep) > 0
