"""Session reports: a session in memory (`SessionData`) as self-contained HTML or PDF."""

from __future__ import annotations

from pathlib import Path

from tpforce.report.session import ReportError, SessionData

__all__ = ["ReportError", "SessionData", "write_report"]


def write_report(sessions: list[SessionData], path: str | Path) -> Path:
    """Write the report of `sessions` to `path`: HTML for .html/.htm, PDF for .pdf.

    The file is private (0600): it names a patient by pseudonym and holds their data.
    """
    from tpforce.history.paths import private_write

    out = Path(path)
    suffix = out.suffix.lower()
    if suffix in (".html", ".htm"):
        from tpforce.report.html import render

        private_write(out, render(sessions))
    elif suffix == ".pdf":
        from tpforce.ui.report_pdf import pdf_bytes

        private_write(out, pdf_bytes(sessions))
    else:
        raise ReportError(f"{out}: the report is written as .html or .pdf; name it so")
    return out
