"""Calibration records as JSON files (calibration/records/<serial>.json) and their checks."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from tpforce.core.calfit import CalFit, CalPoint, fit_linear
from tpforce.core.calibration import Calibration


class RecordError(Exception):
    """A record file is missing, unreadable or incomplete; the message says which and why."""


@dataclass(frozen=True, slots=True)
class CalibrationFile:
    """A parsed record: the calibration it gives, its points and its metadata."""

    path: Path
    calibration: Calibration
    points: list[CalPoint]
    gain: int
    calibrated_utc: str

    def refit(self) -> CalFit:
        """Fit the stored points again, to check the stored numbers and the acceptance."""
        return fit_linear(self.points)


def load_record(path: str | Path) -> CalibrationFile:
    """Read a record; raises RecordError with a one-line reason."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordError(f"{p}: no such calibration record") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"{p}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"{p}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    try:
        points = [CalPoint(float(q["force_n"]), float(q["mean_counts"]),
                           str(q.get("direction", "up"))) for q in data.get("points", [])]
        cal = Calibration.from_record(data)
        if not (math.isfinite(cal.zero_counts) and math.isfinite(cal.n_per_count)
                and cal.n_per_count != 0.0):
            raise RecordError(f"{p}: zero_counts and n_per_count must be finite numbers and "
                              "n_per_count not 0; recalibrate (calibration/README.md)")
        return CalibrationFile(p, cal, points, int(data.get("gain", 0)),
                               str(data.get("calibrated_utc", "")))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RecordError(f"{p}: incomplete record ({type(exc).__name__}: {exc})") from None


def find_record(serial: str, folder: str | Path) -> CalibrationFile | None:
    """The record for a probe's serial number in `folder`, if there is one."""
    path = Path(folder) / f"{serial}.json"
    return load_record(path) if path.exists() else None
