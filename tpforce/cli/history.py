"""`tpforce history`: a patient's PPT per point across visits, recurrences, export and erase.

    tpforce history PATIENT [--json | -o history.html | --window [--screenshot PNG]]
    tpforce history PATIENT --recurrence DATE:REGION:NRS[:ACTIVITY] ...
    tpforce history PATIENT --export FOLDER | --erase [--recordings]   [--yes]
    tpforce history import FOLDER...

The store is SQLite in the per-user data folder unless --db or $TPFORCE_HISTORY_DB names
another file or a postgresql:// server.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import sys
from pathlib import Path

from tpforce.cli import UserError
from tpforce.history.html import render_html
from tpforce.history.paths import private_dir, private_write, user_data_dir
from tpforce.history.record import RecordError, RecurrenceEntry, VisitRecord
from tpforce.history.store import HistoryError, HistoryStore, bulk_rows
from tpforce.history.views import PatientHistory, history_json, recurrences

VISIT_FILE = "visit.json"


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(name, help="a patient's PPT across visits; import, export, erase",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("patient", metavar="PATIENT",
                   help="the patient's pseudonym (or 'import' to index a folder)")
    p.add_argument("folder", nargs="*", metavar="FOLDER",
                   help="with 'import': folders searched for visit.json files and "
                        "recording folders (a recording folder itself, too)")
    p.add_argument("--db", metavar="URL",
                   help="SQLite file or postgresql://user@host/db (default: $TPFORCE_HISTORY_DB,"
                        " else history.sqlite3 in the per-user data folder)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the history as JSON")
    out.add_argument("-o", "--output", metavar="FILE.html",
                     help="write the history report (self-contained HTML)")
    out.add_argument("--window", action="store_true",
                     help="show the history in a window (trend plot, table, recurrences)")
    out.add_argument("--recurrence", action="append", metavar="DATE:REGION:NRS[:ACTIVITY]",
                     help="log that pain came back, e.g. "
                          "'2026-03-04:upper trapezius R:6:long drive' (repeatable)")
    out.add_argument("--export", metavar="FOLDER",
                     help="write the patient's data as JSON and CSV files into FOLDER")
    out.add_argument("--erase", action="store_true",
                     help="delete every row of the patient from the store")
    p.add_argument("--recordings", action="store_true",
                   help="with --erase: delete the recording files the visits name as well")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--screenshot", metavar="PATH.png",
                   help="with --window: save the window as a PNG and close it")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Dispatch on the action asked for."""
    if args.recordings and not args.erase:
        raise UserError("--recordings only goes with --erase")
    if args.screenshot and not args.window:
        raise UserError("--screenshot only goes with --window")
    try:
        if args.patient == "import":
            return _import(args)
        if args.folder:
            raise UserError(f"unexpected {args.folder[0]!r}: only 'import' takes a FOLDER")
        with HistoryStore.open(args.db, create=False) as store:
            if args.recurrence:
                return _recurrence(store, args)
            if args.export:
                return _export(store, args)
            if args.erase:
                return _erase(store, args)
            return _show(store, args)
    except (HistoryError, RecordError) as exc:
        raise UserError(str(exc)) from None


def _confirm(question: str, yes: bool) -> bool:
    """Ask on the terminal; --yes answers for scripts. No answer at all is an error."""
    if yes:
        return True
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    line = sys.stdin.readline() if sys.stdin else ""
    if not line:
        raise UserError("no answer on standard input: add --yes to confirm from a script")
    return line.strip().lower() in ("y", "yes")


def _ppt_cell(before: float | None, after: float | None, change: float | None) -> str:
    if before is not None and after is not None and change is not None:
        return f"{before:.1f} -> {after:.1f} ({change:+.1f})"
    return (f"{'-' if before is None else f'{before:.1f}'} -> "
            f"{'-' if after is None else f'{after:.1f}'}"
            f"{'' if change is None else f' ({change:+.1f})'}")


def format_table(h: PatientHistory) -> str:
    """The history table as text: one line per visit, one column per point."""
    labels = h.point_labels()
    n = len(h.visits)
    at = {v.id: k for k, v in enumerate(h.visits)}
    cells = {label: [""] * n for label in labels}  # built by column: widths come cheap
    for r in h.rows:
        before, after, change = r.before_n, r.after_n, r.change_n
        cells[r.label][at[r.visit_id]] = (
            f"{before:.1f} -> {after:.1f} ({change:+.1f})"
            if before is not None and after is not None and change is not None
            else _ppt_cell(before, after, change))
    columns = [["visit", *map(str, range(1, n + 1))],
               ["date", *(v.visited_at.replace("T", " ")[:16] for v in h.visits)],
               ["operator", *(v.operator for v in h.visits)],
               *([label, *cells[label]] for label in labels),
               ["notes", *(v.notes.replace("\n", " ") for v in h.visits)]]
    widths = [max(map(len, column)) for column in columns]
    row_format = "  ".join(f"{{:<{w}}}" for w in widths).format
    out = [f"patient {h.patient}: {n} visit(s); PPT in N, mean of the trials, "
           "before -> after (change)"]
    out += [row_format(*row).rstrip() for row in zip(*columns, strict=True)]
    rec = recurrences(h)
    if rec:
        out.append("recurrence:")
        for e in rec:
            since = (f" (day {e['days_after_visit']} after a visit)"
                     if e["days_after_visit"] is not None else "")
            out.append(f"  {e['occurred_on']}{since}: pain {e['nrs']}/10 in {e['region']}"
                       f"{', after ' + e['activity'] if e['activity'] else ''}")
    return "\n".join(out) + "\n"


def _show(store: HistoryStore, args: argparse.Namespace) -> int:
    with bulk_rows():  # read and made into text; a window runs after, with the GC on
        h = PatientHistory.load(store, args.patient)
        if args.window:
            text = ""
        elif args.json:
            text = json.dumps(history_json(h), allow_nan=False, separators=(",", ":")) + "\n"
        elif args.output:
            text = render_html(h)
        else:
            text = format_table(h)
    if args.window:
        return _window(h, args.screenshot, args.db)
    if not args.output:
        sys.stdout.write(text)
        return 0
    path = Path(args.output)
    try:
        private_write(path, text)
    except OSError as exc:
        raise UserError(f"cannot write {path} ({exc.strerror}): choose another -o") from None
    print(f"wrote {path} ({len(h.visits)} visit(s) of {h.patient})")
    return 0


def _window(h: PatientHistory, screenshot: str | None, db: str | None) -> int:
    from tpforce.cli.wiring import qt_display_problem

    problem = qt_display_problem()
    if problem:
        raise UserError(problem)
    if screenshot is not None and not Path(screenshot).parent.is_dir():
        raise UserError(f"{Path(screenshot).parent} is not a folder: choose another "
                        "--screenshot")
    from tpforce.ui.history_window import show_history

    def log(entry: RecurrenceEntry) -> tuple[bool, PatientHistory]:
        with HistoryStore.open(db, create=False) as store:
            added = store.add_recurrence(h.patient, entry)
            return added, PatientHistory.load(store, h.patient)

    code = show_history(h, screenshot, log)
    if code == 1:
        raise UserError(f"could not write the screenshot {screenshot}")
    if code:
        return code  # 130: stopped by Ctrl-C or SIGTERM
    if screenshot is not None:
        print(f"wrote {screenshot} (the history window of {h.patient}, "
              f"{len(h.visits)} visit(s))")
    return 0


def _recurrence(store: HistoryStore, args: argparse.Namespace) -> int:
    entries = [RecurrenceEntry.parse(text) for text in args.recurrence]  # all or none
    store.patient_id(args.patient)
    for e in entries:
        added = store.add_recurrence(args.patient, e)
        print(f"{'logged' if added else 'already logged'}: {e.occurred_on} pain {e.nrs}/10 in "
              f"{e.region}{', after ' + e.activity if e.activity else ''}")
    return 0


def _export(store: HistoryStore, args: argparse.Namespace) -> int:
    visits = store.visits(args.patient)
    recurrence = store.recurrence(args.patient)
    folder = Path(args.export)
    if not _confirm(f"Export {len(visits)} visit(s) of {args.patient} to {folder}?", args.yes):
        print("nothing exported")
        return 1
    doc = {"patient": args.patient, "visits": [v.to_dict() for v in visits],
           "recurrence": [e.to_dict() for e in recurrence]}
    points, holds = [], []
    for v in visits:
        for i, p in enumerate(v.points):
            base = {"patient": v.patient, "visited_at": v.visited_at.isoformat(),
                    "operator": v.operator, "point": i + 1, "site": p.site, "side": p.side}
            points.append({**base, "ppt_before_n": p.before_mean_n, "ppt_after_n": p.after_mean_n,
                           "change_n": p.change_n, "verdict": p.verdict,
                           "trials_before_n": ";".join(f"{t:g}" for t in p.ppt_before_n),
                           "trials_after_n": ";".join(f"{t:g}" for t in p.ppt_after_n),
                           "holds": len(p.holds), "notes": p.notes})
            holds += [{**base, "hold": k + 1, **hold} for k, hold in enumerate(p.holds)]
    try:
        private_dir(folder)
        stem = folder / args.patient
        private_write(stem.with_suffix(".json"), json.dumps(doc, indent=2, allow_nan=False))
        private_write(folder / f"{args.patient}-points.csv", _csv(points))
        private_write(folder / f"{args.patient}-holds.csv", _csv(holds))
        private_write(folder / f"{args.patient}-recurrence.csv",
                      _csv([{"patient": args.patient, **e.to_dict()} for e in recurrence]))
    except OSError as exc:
        raise UserError(f"cannot write into {folder} ({exc.strerror}): choose another "
                        "--export folder") from None
    print(f"exported {len(visits)} visit(s), {len(points)} point(s), {len(recurrence)} "
          f"recurrence(s) of {args.patient} to {folder}")
    return 0


def _csv(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _erase(store: HistoryStore, args: argparse.Namespace) -> int:
    n = len(store.visit_dates(args.patient))
    what = " and the recording files they name" if args.recordings else ""
    if not _confirm(f"Erase {args.patient}: {n} visit(s), every point, trial, hold, note and "
                    f"recurrence{what}, from {store.where}? This cannot be undone.", args.yes):
        print("nothing erased")
        return 1
    paths = store.erase_patient(args.patient)
    print(f"erased {args.patient}: {n} visit(s)")
    if not args.recordings:
        return 0
    failed = 0
    for text in paths:
        path = Path(text)
        if not _deletable(path):
            failed += 1
            print(f"tpforce history: not deleting {path}: it is not a recording of its own "
                  "(a root, home or data folder, or above the current folder); check it by "
                  "hand", file=sys.stderr)
            continue
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
            else:
                print(f"recording already gone: {path}")
                continue
            print(f"deleted recording {path}")
        except OSError as exc:
            failed += 1
            print(f"tpforce history: could not delete {path} ({exc.strerror}): delete it by "
                  "hand", file=sys.stderr)
    return 2 if failed else 0


def _deletable(path: Path) -> bool:
    """A recording path safe to delete: absolute, and not a root, the home or data folder,
    or a folder holding any of them or the current folder."""
    if not path.is_absolute():
        return False
    target = path.resolve()
    if target == Path(target.anchor) or (target.is_dir() and os.path.ismount(target)):
        return False
    guarded = (Path.home(), user_data_dir(), Path.cwd())
    return not any(g.resolve() == target or target in g.resolve().parents for g in guarded)


def _recordings(folder: Path, skipped: list[Path]) -> list[VisitRecord]:
    """The visits of the recording folders under `folder` (each skipped one is named)."""
    from tpforce.history.fromsession import visit_from_session
    from tpforce.report.load import is_recording, load_session
    from tpforce.report.session import ReportError

    out = []
    found = {p.parent for name in ("meta.json", "context.json") for p in folder.rglob(name)}
    for rec in sorted(found):
        if not is_recording(rec):
            continue
        try:
            out.append(visit_from_session(load_session(rec.resolve())))
        except (ReportError, RecordError) as exc:
            skipped.append(rec)
            print(f"tpforce history: skipped {rec}: {exc}", file=sys.stderr)
    return out


def _import(args: argparse.Namespace) -> int:
    if not args.folder:
        raise UserError("'import' needs a FOLDER: tpforce history import FOLDER...")
    folders = [Path(f) for f in args.folder]
    for folder in folders:
        if not folder.is_dir():
            raise UserError(f"{folder} is not a folder: give the folder holding the visits")
    records: list[VisitRecord] = []
    bad = 0
    for folder in folders:
        bad += _gather(folder, records)
    named = str(folders[0]) if len(folders) == 1 else f"{len(folders)} folders"
    if not records:
        if bad:
            print(f"{named}: no readable visit; {bad} file(s) skipped")
            return 2
        raise UserError(f"no {VISIT_FILE} or recording under {named}: give the folder "
                        "holding the visits")
    with HistoryStore.open(args.db, create=True) as store:
        status = store.index_visits(records)
        where = store.where
    counts = {s: status.count(s) for s in ("added", "updated", "unchanged")}
    print(f"{named}: {len(records)} visit(s) into {where}: {counts['added']} added, "
          f"{counts['updated']} updated, {counts['unchanged']} unchanged"
          + (f"; {bad} file(s) skipped" if bad else ""))
    return 2 if bad else 0


def _gather(folder: Path, records: list[VisitRecord]) -> int:
    """Add the visits under `folder` to `records`; the number of files skipped."""
    bad = 0
    for path in sorted(folder.rglob(VISIT_FILE)):
        try:
            rec = VisitRecord.from_json(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, RecordError) as exc:
            bad += 1
            print(f"tpforce history: skipped {path}: {exc}", file=sys.stderr)
            continue
        if rec.recording is not None and not Path(rec.recording).is_absolute():
            rec.recording = str((path.parent / rec.recording).resolve())
        records.append(rec)
    skipped: list[Path] = []
    records += _recordings(folder, skipped)
    return bad + len(skipped)
