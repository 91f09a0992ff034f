"""What the service's A4 reports share: their type and their tables of figures (ReportLab)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.platypus import Paragraph, Table, TableStyle

RULE, HEAD, GREY = colors.HexColor("#b1b4b6"), colors.HexColor("#f3f2f1"), colors.HexColor("#505a5f")


def styles() -> dict[str, ParagraphStyle]:
    """Body text, the two headings and small grey print."""
    sample = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=sample["BodyText"], fontName="Helvetica", fontSize=9.5, leading=12.5)
    return {
        "body": body,
        "h1": ParagraphStyle("h1", parent=sample["Heading1"], fontName="Helvetica-Bold", fontSize=18, leading=22),
        "h2": ParagraphStyle(
            "h2", parent=sample["Heading2"], fontName="Helvetica-Bold", fontSize=12.5, leading=16, spaceBefore=8
        ),
        "small": ParagraphStyle("small", parent=body, fontSize=8.5, textColor=GREY),
    }


def data_table(rows: list[list], widths: list[float], style: ParagraphStyle, fills=(), empty: str = "None") -> Table:
    """A header row and its rows (a row saying `empty` when there are none), ruled, the header
    shaded and repeated on each page; `widths` in points; `fills`: more TableStyle commands."""
    if len(rows) == 1:
        rows = rows + [[empty] + [""] * (len(rows[0]) - 1)]
    table = Table(
        [[Paragraph(escape(str(cell)), style) for cell in row] for row in rows],
        colWidths=widths,
        repeatRows=1,
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("BACKGROUND", (0, 0), (-1, 0), HEAD),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                *fills,
            ]
        )
    )
    return table
