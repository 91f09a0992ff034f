"""A recharge statement as an A4 PDF (ReportLab), laid out to read well printed."""

from __future__ import annotations

import io
from datetime import timedelta
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from consortium.core.formatting import day, money
from consortium.recharges.models import Statement
from consortium.recharges.services import describe

PAYMENT_DAYS = 30
BASIS_UNITS = {"placements": "placements started", "bed_nights": "bed-nights"}


def _pool_facts(statement: Statement, pool) -> list[list[str]]:
    facts = [
        ["Cost pool", pool.name],
        ["Period", f"{day(pool.first_day)} to {day(pool.last_day)}"],
        ["Basis", describe(pool)],
    ]
    if pool.basis in BASIS_UNITS:
        unit = BASIS_UNITS[pool.basis]
        facts.append(["Your usage", f"{statement.usage:,} of the consortium's {statement.consortium_usage:,} {unit}"])
    if statement.authority_code:
        facts.append(["Days of membership in the period", f"{statement.membership_days} of {pool.days}"])
    facts.append(["Your share of the pool", f"{statement.share_percent:.2f}%"])
    return facts


def _contributions_facts(statement: Statement) -> list[list[str]]:
    return [
        ["Period", f"{day(statement.first_day)} to {day(statement.last_day)}"],
        ["Basis", "Your agreed contributions to the weekly fees of the placements below"],
        ["Nights contributed", f"{statement.usage:,}"],
    ]


def _lines_table(statement: Statement, body) -> Table:
    rows = [["Placing authority", "Child reference", "Nights", "Amount"]] + [
        [line.authority_code, line.child_ref, f"{line.nights:,}", money(line.amount_pence)] for line in statement.lines
    ]
    table = Table(rows, colWidths=[45 * mm, 55 * mm, 25 * mm, 40 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 9.5),
                ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.HexColor("#b1b4b6")),
            ]
        )
    )
    return table


def statement_pdf(statement: Statement) -> bytes:
    pool, consortium = statement.pool, statement.consortium
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName="Helvetica", fontSize=10.5, leading=14)
    small = ParagraphStyle("small", parent=body, fontSize=9, leading=12, textColor=colors.HexColor("#505a5f"))
    heading = ParagraphStyle(
        "heading", parent=styles["Heading1"], fontName="Helvetica-Bold", fontSize=20, leading=24, spaceAfter=4
    )
    title = (
        "Credit note"
        if statement.is_credit_note
        else "Contributions statement"
        if statement.is_contributions
        else "Recharge statement"
    )
    payer = statement.payer
    code = statement.authority_code or statement.cofunder.ref

    story = [
        Paragraph(escape(consortium.name), small),
        Paragraph(f"Lead authority: {escape(consortium.lead.name)}", small),
        Spacer(1, 8 * mm),
        Paragraph(title, heading),
        Paragraph(f"To: <b>{escape(payer.name)}</b> ({escape(code)})", body),
        Spacer(1, 6 * mm),
    ]
    facts = [
        ["Statement number", statement.number or "Draft: not yet issued"],
        ["Issue date", day(statement.issued_on) if statement.issued_on else "Not yet issued"],
    ]
    if statement.is_credit_note:
        facts.append(["Credits", statement.credit_for.number])
    facts += _contributions_facts(statement) if statement.is_contributions else _pool_facts(statement, pool)
    table = Table(
        [[Paragraph(k, body), Paragraph(escape(str(v)), body)] for k, v in facts], colWidths=[60 * mm, 105 * mm]
    )
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.HexColor("#b1b4b6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
            ]
        )
    )
    story += [table, Spacer(1, 8 * mm)]
    if statement.lines:
        story += [_lines_table(statement, body), Spacer(1, 6 * mm)]
    amount = Table(
        [["Amount" + (" credited" if statement.is_credit_note else " due"), money(statement.amount_pence)]],
        colWidths=[60 * mm, 105 * mm],
    )
    amount.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 16),
                ("LINEABOVE", (0, 0), (-1, 0), 2, colors.black),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    story += [amount, Spacer(1, 8 * mm)]
    if statement.note:
        story += [Paragraph(escape(statement.note), body), Spacer(1, 4 * mm)]
    if statement.is_credit_note:
        story.append(Paragraph("This credit note cancels the statement it names. No payment is due.", body))
    elif statement.issued_on:
        due = statement.issued_on + timedelta(days=PAYMENT_DAYS)
        story.append(
            Paragraph(
                f"Payment terms: please pay within {PAYMENT_DAYS} days, by {day(due)}, quoting the statement number.",
                body,
            )
        )
    story += [
        Spacer(1, 10 * mm),
        Paragraph(
            "Each placement's contribution is nights x the weekly share / 7; the quarter's total is worked out "
            "exactly and rounded once, and the lines add up to it to the penny."
            if statement.is_contributions
            else "Shares are worked out exactly and rounded once, so a pool's statements add up to it to the penny.",
            small,
        ),
    ]

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=f"{title} {statement.number or ''}".strip(),
        author=consortium.name,
    )
    document.build(story)
    return buffer.getvalue()
