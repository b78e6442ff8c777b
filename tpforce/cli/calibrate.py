"""`tpforce calibrate --port PORT`: the guided calibration bench, in the terminal.

Warm-up check, tare, known masses up then down (each read when it has settled), an optional
creep test; then the fit, the figures and the verdict (calibration/README.md). The record is
kept in the user's data folder and, with --write, in the probe's EEPROM (read back and
compared). `--verify --mass M` checks one known mass against the probe's record.
`--port sim --bench` runs on the simulated probe and places the masses itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tpforce.cli import UserError
from tpforce.cli.argtypes import non_negative, positive
from tpforce.cli.cellargs import add_cell_args, cell_from_args
from tpforce.core import calbench as cb
from tpforce.core.events import Event
from tpforce.core.source import Sink, SourceOpenError
from tpforce.io.probe import CalWriteError, ProbeSource
from tpforce.io.sim.cell import SimCell
from tpforce.io.source import CommandError

if TYPE_CHECKING:
    from tpforce.ui.calibration_dialog import BenchLink

NO_DATA_S = 5.0  # no sample for this long: the probe stopped
SIM = "sim"
SIM_SPEED = 20.0  # the simulated probe typed at: 20 s of device time per second


def data_folder() -> Path:
    """Where calibration records are kept: $XDG_DATA_HOME/tpforce/calibration."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "tpforce" / "calibration"


def save_json(folder: Path, name: str, record: dict[str, object]) -> Path:
    """Write `record` as folder/name atomically (folder 0700, file 0600): whole or not at all."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    path = folder / name
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


class _Samples:
    """The consumer the probe's reader feeds: batches queued for the procedure's thread."""

    def __init__(self) -> None:
        self.q: queue.Queue[np.ndarray] = queue.Queue()
        self.last_t_s = -np.inf

    def on_batch(self, batch: np.ndarray) -> None:
        self.q.put(batch.copy())

    def on_event(self, event: Event) -> None:
        """Events are not needed: a restart shows in the samples' flags."""

    def close(self) -> None:
        """Nothing to release."""

    def take(self, timeout: float = NO_DATA_S) -> np.ndarray:
        """The next batch; UserError if the probe sends nothing for `timeout`."""
        try:
            batch = self.q.get(timeout=timeout)
        except queue.Empty:
            raise UserError(f"no samples from the probe for {timeout:g} s: check the cable "
                            "and that it streams (tpforce stream)") from None
        return self._check(batch)

    def _check(self, batch: np.ndarray) -> np.ndarray:
        """Refuse a batch after a restart or with the ADC at full scale."""
        problem = cb.batch_problem(batch["flags"])
        if problem:
            raise UserError(problem)
        self.last_t_s = float(batch["t_s"][-1])
        return batch

    def drain(self) -> float:
        """Drop what has arrived; the device time of the latest sample."""
        with contextlib.suppress(queue.Empty):
            while True:
                self._check(self.q.get_nowait())
        return self.last_t_s


class _Operator:
    """Who places the masses: a person at the terminal, or the simulated bench."""

    def __init__(self, cell: SimCell | None, samples: _Samples, auto: bool,
                 ask: Callable[[str], str] | None = None) -> None:
        self.cell = cell
        self.samples = samples
        self.auto = auto  # the bench places the masses, nobody is asked
        self._ask = ask

    def ask(self, prompt: str) -> str:
        """One line from the operator."""
        return (self._ask or input)(prompt)

    def place(self, mass_kg: float, what: str, typed: bool = False) -> float:
        """Have `mass_kg` put on the probe (`typed`: the operator already did and said so);
        the device time from which the samples carry it."""
        if self.auto:
            print(f"  [bench] {what}: {mass_kg:g} kg", flush=True)
        elif not typed:
            self.ask(f"  {what}: put {mass_kg:g} kg on the probe, then press Enter ")
        if self.cell is not None:  # the simulated cell: the mass goes on now
            return self.cell.wait_placed(self.cell.place(mass_kg)) - 5e-7
        return self.samples.drain()

    def next_mass(self, direction: str) -> float | None:
        """The mass the operator puts on next (typed), or None when they say 'done'."""
        while True:
            text = self.ask(f"  mass now on the probe in kg ({direction}; 'done' to finish): ")
            if text.strip().lower() in ("done", "d", "q"):
                return None
            try:
                return float(text)
            except ValueError:
                print(f"  {text!r} is not a mass: type kilograms, e.g. 0.5")


def _parse_masses(text: str) -> list[float]:
    try:
        masses = [float(m) for m in text.split(",") if m.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give masses in kg separated by commas, "
                                         "e.g. 0,1,2,5,8,10") from None
    if any(not np.isfinite(m) or m < 0 for m in masses):
        raise argparse.ArgumentTypeError("masses are kilograms, 0 or more")
    return masses


def plan(masses: list[float], cycles: int) -> list[float]:
    """The bench's order: the masses up, then down to 0, `cycles` times (the tare is the 0)."""
    up = [m for m in masses if m > 0]
    if up != sorted(up):
        raise UserError(f"--masses {','.join(f'{m:g}' for m in masses)} are out of order: "
                        "list them increasing (the bench unloads them in reverse)")
    one = up + up[-2::-1] + [0.0] if up else []
    return one * cycles


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(name, help="calibrate a probe with known masses (calibration/README.md)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", required=True,
                   help="the probe's serial port or pyserial URL; 'sim' for the simulated probe")
    p.add_argument("--bench", action="store_true",
                   help="with --port sim: the simulated bench places the --masses itself")
    p.add_argument("--masses", type=_parse_masses, metavar="KG,KG,...",
                   help="the masses in increasing order, e.g. 0,1,2,5,8,10 (needed with --bench)")
    p.add_argument("--cycles", type=int, default=1, help="up-down cycles (2+ give repeatability)")
    p.add_argument("--capacity", type=positive, default=10.0, metavar="KG",
                   help="the cell's rated capacity; heavier masses are refused (default 10)")
    p.add_argument("--quadratic", action="store_true", help="fit a quadratic, not a line")
    p.add_argument("--creep", type=positive, metavar="KG", help="hold this mass for a creep test")
    p.add_argument("--creep-s", type=positive, default=cb.CREEP_S, metavar="S",
                   help="how long to hold it (default %(default)g s; 60-90 is usual)")
    p.add_argument("--warmup-s", type=non_negative, default=cb.WARMUP_S, metavar="S",
                   help="unloaded warm-up check (default %(default)g s; 0 skips it)")
    p.add_argument("--g", type=positive, default=cb.G_STANDARD, metavar="M_PER_S2",
                   help="local gravity (default %(default)g)")
    p.add_argument("--tip-area", type=int, default=100, metavar="MM2", help="tip area, mm^2")
    p.add_argument("--operator", help="who calibrates (kept in the record)")
    p.add_argument("--records", type=Path, metavar="DIR",
                   help=f"where records are kept (default {data_folder()})")
    p.add_argument("--write", action="store_true",
                   help="also write the record into the probe's EEPROM (read back and compared)")
    p.add_argument("--verify", action="store_true",
                   help="check one known mass (--mass) against the probe's record")
    p.add_argument("--mass", type=positive, metavar="KG", help="the known mass for --verify")
    p.add_argument("--tolerance", type=positive, default=0.5, metavar="PCT",
                   help="--verify passes within this %% of the mass's weight (default 0.5)")
    p.add_argument("--max-age-days", type=positive, default=cb.DEFAULT_MAX_AGE_DAYS,
                   metavar="DAYS", help="warn about a record older than this (default 183)")
    p.add_argument("--dialog", action="store_true",
                   help="run the procedure in the calibration dialog instead of the terminal "
                        "(with --bench it runs unattended)")
    p.add_argument("--screenshot", metavar="PNG",
                   help="with --dialog --bench: save the dialog as a PNG once done, and close")
    p.add_argument("--serial", default="SIM00001", help="with --port sim: the probe's serial")
    add_cell_args(p)
    p.set_defaults(run=run)


@contextlib.contextmanager
def _connect(args: argparse.Namespace, sink: Sink | None = None
             ) -> Iterator[tuple[ProbeSource, _Samples, SimCell | None]]:
    """The probe (starting the simulated one for --port sim), streaming into a queue (or
    into `sink`)."""
    from tpforce.io.sim.probe import SimProbe

    probe: SimProbe | None = None
    cell: SimCell | None = None
    port = args.port
    if args.bench and port != SIM:
        raise UserError("--bench places masses on the simulated probe only: use --port sim")
    if port == SIM:
        cell = cell_from_args(args, bench=True)  # the masses typed or listed go on it
        speed = 0 if args.bench else SIM_SPEED
        probe = SimProbe(cell=cell, serial=args.serial, speed=speed).start()
        port = probe.port
    samples = _Samples()
    source = ProbeSource(port, sink=sink or samples, reconnect=False)
    try:
        try:
            source.open()
        except SourceOpenError as exc:
            raise UserError(str(exc)) from None
        yield source, samples, cell
    finally:
        source.close()
        if probe is not None:
            probe.stop()


def bench_link(source: ProbeSource, folder: Path | None = None, write: bool = True,
               cell: SimCell | None = None, max_age_days: float = cb.DEFAULT_MAX_AGE_DAYS
               ) -> BenchLink:
    """What the calibration dialog needs from an open probe: its identity, its current
    record (`<serial>.json` in `folder` when it matches the EEPROM, else the EEPROM's), and
    `keep_record` to keep a new one (written to the EEPROM too with `write`). `cell`: the
    simulated bench's cell, on which the dialog places the masses itself."""
    from tpforce.ui.calibration_dialog import BenchLink

    folder = folder or data_folder()
    info = source.info
    serial = info.serial if info is not None else ""
    stored = source.record
    record: dict[str, object] | None = None
    where = ""
    if stored is not None:
        when = datetime.fromtimestamp(stored.cal_unix, timezone.utc)
        record = {"serial": stored.serial, "zero_counts": stored.zero_counts,
                  "n_per_count": stored.n_per_count, "tip_area_mm2": stored.tip_area_mm2,
                  "calibrated_utc": when.strftime("%Y-%m-%dT%H:%M:%SZ") if stored.cal_unix
                  else ""}
        where = "the probe's EEPROM"
        path = folder / f"{serial}.json"
        with contextlib.suppress(OSError, ValueError):
            full = json.loads(path.read_text(encoding="utf-8"))
            if (isinstance(full, dict) and full.get("serial") == stored.serial
                    and cb.eeprom_record(full) == stored):
                record, where = full, f"{path} (the probe's EEPROM holds the same)"

    def place(mass_kg: float) -> float:
        assert cell is not None
        return cell.wait_placed(cell.place(mass_kg)) - 5e-7

    return BenchLink(
        serial=serial, rate_sps=source.nominal_rate_sps, gain=info.gain if info else 0,
        record=record, record_from=where,
        save=lambda rec: keep_record(rec, folder, source if write else None),
        place=place if cell is not None else None,
        write_label="Keep the record and write it to the probe" if write else "Keep the record",
        max_age_days=max_age_days,
        counts_per_n_hint=1.0 / stored.n_per_count if stored and stored.n_per_count else None)


def _feed_until(proc: cb.BenchProcedure, samples: _Samples) -> object:
    """Feed samples until the procedure completes its current step; that step's result."""
    while True:
        batch = samples.take()
        done = proc.feed(batch["t_s"], batch["raw"])
        if done is not None:
            return done


def run(args: argparse.Namespace) -> int:
    """Run the procedure (or --verify); exit 0 accepted, 1 rejected, 2 bad input."""
    if args.bench and not args.verify and not args.masses:
        raise UserError("--bench needs --masses, e.g. --masses 0,1,2,5,8,10")
    if args.verify and args.mass is None:
        raise UserError("--verify needs the known mass: --mass KG")
    if args.cycles < 1:
        raise UserError("--cycles must be 1 or more")
    if args.screenshot and not (args.dialog and args.bench):
        raise UserError("--screenshot is for the unattended dialog: add --dialog --bench")
    if args.dialog:
        return _run_dialog(args)
    try:
        with _connect(args) as (source, samples, cell):
            try:
                info = source.hello(timeout=2.0)
            except CommandError as exc:
                raise UserError(f"{args.port}: the device does not answer as a tpforce probe "
                                f"({exc})") from None
            operator = _Operator(cell, samples, auto=args.bench)
            if args.verify:
                return _verify(args, source, samples, operator, info.serial, info.rate_sps)
            return _calibrate(args, source, samples, operator, info.serial, info.rate_sps,
                              info.gain)
    except (cb.BenchError, CalWriteError) as exc:
        raise UserError(str(exc)) from None
    except EOFError:
        raise UserError("input ended before the procedure did: nothing was saved") from None


def _calibrate(args: argparse.Namespace, source: ProbeSource, samples: _Samples,
               operator: _Operator, serial: str, rate_sps: int, gain: int) -> int:
    who = args.operator or ("simulated bench" if args.bench else operator.ask(
        "  your name (kept in the record): ").strip())
    if not who:
        raise UserError("say who calibrates (--operator NAME): the record keeps it")
    try:
        old = source.read_calibration(timeout=2.0)
    except CommandError:
        old = None
    hint = 1.0 / old.n_per_count if old is not None and old.n_per_count else None

    proc = cb.BenchProcedure(rate_sps, args.capacity, args.g, args.warmup_s,
                             counts_per_n_hint=hint)
    print(f"calibrating probe {serial} ({rate_sps} samples/s), capacity {args.capacity:g} kg, "
          f"g = {args.g:g} m/s^2")
    if old is not None:
        when = datetime.fromtimestamp(old.cal_unix, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        age = cb.record_expiry(when, max_age_days=args.max_age_days)
        print(f"its current record: {age.message}")
    samples.drain()
    if args.warmup_s > 0:
        print(f"warm-up: leave the probe unloaded for {args.warmup_s:g} s ...", flush=True)
        w = _feed_until(proc, samples)
        assert isinstance(w, cb.Warmup)
        print(f"  zero wandered {w.wander_counts:.0f} counts, noise {w.noise_counts:.1f} "
              "counts RMS")
    print("tare: keep the probe unloaded ...", flush=True)
    tare = _feed_until(proc, samples)
    assert isinstance(tare, cb.Reading)
    print(f"  zero {tare.settled.mean_counts:.1f} counts (SD {tare.settled.sd_counts:.1f})")
    try:
        result = _steps(args, proc, operator, samples)
    except (UserError, cb.BenchError, EOFError) as exc:
        _keep_incomplete(args, proc, serial, who, exc)
        raise
    record = cb.build_record(result, serial, who, datetime.now(timezone.utc), args.tip_area, gain)
    _report(result)
    if args.write and args.quadratic and record["accepted"]:
        print("note: the EEPROM holds the linear fit; the quadratic is in the JSON record "
              "(use it with --calibration FILE)")
    for line in keep_record(record, args.records or data_folder(),
                            source if args.write else None):
        print(line, flush=True)
    return 0 if record["accepted"] else 1


def keep_record(record: dict[str, object], folder: Path, write_to: ProbeSource | None
                ) -> Iterator[str]:
    """Keep a finished run as `<serial>-<time>.json`; an accepted one also becomes
    `<serial>.json`, after (with `write_to`) the probe's EEPROM took it and read it back.
    Yields what was done, line by line; CalWriteError leaves `<serial>.json` as it was."""
    serial = str(record["serial"])
    stamp = str(record["calibrated_utc"]).replace(":", "").replace("-", "")
    kept = save_json(folder, f"{serial}-{stamp}.json", record)
    yield f"record kept in {kept}"
    if not record["accepted"]:
        yield f"REJECTED: {serial}.json and the probe's EEPROM keep the previous calibration"
        return
    if write_to is not None:
        write_to.write_calibration(cb.eeprom_record(record))
        yield "written to the probe's EEPROM and read back: identical"
    yield f"ACCEPTED: {save_json(folder, f'{serial}.json', record)}"


def _steps(args: argparse.Namespace, proc: cb.BenchProcedure, operator: _Operator,
           samples: _Samples) -> cb.BenchResult:
    """The masses up and down, the creep test, and the fit."""
    print("masses: load them one by one increasing, then unload them in reverse")
    steps: Iterator[float | None]
    if args.bench:
        steps = iter([*plan(args.masses, args.cycles), None])
    else:
        steps = iter(lambda: operator.next_mass(proc.direction), object())
    for mass in steps:
        if mass is None:
            break
        try:
            from_t = operator.place(mass, "place", typed=True)
            direction = proc.place(mass, from_t)
            r = _feed_until(proc, samples)
        except cb.BenchError as exc:
            if operator.auto:
                raise
            print(f"  refused: {exc}")
            proc.cancel()
            continue
        assert isinstance(r, cb.Reading) and r.direction == direction
        print(f"  {cb.reading_line(r, from_t)}")
    if args.creep:
        print(f"creep: {args.creep:g} kg held for {args.creep_s:g} s ...", flush=True)
        from_t = operator.place(args.creep, "place and leave")
        proc.creep(args.creep, from_t, args.creep_s)
        c = _feed_until(proc, samples)
        assert isinstance(c, cb.Creep)
        print(f"  drift {c.drift_n:+.4f} N ({c.drift_pct:+.3f} % of the load) over "
              f"{c.duration_s:.1f} s")
        operator.place(0.0, "remove the creep mass")
    return proc.result(quadratic=args.quadratic)


def _keep_incomplete(args: argparse.Namespace, proc: cb.BenchProcedure, serial: str, who: str,
                     why: BaseException) -> None:
    """A procedure that stopped early keeps its readings (never as the probe's record)."""
    if len(proc.readings) < 2:
        return
    when = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    record: dict[str, object] = {
        "serial": serial, "calibrated_utc": when, "by": who, "accepted": False,
        "incomplete": str(why) or type(why).__name__,
        "points": [{"mass_kg": r.mass_kg, "force_n": r.force_n,
                    "mean_counts": round(r.settled.mean_counts, 1),
                    "sd_counts": round(r.settled.sd_counts, 1), "direction": r.direction,
                    "cycle": r.cycle} for r in proc.readings],
    }
    stamp = when.replace(":", "").replace("-", "")
    path = save_json(args.records or data_folder(), f"{serial}-{stamp}-incomplete.json", record)
    print(f"the readings so far are kept in {path}", flush=True)


def _report(result: cb.BenchResult) -> None:
    """The fit, the figures and the verdict."""
    for line in cb.report_lines(result):
        print(line)


def _run_dialog(args: argparse.Namespace) -> int:
    """The procedure in the calibration dialog; exit 0 accepted and kept, 1 not, 2 stopped,
    130 closed by Ctrl-C or SIGTERM."""
    import sys

    from tpforce.cli.wiring import qt_display_problem
    from tpforce.core.ringbuffer import SampleRing

    problem = qt_display_problem()
    if problem:
        raise UserError(problem)
    if args.verify:
        raise UserError("--verify runs in the terminal: drop --dialog")
    masses = plan(args.masses, args.cycles) if args.bench else []
    from PyQt5 import QtWidgets

    from tpforce.ui.calibration_dialog import CalibrationDialog
    from tpforce.ui.loop import run_until_closed

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    assert app is not None  # it must outlive the dialog
    ring = SampleRing(600 * 80)  # 10 min at 80 samples/s: more than the dialog ever lags
    with _connect(args, sink=ring) as (source, _samples, cell):
        link = bench_link(source, args.records, args.write, cell, args.max_age_days)
        dlg = CalibrationDialog(ring, link)
        dlg.capacity.setValue(args.capacity)
        dlg.warmup.setValue(args.warmup_s)
        dlg.gravity.setValue(args.g)
        dlg.creep_kg.setValue(args.creep or 0.0)
        dlg.creep_s.setValue(args.creep_s)
        dlg.quadratic.setChecked(args.quadratic)
        dlg.operator.setText(args.operator or ("simulated bench" if args.bench else ""))
        stopped: list[str] = []

        def finished(why: str) -> None:
            stopped.append(why)
            if args.screenshot and not dlg.grab().save(args.screenshot, "PNG"):
                stopped[-1] = stopped[-1] or f"{args.screenshot}: the PNG cannot be written"
            dlg.accept()

        dlg.show()
        if args.bench:
            dlg.run_plan(masses, finished)
        # The unattended bench says only its outcome; a person is told how to stop.
        code = 0 if stopped else run_until_closed(
            app, dlg, label=None if args.bench else "calibration dialog")
        print(dlg.log.toPlainText())
    if code:
        return code  # 130: Ctrl-C or SIGTERM closed the dialog (and the port)
    if stopped and stopped[0]:
        raise UserError(stopped[0])
    return 0 if dlg.saved and dlg.record is not None and dlg.record["accepted"] else 1


def _verify(args: argparse.Namespace, source: ProbeSource, samples: _Samples,
            operator: _Operator, serial: str, rate_sps: int) -> int:
    try:
        stored = source.read_calibration(timeout=2.0)
    except CommandError as exc:
        raise UserError(f"the probe's calibration cannot be read ({exc}): recalibrate it") \
            from None
    if stored is None:
        raise UserError(f"probe {serial} holds no calibration: run 'tpforce calibrate' first")
    cb.check_serial(stored.serial, serial)
    when = datetime.fromtimestamp(stored.cal_unix, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    age = cb.record_expiry(when, max_age_days=args.max_age_days)
    print(("WARNING: " if age.expired else "") + f"probe {serial}: {age.message}")
    if args.mass > args.capacity:
        raise UserError(f"{args.mass:g} kg is beyond the cell's capacity of {args.capacity:g} kg")
    proc = cb.BenchProcedure(rate_sps, args.capacity, args.g, warmup_s=0.0)
    print("tare: keep the probe unloaded ...", flush=True)
    samples.drain()
    tare = _feed_until(proc, samples)
    assert isinstance(tare, cb.Reading)
    from_t = operator.place(args.mass, "place")
    det = cb.SettleDetector(rate_sps, proc.noise_counts, from_t)
    got = None
    while got is None:
        batch = samples.take()
        got = det.feed(batch["t_s"], batch["raw"])
    force = (got.mean_counts - tare.settled.mean_counts) * stored.n_per_count
    want = args.mass * args.g
    err = 100.0 * (force - want) / want
    ok = abs(err) <= args.tolerance
    print(f"{args.mass:g} kg = {want:.3f} N reads {force:.3f} N ({err:+.3f} %, tolerance "
          f"{args.tolerance:g} %): " + ("PASS" if ok else "FAIL: recalibrate the probe"))
    return 0 if ok else 1
