"""The report as PDF, through Qt: QTextDocument lays out the report's HTML and prints it on a
QPdfWriter (A4, 300 dpi). Qt already draws the plots and ships with the window, so the PDF
needs no further engine; its text stays text (searchable, `pdftotext` reads it).
"""

from __future__ import annotations

from pathlib import Path

from tpforce.report.html import render
from tpforce.report.session import SessionData
from tpforce.ui import report_plots as plots


def pdf_bytes(sessions: list[SessionData]) -> bytes:
    """The report as a PDF document."""
    from PyQt5.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSizeF, QUrl
    from PyQt5.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument

    plots.ensure_app()
    images: list[bytes] = []

    def embed(png: bytes) -> str:
        images.append(png)
        return f"plot:{len(images)}"

    markup = render(sessions, embed, style=False)
    doc = QTextDocument()
    doc.setDefaultStyleSheet("td, th { padding: 2px; } th { background-color: #eeeeee; }"
                             " .note { color: #555555; }")
    for k, png in enumerate(images):
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"plot:{k + 1}"),
                        QImage.fromData(png, "PNG"))
    doc.setHtml(markup.replace('<table>', '<table border="1" cellspacing="0" '
                                          'cellpadding="3">'))
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buf)
    writer.setResolution(300)
    writer.setTitle("tpforce session report")
    writer.setCreator("tpforce")
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                     QPageLayout.Orientation.Portrait,
                                     QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter))
    # Lay the document out on a page 760 px wide (the plots are 720), scaled to the paper.
    doc.setPageSize(QSizeF(760, 760 * 267 / 180))
    doc.print_(writer)
    buf.close()
    return bytes(data)


def write_pdf(sessions: list[SessionData], path: str | Path) -> None:
    """Write the PDF report to `path`."""
    Path(path).write_bytes(pdf_bytes(sessions))
