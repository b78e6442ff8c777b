"""The history window: PPT before/after per point over the visits as a plot with the
recurrences on its time line, the table with each verdict in words, the recurrence
entries and the body chart; drawn offscreen, and saved by `tpforce history --window`."""

from __future__ import annotations

from pathlib import Path

import pytest
from PyQt5.QtGui import QColor, QImage

from tests.history.helpers import PATIENT, RECURRENCE, three_visits
from tpforce.cli import main
from tpforce.history.html import PALETTE
from tpforce.history.record import verdict_text
from tpforce.history.store import HistoryStore
from tpforce.history.views import PatientHistory, history_table, trend
from tpforce.ui.history_window import RECURRENCE_PEN, HistoryWindow, _stamp


def _store(url: str) -> PatientHistory:
    with HistoryStore.open(url) as store:
        store.index_visits(three_visits())
        store.add_recurrence(PATIENT, RECURRENCE)
        return PatientHistory.load(store, PATIENT)


def _near(image: QImage, colour: str, tol: int = 60) -> int:
    want = QColor(colour)
    n = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c = QColor(image.pixel(x, y))
            if (abs(c.red() - want.red()) + abs(c.green() - want.green())
                    + abs(c.blue() - want.blue())) < tol:
                n += 1
    return n


@pytest.mark.gui
def test_the_window_shows_the_visits_verdicts_and_recurrence(qtbot, db_url: str) -> None:
    h = _store(db_url)
    window = HistoryWindow(h)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    table = history_table(h)
    assert window.table.rowCount() == 3
    heads = [window.table.horizontalHeaderItem(j).text()
             for j in range(window.table.columnCount())]
    assert heads[:5] == ["visit", "date", "operator", "upper trapezius R\nPPT before → after",
                         "upper trapezius R\nverdict"]
    for i, row in enumerate(table["rows"]):
        cell = row["points"]["upper trapezius R"]
        assert window.table.item(i, 3).text() == (
            f"{cell['before_n']:.1f} → {cell['after_n']:.1f} ({cell['change_n']:+.1f})")
        assert window.table.item(i, 4).text() == verdict_text(cell["verdict"]) \
            == "PPT rose beyond the detectable change"
    infra = heads.index("infraspinatus L\nverdict")
    assert window.table.item(2, infra).text() == verdict_text("within_mdc")
    assert window.table.item(1, heads.index("flexor digitorum R\nverdict")).text() == \
        "PPT fell beyond the detectable change"
    for series in trend(h):
        before, after = window.curves[series["point"]]
        assert list(after.getData()[1]) == [v["after_n"] for v in series["values"]]
        assert list(before.getData()[1]) == [v["before_n"] for v in series["values"]]
        assert list(after.getData()[0]) == [_stamp(r["visited_at"]) for r in table["rows"]
                                            if series["point"] in r["points"]]
    (mark,) = window.recurrence_marks
    assert mark.value() == _stamp("2026-03-05")
    assert window.recurrence.count() == 1
    assert window.recurrence.item(0).text() == (
        "2026-03-05, day 3 after a visit: pain 6/10 in upper trapezius R, after long drive")
    assert window.unplaced == ["flexor digitorum R"]
    assert "3 visit(s), 3 point(s), 1 recurrence(s)" in window.header.text()


@pytest.mark.gui
def test_history_window_screenshot_from_the_command(qapp, tmp_path: Path, output_dir: Path,
                                                    capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    db = str(tmp_path / "h.sqlite3")
    _store(db)
    shot = output_dir / "history-window.png"
    shot.unlink(missing_ok=True)
    assert main(["history", PATIENT, "--db", db, "--window", "--screenshot", str(shot)]) == 0
    assert f"wrote {shot} (the history window of {PATIENT}, 3 visit(s))" in \
        capsys.readouterr().out
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1280, 860)
    assert _near(image, PALETTE[0]) > 300  # the first point's two lines were drawn
    assert _near(image, RECURRENCE_PEN, tol=40) > 20  # the recurrence on the time line
    assert main(["history", PATIENT, "--db", db, "--screenshot", str(shot)]) == 2
    assert main(["history", "P-NONE", "--db", db, "--window"]) == 2
    assert main(["history", PATIENT, "--db", db, "--window", "--screenshot",
                 str(tmp_path / "missing" / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "--screenshot only goes with --window" in err and "unknown patient" in err
    assert "Traceback" not in err


@pytest.mark.gui
def test_a_recurrence_logged_in_the_window_is_stored_and_drawn(qtbot, db_url: str) -> None:
    from PyQt5 import QtCore

    from tpforce.history.record import RecurrenceEntry

    _store(db_url)

    def log(entry: RecurrenceEntry) -> tuple[bool, PatientHistory]:
        with HistoryStore.open(db_url, create=False) as store:
            return store.add_recurrence(PATIENT, entry), PatientHistory.load(store, PATIENT)

    with HistoryStore.open(db_url, create=False) as store:
        window = HistoryWindow(PatientHistory.load(store, PATIENT), log)
    qtbot.addWidget(window)
    window.show()
    window.when.setDate(QtCore.QDate(2026, 3, 12))
    qtbot.keyClicks(window.region, "neck")
    window.nrs.setValue(4)
    qtbot.keyClicks(window.activity, "a day at the desk")
    qtbot.mouseClick(window.log_button, QtCore.Qt.LeftButton)
    assert window.log_result.text() == \
        "logged: 2026-03-12 pain 4/10 in neck, after a day at the desk"
    assert window.recurrence.count() == 2
    assert "3 point(s), 2 recurrence(s)" in window.header.text()
    assert window.recurrence.item(1).text() == \
        "2026-03-12, day 3 after a visit: pain 4/10 in neck, after a day at the desk"
    assert sorted(m.value() for m in window.recurrence_marks) == \
        [_stamp("2026-03-05"), _stamp("2026-03-12")]
    qtbot.mouseClick(window.log_button, QtCore.Qt.LeftButton)
    assert window.log_result.text().startswith("already logged: 2026-03-12")
    window.region.clear()  # no region: said, and nothing stored
    qtbot.mouseClick(window.log_button, QtCore.Qt.LeftButton)
    assert window.log_result.text() == "not logged: region must be a non-empty string"
    with HistoryStore.open(db_url, create=False) as store:
        assert [e.region for e in store.recurrence(PATIENT)] == ["upper trapezius R", "neck"]
    assert window.recurrence.count() == 2
