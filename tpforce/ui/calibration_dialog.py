"""The calibration dialog: the probe's current record, and the guided bench on the live stream.

It shows the record in force (serial, date, age against its limit, scale, zero, the checks
it passed) and runs `core.calbench.BenchProcedure` on the raw counts the live window's ring
buffer holds: warm-up, tare at rest, each known mass read once it has settled, an optional
creep test, then the fit and its verdict, worded as `tpforce calibrate` words them. The
record is kept by the command that opened the port (`BenchLink.save`): the dialog never opens
files or ports itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from PyQt5 import QtCore, QtWidgets

from tpforce.core import calbench as cb
from tpforce.core.ringbuffer import SampleRing
from tpforce.ui.gc_guard import collect_on_gui_thread

POLL_MS = 50  # new samples are read from the ring this often


@dataclass
class BenchLink:
    """What the command hands the dialog: the probe, its record and how to keep a new one.

    `save(record)` keeps a finished record (and writes an accepted one to the probe) and
    yields what it did, line by line; it may raise. `place(kg)`, on the simulated bench only,
    puts a mass on the cell and returns the device time from which the samples carry it.
    """

    serial: str
    rate_sps: float
    gain: int = 0
    record: Mapping[str, object] | None = None  # the current record, in its JSON form
    record_from: str = ""  # where that record was read: the probe's EEPROM, a file
    save: Callable[[dict[str, object]], Iterable[str]] | None = None
    place: Callable[[float], float] | None = None
    write_label: str = ""  # what saving does with an accepted record, for the button
    max_age_days: float = cb.DEFAULT_MAX_AGE_DAYS
    counts_per_n_hint: float | None = None


def record_summary(record: Mapping[str, object] | None, record_from: str,
                   max_age_days: float, now: datetime | None = None) -> str:
    """The current record in a few lines of rich text (what a therapist checks at a glance)."""
    if record is None:
        return ("<b>No calibration record</b>: the force shows raw counts. Run the bench "
                "below to calibrate this probe.")
    num: Mapping[str, object] = record
    when = str(num.get("calibrated_utc", ""))
    age = cb.record_expiry(when, now, max_age_days)
    if math.isfinite(age.age_days):
        left = max_age_days - age.age_days
        age_text = (f"{age.age_days:.0f} days old, limit {max_age_days:g}: "
                    + (f"<b>EXPIRED</b> {-left:.0f} days ago, recalibrate" if age.expired
                       else f"expires in {left:.0f} days"))
    else:
        age_text = f"<b>{age.message}</b>"
    npc = float(str(num.get("n_per_count", "nan")))
    lines = [f"Probe <b>{num.get('serial', '?')}</b> · record from {record_from}",
             f"Calibrated {when or 'at an unknown date'} · {age_text}",
             f"Scale {npc:.6e} N/count ({1.0 / npc:,.1f} counts/N) · zero "
             f"{float(str(num.get('zero_counts', 'nan'))):,.0f} counts" if npc else "Scale: none"]
    checks = num.get("checks")
    if isinstance(checks, Mapping):
        parts = [f"{name.replace('_pct_fs', '').replace('_', '-')} {value:.3f} % FS"
                 for name, value in checks.items()
                 if name.endswith("_pct_fs") and isinstance(value, int | float)]
        noise = checks.get("noise_n_rms")
        if isinstance(noise, int | float):
            parts.append(f"noise {noise:.4f} N RMS")
        lines.append("Checks: " + ", ".join(parts))
    else:
        lines.append("Checks: not in this record (the probe's EEPROM keeps the line only)")
    accepted = num.get("accepted")
    if accepted is not None:
        lines.append(f"Accepted: {'yes' if accepted else 'NO'} · by {num.get('by', '?')}")
    return "<br>".join(lines)


class CalibrationDialog(QtWidgets.QDialog):
    """The probe's calibration, and the guided bench run on the live samples."""

    def __init__(self, ring: SampleRing, link: BenchLink,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        collect_on_gui_thread()  # a reader thread must never free Qt objects
        self.ring, self.link = ring, link
        self.setWindowTitle(f"Calibration - probe {link.serial}")
        self.resize(900, 760)
        self.proc: cb.BenchProcedure | None = None
        self.bench_result: cb.BenchResult | None = None
        self.record: dict[str, object] | None = None
        self.saved = False
        self._seen = ring.count  # samples already in the ring when the dialog opened
        self._last_t = -math.inf
        self._placed_t = -math.inf
        self._creep_mass = 0.0
        self._plan: list[float] | None = None  # the unattended bench's masses still to place
        self._finished: Callable[[str], None] | None = None
        self._build()
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.poll)
        self.timer.start(POLL_MS)
        self._update_buttons()

    # -- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        link = self.link
        self.current = QtWidgets.QLabel(record_summary(link.record, link.record_from,
                                                       link.max_age_days))
        self.current.setWordWrap(True)
        self.current.setTextFormat(QtCore.Qt.RichText)
        box = QtWidgets.QGroupBox("Current calibration")
        QtWidgets.QVBoxLayout(box).addWidget(self.current)

        self.capacity = self._spin(0.1, 1000.0, 10.0, " kg", 1)
        self.warmup = self._spin(0.0, 600.0, cb.WARMUP_S, " s", 0)
        self.creep_kg = self._spin(0.0, 1000.0, 0.0, " kg", 3)
        self.creep_s = self._spin(10.0, 3600.0, cb.CREEP_S, " s", 0)
        self.gravity = self._spin(9.7, 9.9, cb.G_STANDARD, " m/s²", 5)
        self.quadratic = QtWidgets.QCheckBox("quadratic fit")
        self.operator = QtWidgets.QLineEdit()
        self.operator.setPlaceholderText("who calibrates (kept in the record)")
        form = QtWidgets.QFormLayout()
        form.addRow("Cell capacity", self.capacity)
        form.addRow("Warm-up (0 skips)", self.warmup)
        form.addRow("Local gravity", self.gravity)
        form.addRow("Creep test mass (0: none)", self.creep_kg)
        form.addRow("Creep test length", self.creep_s)
        form.addRow("Operator", self.operator)
        form.addRow("", self.quadratic)
        setup = QtWidgets.QGroupBox("Bench")
        setup.setLayout(form)

        self.start_button = QtWidgets.QPushButton("Start: warm-up, then tare (probe unloaded)")
        self.mass = self._spin(0.0, 1000.0, 0.0, " kg", 3)
        self.read_button = QtWidgets.QPushButton("Mass is on: read it")
        self.creep_button = QtWidgets.QPushButton("Creep test")
        self.fit_button = QtWidgets.QPushButton("Fit and verdict")
        self.save_button = QtWidgets.QPushButton(link.write_label or "Keep the record")
        self.close_button = QtWidgets.QPushButton("Close")
        self.start_button.clicked.connect(self.start)
        self.read_button.clicked.connect(self.read_mass)
        self.creep_button.clicked.connect(self.start_creep)
        self.fit_button.clicked.connect(self.fit)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.reject)
        masses = QtWidgets.QHBoxLayout()
        masses.addWidget(QtWidgets.QLabel("Mass now on the probe"))
        masses.addWidget(self.mass)
        masses.addWidget(self.read_button)
        buttons = QtWidgets.QHBoxLayout()
        for b in (self.start_button, self.creep_button, self.fit_button, self.save_button,
                  self.close_button):
            buttons.addWidget(b)

        self.step = QtWidgets.QLabel("Press Start with the probe unloaded on its stand.")
        self.step.setWordWrap(True)
        font = self.step.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.step.setFont(font)
        self.verdict = QtWidgets.QLabel("")
        self.verdict.setWordWrap(True)
        self.log = QtWidgets.QPlainTextEdit()
        self.log.setReadOnly(True)
        mono = self.log.font()
        mono.setFamily("monospace")
        mono.setStyleHint(mono.Monospace)
        self.log.setFont(mono)

        layout = QtWidgets.QVBoxLayout(self)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(box, stretch=3)
        top.addWidget(setup, stretch=2)
        layout.addLayout(top)
        layout.addLayout(buttons)
        layout.addLayout(masses)
        layout.addWidget(self.step)
        layout.addWidget(self.verdict)
        layout.addWidget(self.log, stretch=1)

    @staticmethod
    def _spin(lo: float, hi: float, value: float, suffix: str, decimals: int
              ) -> QtWidgets.QDoubleSpinBox:
        spin = QtWidgets.QDoubleSpinBox()
        spin.setRange(lo, hi)
        spin.setDecimals(decimals)
        spin.setValue(value)
        spin.setSuffix(suffix)
        return spin

    # -- the unattended bench -----------------------------------------------------------------

    def run_plan(self, masses: list[float], finished: Callable[[str], None]) -> None:
        """Run the whole procedure unattended (the simulated bench places the masses): start,
        each of `masses` in turn, the creep test if a mass is set, the fit, keeping the
        record; then `finished("")`, or `finished(why)` when it stopped or was refused."""
        self._plan, self._finished = list(masses), finished
        self.start()
        if self.proc is None:
            self._end_plan(self.step.text())

    def _plan_next(self) -> None:
        """The unattended bench's next action, once the procedure is ready for one."""
        p = self.proc
        if self._plan is None or p is None or p.phase is not cb.Phase.READY:
            return
        if self._plan:
            self.mass.setValue(self._plan.pop(0))
            self.read_mass()
            if p.phase is not cb.Phase.READING:
                self._end_plan(self.step.text())
            return
        if self.creep_kg.value() > 0 and p.creep_result is None:
            self.start_creep()
            if p.phase is not cb.Phase.CREEP:
                self._end_plan(self.step.text())
            return
        self.fit()
        if self.record is None:
            self._end_plan(self.step.text())
            return
        self.save()
        self._end_plan("" if self.saved else self.step.text())

    def _end_plan(self, why: str) -> None:
        finished, self._plan, self._finished = self._finished, None, None
        if finished is not None:
            finished(why)

    # -- what the operator does -------------------------------------------------------------

    def say(self, line: str) -> None:
        """Add a line to the log (the same words the terminal procedure prints)."""
        self.log.appendPlainText(line)

    def start(self) -> None:
        """Begin a fresh procedure on the samples from now on."""
        try:
            self.proc = cb.BenchProcedure(self.link.rate_sps, self.capacity.value(),
                                          self.gravity.value(), self.warmup.value(),
                                          counts_per_n_hint=self.link.counts_per_n_hint)
        except cb.BenchError as exc:
            self.step.setText(f"Refused: {exc}")
            return
        self.bench_result, self.record, self.saved = None, None, False
        self.verdict.setText("")
        self._seen = self.ring.count
        self.log.clear()
        self.say(f"calibrating probe {self.link.serial} ({self.link.rate_sps:g} samples/s), "
                 f"capacity {self.capacity.value():g} kg, g = {self.gravity.value():g} m/s^2")
        if self.proc.phase is cb.Phase.WARMUP:
            self.step.setText(f"Warm-up: leave the probe unloaded for {self.warmup.value():g} s")
        else:
            self.step.setText("Tare: keep the probe unloaded")
        self._update_buttons()

    def read_mass(self) -> None:
        """The operator says the mass in the box now rests on the probe."""
        if self.proc is None:
            return
        mass = self.mass.value()
        try:
            from_t = self._place(mass)
            direction = self.proc.place(mass, from_t)
        except cb.BenchError as exc:
            self.say(f"  refused: {exc}")
            self.step.setText(f"Refused: {exc}")
            return
        self._placed_t = from_t
        self.step.setText(f"Reading {mass:g} kg ({direction}): wait until it settles")
        self._update_buttons()

    def start_creep(self) -> None:
        """Place the creep mass and leave it for the test's length."""
        if self.proc is None:
            return
        mass = self.creep_kg.value()
        try:
            if mass <= 0:
                raise cb.BenchError("set the creep test mass (the largest you have) first")
            from_t = self._place(mass)
            self.proc.creep(mass, from_t, self.creep_s.value())
        except cb.BenchError as exc:
            self.step.setText(f"Refused: {exc}")
            return
        self._creep_mass = mass
        self.say(f"creep: {mass:g} kg held for {self.creep_s.value():g} s ...")
        self.step.setText(f"Creep test: leave {mass:g} kg on for {self.creep_s.value():g} s")
        self._update_buttons()

    def fit(self) -> None:
        """Fit the readings, show the figures and the verdict; the record is ready to keep."""
        if self.proc is None:
            return
        try:
            result = self.proc.result(quadratic=self.quadratic.isChecked())
            record = cb.build_record(result, self.link.serial,
                                     self.operator.text().strip() or "not given",
                                     datetime.now(timezone.utc), gain=self.link.gain)
        except cb.BenchError as exc:
            self.step.setText(f"Cannot fit yet: {exc}")
            return
        self.bench_result, self.record = result, record
        for line in cb.report_lines(result):
            self.say(line)
        accepted = bool(record["accepted"])
        failed = [c.name for c in cb.verdict(result).acceptance if not c.passed]
        self.verdict.setText(
            "<b style='color:#2e7d32'>ACCEPTED</b>: every acceptance check passed" if accepted
            else f"<b style='color:#c62828'>REJECTED</b>: {', '.join(failed)} failed; see "
                 "what to do in the log; the previous calibration stays")
        self.step.setText("Done: keep the record" if self.link.save else "Done")
        self._update_buttons()

    def save(self) -> None:
        """Hand the record to the command that keeps it (and writes the probe)."""
        if self.record is None or self.link.save is None or self.saved:
            return
        try:
            for line in self.link.save(self.record):
                self.say(line)
        except Exception as exc:  # the keeper's error, in words; nothing was half-written
            self.say(f"NOT KEPT: {exc}")
            self.step.setText(f"Not kept: {exc}")
            return
        self.saved = True
        if self.record["accepted"]:
            self.link.record, self.link.record_from = self.record, "this bench run"
            self.current.setText(record_summary(self.record, "this bench run",
                                                self.link.max_age_days)
                                 + "<br><i>In force from the next connect.</i>")
        self.step.setText("Kept." if self.record["accepted"] else
                          "Kept as a rejected run; the probe's record is unchanged.")
        self._update_buttons()

    def _place(self, mass: float) -> float:
        """The device time from which `mass` bears on the probe."""
        if self.link.place is not None:
            self.say(f"  [bench] place: {mass:g} kg")
            return self.link.place(mass)
        return self._last_t  # the operator placed it before pressing: from the latest sample

    # -- samples ------------------------------------------------------------------------------

    def poll(self) -> None:
        """Feed the samples that arrived since the last poll into the procedure."""
        count = self.ring.count
        new = count - self._seen
        if new <= 0:
            return
        batch = self.ring.latest(new)
        self._seen = count
        if len(batch):
            self._last_t = float(batch["t_s"][-1])
        if self.proc is None or self.proc.phase in (cb.Phase.READY, cb.Phase.DONE):
            return
        problem = cb.batch_problem(batch["flags"])
        if problem:
            self._stop(problem)
            return
        try:
            done = self.proc.feed(batch["t_s"], batch["raw"])
        except cb.BenchError as exc:
            if self.proc.phase in (cb.Phase.READING, cb.Phase.CREEP) and self._plan is None:
                self.proc.cancel()
                self.say(f"  refused: {exc}")
                self.step.setText(f"Refused: {exc}")
                self._update_buttons()
                return
            self._stop(str(exc))
            return
        if done is not None:
            self._show_step(done)

    def _show_step(self, done: object) -> None:
        if isinstance(done, cb.Warmup):
            self.say(f"  zero wandered {done.wander_counts:.0f} counts, noise "
                     f"{done.noise_counts:.1f} counts RMS")
            self.step.setText("Tare: keep the probe unloaded")
        elif isinstance(done, cb.Reading) and self.proc is not None and self.proc.tare is \
                done.settled:
            self.say(f"tare: zero {done.settled.mean_counts:.1f} counts (SD "
                     f"{done.settled.sd_counts:.1f})")
            self.say("masses: load them one by one increasing, then unload them in reverse")
            self.step.setText("Put the first mass on, type it, press 'Mass is on'")
        elif isinstance(done, cb.Reading):
            self.say(f"  {cb.reading_line(done, self._placed_t)}")
            self.step.setText(self._next_hint())
        elif isinstance(done, cb.Creep):
            self.say(f"  drift {done.drift_n:+.4f} N ({done.drift_pct:+.3f} % of the load) "
                     f"over {done.duration_s:.1f} s")
            if self.link.place is not None:
                self._place(0.0)
            self.step.setText("Creep test done: remove the mass, then Fit and verdict")
        self._update_buttons()

    def _next_hint(self) -> str:
        assert self.proc is not None
        last = self.proc.readings[-1].mass_kg
        if self.proc.direction == "up":
            return (f"{last:g} kg read. Next: a heavier mass, or start unloading through the "
                    "same masses")
        if last == 0.0:
            return "Back at 0 kg: a creep test, another cycle, or Fit and verdict"
        return f"{last:g} kg read on the way down. Next: the next lighter mass (to 0 kg)"

    def _stop(self, why: str) -> None:
        """The procedure cannot go on: say so; nothing is kept."""
        self.proc = None
        self.say(f"stopped: {why}")
        self.step.setText(f"Stopped: {why}. Nothing was kept; press Start to begin again.")
        self._update_buttons()
        self._end_plan(why)

    def _update_buttons(self) -> None:
        p = self.proc
        ready = p is not None and p.phase is cb.Phase.READY
        self.read_button.setEnabled(ready)
        self.creep_button.setEnabled(ready and bool(p and p.readings)
                                     and p.direction == "down"
                                     and p.readings[-1].mass_kg == 0.0)
        self.fit_button.setEnabled(ready)
        self.save_button.setEnabled(self.record is not None and self.link.save is not None
                                    and not self.saved)
        if self._plan is not None and ready:
            QtCore.QTimer.singleShot(0, self._plan_next)

    def closeEvent(self, event: object) -> None:
        """Stop reading samples."""
        self.timer.stop()
        super().closeEvent(event)  # type: ignore[arg-type]

    def done(self, result: int) -> None:
        """Closed by a button or Escape: stop reading samples."""
        self.timer.stop()
        super().done(result)

