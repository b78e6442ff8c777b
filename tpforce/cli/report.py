"""`tpforce report FILE... -o report.html|report.pdf`: the report of one or more sessions.

    tpforce report session-20260302-093000.tpfrec -o report.html
    tpforce report a.tpfrec b.tpfrec -o visits.pdf

Each FILE is a recording folder. The HTML is self-contained (inline PNG plots, no scripts,
no network); the PDF is laid out by Qt. The patient is named by pseudonym only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tpforce.cli import UserError


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(name, help="a session report (HTML or PDF) from recordings",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", metavar="FILE", help="recording folders (*.tpfrec)")
    p.add_argument("-o", "--output", required=True, metavar="REPORT.html|REPORT.pdf",
                   help="where to write the report; .html or .pdf says which")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Read every recording first, then write the one report."""
    from tpforce.report import ReportError, write_report
    from tpforce.report.load import load_session
    from tpforce.report.session import point_views

    out = Path(args.output)
    if out.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise UserError(f"{out}: name the report .html or .pdf")
    if not out.parent.is_dir():
        raise UserError(f"{out.parent} is not a folder: choose another -o")
    try:
        sessions = [load_session(f) for f in args.files]
        write_report(sessions, out)
    except ReportError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot write {out} ({exc.strerror}): choose another -o") from None
    points = sum(len(point_views(s)) for s in sessions)
    print(f"wrote {out} ({len(sessions)} session(s), {points} point(s))")
    return 0
