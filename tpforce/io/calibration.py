"""Calibration on the host, in one place: the probe's EEPROM record (read, write with
read-back), record files (calibration/records/<serial>.json) and their checks, and the
choice of calibration for a source. The arithmetic is in `core.calibration` (counts to
newtons) and `core.calfit` (the fit and its acceptance figures).
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from tpforce.core.calbench import DEFAULT_MAX_AGE_DAYS, record_expiry
from tpforce.core.calfit import CalFit, CalPoint, fit_linear
from tpforce.core.calibration import Calibration
from tpforce.core.protocol import CalRecord
from tpforce.core.source import Source, SourceOpenError

if TYPE_CHECKING:
    from tpforce.io.probe import ProbeSource


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


class CalibrationChoiceError(SourceOpenError):
    """The calibration asked for cannot be used with this source; one line with the fix."""


def record_calibration(record: CalRecord) -> Calibration:
    """The calibration a probe's EEPROM record gives (its tip area is in mm^2)."""
    return Calibration(record.zero_counts, record.n_per_count, record.tip_area_mm2 / 100.0,
                       serial=record.serial)


def eeprom_record(cal: Calibration, serial: str, gain: int = 0, cal_unix: int = 0) -> CalRecord:
    """The EEPROM record (PROTOCOL.md, CALIBRATION) for a linear calibration of probe `serial`."""
    if cal.poly:
        raise ValueError("the probe's EEPROM holds a linear calibration only")
    return CalRecord(1, round(cal.zero_counts), cal.n_per_count, round(cal.tip_area_cm2 * 100),
                     cal_unix, serial, gain)


def write_to_probe(probe: ProbeSource, cal: Calibration, gain: int = 0,
                   cal_unix: int = 0) -> CalRecord:
    """Store `cal` in the open probe's EEPROM (WRITE_CAL), read it back and compare;
    CommandError if the probe refuses it or the read-back differs."""
    info = probe.info
    serial = cal.serial or (info.serial if info is not None else "")
    return probe.write_calibration(eeprom_record(cal, serial, gain, cal_unix))


def device_calibration(source: Source) -> Calibration:
    """The device's own calibration, or raw counts (1 N per count) with a warning;
    CalibrationChoiceError if the probe's record is damaged."""
    cal = source.calibration
    if cal is not None:
        return cal
    where = source.device.where if source.device is not None else "the port"
    if getattr(source, "record_damaged", False):
        raise CalibrationChoiceError(f"{where}: the probe's calibration record is damaged; "
                                     "recalibrate it (calibration/README.md) or pass "
                                     "--calibration FILE")
    print(f"tpforce: the probe on {where} has no calibration record, so force_n shows raw "
          "counts; calibrate it (calibration/README.md) or pass --calibration FILE",
          file=sys.stderr)
    return Calibration()


def calibration_notice(source: Source, chosen: Calibration,
                       record: CalibrationFile | None = None, now: datetime | None = None,
                       max_age_days: float = DEFAULT_MAX_AGE_DAYS) -> str:
    """What is wrong with the calibration in force at connect, as one line ("" if nothing):
    a record past `max_age_days` (or with a date that cannot be right), for another probe,
    or none at all.
    `record` is the file in use (else the probe's EEPROM record is judged)."""
    if record is not None:
        return _age_notice(record.calibrated_utc, now, max_age_days, f"{record.path.name}")
    if not hasattr(source, "record"):
        return ""  # a gauge or a stream that reports newtons: no record of ours
    stored: CalRecord | None = source.record
    dev = source.device
    serial = dev.serial if dev is not None else ""
    if stored is None:
        return ("no calibration record: the force shows raw counts; calibrate the probe "
                "(tpforce calibrate)") if chosen.serial == "" else ""
    if serial and stored.serial != serial:
        return (f"the probe's calibration record is for probe {stored.serial}, but this probe "
                f"is {serial}: recalibrate it (tpforce calibrate)")
    if stored.cal_unix <= 0:
        return ""  # no date kept (cal_unix 0, as the built-in simulated probe's): not judged
    when = datetime.fromtimestamp(stored.cal_unix, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _age_notice(when, now, max_age_days, "the probe's")


def _age_notice(calibrated_utc: str, now: datetime | None, max_age_days: float,
                whose: str) -> str:
    age = record_expiry(calibrated_utc, now, max_age_days)
    if not age.expired:
        return ""
    if math.isfinite(age.age_days) and age.age_days > max_age_days:
        return (f"calibration {age.age_days:.0f} days old (limit {max_age_days:g}, "
                f"{whose} record): recalibrate (tpforce calibrate)")
    return f"{whose} record: {age.message}"


class CalibrationChoice:
    """How the wiring picks the calibration once a source is open: the record file if
    given (it must be this probe's), else the device's own (`device_calibration`). What is
    wrong with it (`calibration_notice`) is kept in `notice` and said once on stderr."""

    def __init__(self, record_path: str | Path | None,
                 max_age_days: float = DEFAULT_MAX_AGE_DAYS) -> None:
        self.record_path = record_path
        self.max_age_days = max_age_days
        self.notice = ""

    def __call__(self, source: Source) -> Calibration:
        """The calibration for `source`; CalibrationChoiceError if it cannot be used."""
        record = None
        if self.record_path is None:
            cal = device_calibration(source)
        else:
            try:
                record = load_record(self.record_path)
            except RecordError as exc:
                raise CalibrationChoiceError(str(exc)) from None
            cal = record.calibration
            dev = source.device
            serial = dev.serial if dev is not None else ""
            if cal.serial and serial and cal.serial != serial:
                where = dev.where if dev is not None else "the port"
                raise CalibrationChoiceError(f"{self.record_path} is the record of probe "
                                             f"{cal.serial}, but the probe on {where} is "
                                             f"{serial}; use its own record")
        self.notice = calibration_notice(source, cal, record, max_age_days=self.max_age_days)
        if self.notice and not (record is None and source.calibration is None):
            print(f"tpforce: warning: {self.notice}", file=sys.stderr)  # none: said above
        return cal


def calibration_chooser(record_path: str | Path | None,
                        max_age_days: float = DEFAULT_MAX_AGE_DAYS) -> CalibrationChoice:
    """The choice of calibration for a source (see `CalibrationChoice`)."""
    return CalibrationChoice(record_path, max_age_days)
