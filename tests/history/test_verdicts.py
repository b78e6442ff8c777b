"""One vocabulary of MDC verdicts: the words the session model files are the words the
history stores, classes and shows; words of older visit files are read as the same."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tpforce.core.session import MdcVerdict
from tpforce.history.html import render_html
from tpforce.history.record import VERDICT_TEXT, PointRecord, VisitRecord, verdict_text
from tpforce.history.store import HistoryStore
from tpforce.history.views import CHANGE_CLASSES, PatientHistory, body_chart, classify
from tpforce.report.html import VERDICT_TEXT as REPORT_WORDS
from tpforce.ui.guide import VERDICT_WORDS


def test_the_core_words_are_the_history_words() -> None:
    for verdict in MdcVerdict:
        assert VERDICT_TEXT[verdict.value] == REPORT_WORDS[verdict]
        assert verdict_text(verdict.value) == REPORT_WORDS[verdict]
    assert classify(3.0, MdcVerdict.RISE_BEYOND.value) == MdcVerdict.RISE_BEYOND.value
    assert classify(-3.0, MdcVerdict.FALL_BEYOND.value) == MdcVerdict.FALL_BEYOND.value
    assert classify(0.4, MdcVerdict.WITHIN.value) == MdcVerdict.WITHIN.value
    assert classify(0.4, MdcVerdict.TOO_FEW_TRIALS.value) == "rise"
    assert classify(-0.4, "") == "fall"
    assert classify(None, MdcVerdict.WITHIN.value) == "not_measured"
    for word in (MdcVerdict.RISE_BEYOND, MdcVerdict.WITHIN, MdcVerdict.FALL_BEYOND):
        assert CHANGE_CLASSES[word.value][1] == REPORT_WORDS[word]
    # the live guide says the same verdicts, in its own short form of the same words
    assert set(VERDICT_WORDS) == set(MdcVerdict)


@pytest.mark.parametrize(("old", "change", "new"), [
    ("beyond_mdc", 4.0, "rise_beyond_mdc"), ("beyond_mdc", -4.0, "fall_beyond_mdc"),
    ("below_mdc", 0.5, "within_mdc"), ("within_mdc_range", 1.0, ""),
    ("rise_beyond_mdc", 4.0, "rise_beyond_mdc"), ("a note of its own", 1.0, "a note of its own")])
def test_older_visit_files_read_in_the_same_words(old: str, change: float, new: str) -> None:
    assert PointRecord("upper trapezius", "R", change_n=change, verdict=old).verdict == new


def test_a_store_shows_the_words_the_session_filed(tmp_path: Path) -> None:
    url = str(tmp_path / "h.sqlite3")
    visit = VisitRecord("P-9", dt.datetime(2026, 3, 2, 9, 30), "op", None, [
        PointRecord("upper trapezius", "R", [20.0, 21.0], [25.0, 26.0],
                    verdict=MdcVerdict.RISE_BEYOND.value),
        PointRecord("infraspinatus", "L", [14.0, 15.0], [14.5, 15.0],
                    verdict=MdcVerdict.WITHIN.value)])
    with HistoryStore.open(url) as store:
        store.index_visit(visit)
        h = PatientHistory.load(store, "P-9")
    chart = {p["point"]: p for p in body_chart(h)["points"]}
    assert chart["upper trapezius R"]["verdict"] == chart["upper trapezius R"]["class"] \
        == "rise_beyond_mdc"
    assert chart["infraspinatus L"]["class"] == "within_mdc"
    page = render_html(h)
    assert VERDICT_TEXT["rise_beyond_mdc"] in page and VERDICT_TEXT["within_mdc"] in page
