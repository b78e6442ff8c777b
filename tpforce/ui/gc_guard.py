"""Python's cycle collector runs on the GUI thread only, on a timer.

Left automatic, a collection can start on whichever thread happens to allocate: the serial
reader thread, most often. If it then frees a Qt object held in a reference cycle, Qt
destroys that object off its own thread, and the process crashes. pyqtgraph's
`GarbageCollector` turns automatic collection off and collects from a QTimer on the GUI
thread instead; every window with a live source starts it once.
"""

from __future__ import annotations

from pyqtgraph.util.garbage_collector import GarbageCollector

INTERVAL_S = 1.0  # often enough that cycles never pile up; a gen-0 pass takes microseconds

_collector: GarbageCollector | None = None


def collect_on_gui_thread() -> GarbageCollector:
    """Start (once per process) the GUI-thread collector; call with a QApplication up."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=INTERVAL_S)
    return _collector
