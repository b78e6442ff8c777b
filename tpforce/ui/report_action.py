"""The live window's "Save report" (Ctrl+S): the session's report, HTML and PDF, into the
patient's folder, and a box on the window saying where it went.

The session comes from the `SessionKeeper` the wiring put among the processor's consumers
(a patient's session, kept from its first sample); a window without one keeps its own from
when it opened. The button is offered once the current point's after-trials are done.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from PyQt5 import QtCore, QtGui, QtWidgets

from tpforce.core.processor import Processor
from tpforce.history.paths import private_dir, user_data_dir
from tpforce.report import ReportError, write_report
from tpforce.report.live import SessionKeeper

KEY = "Ctrl+S"
OFFER_PERIOD_MS = 250  # how often the window checks whether the after-trials are done
NO_PATIENT = "anon"


def patient_folder(pseudonym: str, root: Path | None = None) -> Path:
    """The patient's folder for reports: <data folder>/patients/<pseudonym> (0700)."""
    name = pseudonym if pseudonym and re.fullmatch(r"[\w.-]{1,64}", pseudonym) else NO_PATIENT
    return (root if root is not None else user_data_dir()) / "patients" / name


def after_trials_done(processor: Processor) -> bool:
    """True once the current point is in its after phase with all its after-trials."""
    point = processor.session.current
    return (processor.state.phase == "after"
            and len(point.trials_after_n) >= processor.tracker.config.trials)


class ReportAction(QtCore.QObject):
    """Saves the session's report from the window (key, menu entry and status-bar button)."""

    offer_shown = QtCore.pyqtSignal()  # the button appeared: the after-trials are done

    def __init__(self, window: QtWidgets.QMainWindow, processor: Processor,
                 root: Path | None = None) -> None:
        super().__init__(window)
        self.window, self.processor, self.root = window, processor, root
        found = [c for c in processor.out.consumers if isinstance(c, SessionKeeper)]
        self.keeper = found[0] if found else SessionKeeper()
        if not found:
            processor.add_consumer(self.keeper)
        self.saved: list[Path] = []  # the files the last save wrote
        self.action = QtWidgets.QAction("Save report (HTML and PDF)", window)
        self.action.setShortcut(QtGui.QKeySequence(KEY))
        self.action.setShortcutContext(QtCore.Qt.WindowShortcut)
        self.action.setAutoRepeat(False)
        self.action.triggered.connect(self.save)
        window.addAction(self.action)
        for entry in window.menuBar().actions():  # beside the other session commands
            if entry.text() == "&Session" and entry.menu() is not None:
                entry.menu().addAction(self.action)
        self.button = QtWidgets.QPushButton(f"Save report ({KEY})")
        self.button.setFocusPolicy(QtCore.Qt.NoFocus)
        self.button.clicked.connect(self.save)
        self.button.setVisible(False)
        self.message = QtWidgets.QMessageBox(window)  # says where the report went
        self.message.setWindowTitle("Session report")
        self.message.setModal(False)  # the window goes on; the box closes with OK
        # and it never takes the keys: Space on a foot pedal still marks, not "OK"
        self.message.setAttribute(QtCore.Qt.WA_ShowWithoutActivating, True)
        window.statusBar().addPermanentWidget(self.button)
        self.offered = False
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.check_offer)
        self.timer.start(OFFER_PERIOD_MS)

    def check_offer(self) -> None:
        """Show the button (and say so once) when the session's after-trials are done."""
        done = after_trials_done(self.processor)
        if done and not self.offered:
            self.offered = True
            self.button.setVisible(True)
            self.window.statusBar().showMessage(
                f"after-trials done: {KEY} saves the session's report", 8000)
            self.offer_shown.emit()

    def folder(self) -> Path:
        """Where this session's report goes: the patient's folder."""
        return patient_folder(str(self.keeper.context.get("pseudonym") or ""), self.root)

    def save(self) -> None:
        """Write the report as HTML and PDF (each file 0600) and say where; on failure say
        why, in one line, and keep the session (it stays in memory to try again)."""
        data = self.keeper.session()
        when = data.context.get("date") or dt.datetime.now().replace(microsecond=0).isoformat()
        if "date" not in data.context:
            self.keeper.context["date"] = when  # saving again overwrites the same files
        digits = re.sub(r"[^0-9]", "", str(when))[:14]
        stem = f"report-{digits[:8]}-{digits[8:]}" if len(digits) > 8 else f"report-{digits}"
        written: list[Path] = []
        try:
            folder = private_dir(self.folder())
            for suffix in (".html", ".pdf"):
                written.append(write_report([data], folder / f"{stem}{suffix}"))
        except (ReportError, OSError) as exc:
            kept = f" ({written[0].name} was written)" if written else ""
            self.saved = written
            self.show_line(f"report NOT saved: {exc}{kept}", error=True)
            return
        self.saved = written
        self.show_line(f"report saved in {folder}: {written[0].name} and {written[1].name}")

    def show_line(self, text: str, error: bool = False) -> None:
        """Say it on the window: a box that stays until OK, and on the button."""
        self.message.setIcon(QtWidgets.QMessageBox.Warning if error
                             else QtWidgets.QMessageBox.Information)
        self.message.setText(text)
        self.button.setToolTip(text)
        self.button.setText(f"Save report ({KEY})" if error or not self.saved
                            else f"Report saved ✓ · again: {KEY}")
        self.button.setVisible(True)
        self.message.show()
