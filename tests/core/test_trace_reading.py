"""`tpforce analyze` reads the files users have, and says which column it cannot place."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tpforce.core.analysis import TraceError, read_trace_csv
from tpforce.core.units import KGF_N, LBF_N

from .helpers import analyze_refusal


def _read(tmp_path: Path, text: str, **kw: str) -> tuple[np.ndarray, np.ndarray]:
    path = tmp_path / "trace.csv"
    path.write_text(text, encoding="utf-8")
    return read_trace_csv(path, **kw)


def test_headers_with_units_are_read_by_name_in_any_order(tmp_path: Path) -> None:
    t, f = _read(tmp_path, "Force (kgf),Note,Time (ms)\n1.0,a,0\n2.0,b,12.5\n")
    assert t.tolist() == [0.0, 0.0125] and f == pytest.approx([KGF_N, 2 * KGF_N])
    t, f = _read(tmp_path, "time_s;force [lbf]\n0;5\n1;6\n")
    assert f == pytest.approx([5 * LBF_N, 6 * LBF_N])


def test_semicolon_files_with_decimal_commas(tmp_path: Path) -> None:
    t, f = _read(tmp_path, "Zeit (s);Kraft (N)\n0,0;1,5\n0,1;2,25\n")
    assert t.tolist() == [0.0, 0.1] and f.tolist() == [1.5, 2.25]


def test_units_from_the_command_line_where_the_header_says_none(tmp_path: Path) -> None:
    t, f = _read(tmp_path, "0\t1\n500\t2\n", time_unit="ms", unit="kgf")
    assert t.tolist() == [0.0, 0.5] and f == pytest.approx([KGF_N, 2 * KGF_N])
    with pytest.raises(TraceError, match="--unit"):
        _read(tmp_path, "t_s,Force (kgf)\n0,1\n", unit="N")


def test_tpforce_stream_csv_is_read_with_its_comment_lines(tmp_path: Path) -> None:
    text = ('# {"type": "DeviceInfo"}\n'
            "100.0,0.0000,0,8400,0.5,0\n100.1,0.0125,1,8500,1.25,0\n")
    t, f = _read(tmp_path, text)
    assert t.tolist() == [0.0, 0.0125] and f.tolist() == [0.5, 1.25]


@pytest.mark.parametrize(("text", "needle"), [
    ("stamp,load\n0,1\n", "cannot place a time column"),
    ("t_s,Force (stone)\n0,1\n", "unknown force unit 'stone'"),
    ("0,1,2\n", "3 columns and no header"),
])
def test_a_file_it_cannot_interpret_gets_one_line(tmp_path: Path, text: str, needle: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert needle in analyze_refusal(tmp_path, text, capsys)
