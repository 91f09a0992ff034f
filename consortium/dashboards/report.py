"""The quarterly contract monitoring report: one contract, one quarter, as an A4 PDF."""

from __future__ import annotations

import io
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate
from sqlalchemy import func, select

from audits.models import Flag
from consortium.core import pdf
from consortium.core.extensions import db
from consortium.core.formatting import day, money, number
from contracts import returns, usage
from contracts.models import Contract, Placement
from providers.models import Home
from providers.quality import current_graded

RAG_FILL = {"red": colors.HexColor("#f6d7d2"), "amber": colors.HexColor("#fcd6c3"), "green": colors.HexColor("#cce2d8")}


def report_pdf(contract: Contract, period: str, viewer) -> bytes:
    """The report as this viewer may read it: a partner sees the consortium's totals of placements
    started and ended, and its own authority's, never another member's."""
    first, last = returns.parse_period(period)
    type_ = pdf.styles()
    body, h1, h2, small = type_["body"], type_["h1"], type_["h2"], type_["small"]

    def table(rows, widths, fills=()):
        return pdf.data_table(rows, [w * mm for w in widths], body, fills)

    story = [
        Paragraph(escape(contract.consortium.name), small),
        Paragraph(f"Contract monitoring report, {period}", h1),
        Paragraph(f"{escape(contract.ref)}: {escape(contract.title)}. {day(first)} to {day(last)}.", body),
        Paragraph(f"Produced {day(date.today())}.", small),
    ]

    # Homes and judgements at the end of the quarter.
    homes = (
        contract.homes
        if contract.is_block
        else db.session.scalars(
            select(Home).where(
                Home.id.in_(
                    select(Placement.home_id).where(Placement.contract_id == contract.id, Placement.start_date <= last)
                )
            )
        ).all()
    )
    current = current_graded(last, homes=[h.id for h in homes])
    judged = dict(
        db.session.execute(
            select(current.c.home_id, current.c.name).where(current.c.home_id.in_([h.id for h in homes]))
        ).all()
    )
    story += [
        Paragraph("Homes and their Ofsted judgements", h2),
        table(
            [["Home", "URN", "Provider", "Judgement at the quarter's end"]]
            + [[h.display_name, h.urn, h.provider.name, judged.get(h.id, "Not yet graded")] for h in homes],
            [55, 22, 50, 40],
        ),
    ]

    if contract.is_block:
        used = usage.occupancy(contract, max(first, contract.start_date), min(last, contract.end_date))
        story += [
            Paragraph("Occupancy", h2),
            table(
                [
                    ["Beds", "Nights", "Occupied bed-nights", "Utilisation", "Void bed-nights", "Void cost"],
                    [
                        contract.beds,
                        used.nights,
                        used.occupied,
                        f"{used.utilisation}%" if used.utilisation is not None else "–",
                        used.void,
                        money(used.void_cost_pence),
                    ],
                ],
                [18, 18, 34, 26, 30, 40],
            ),
        ]

    outcomes = returns.outcomes_of(contract)
    if outcomes is not None:
        owed = [e for e in returns.owed(outcomes, max(date.today(), last)) if e.period == period]
        values = returns.results(outcomes)
        for entry in owed:
            rows, fills = [["Indicator", "Target", "Value", "RAG"]], []
            for index, indicator in enumerate(outcomes.indicators, start=1):
                value = values.get((entry.provider.id, indicator.id, period))
                colour = indicator.rag(value)
                rows.append(
                    [
                        indicator.name,
                        number(indicator.target),
                        number(value) if value is not None else "–",
                        colour or "–",
                    ]
                )
                if colour:
                    fills.append(("BACKGROUND", (3, index), (3, index), RAG_FILL[colour]))
            story += [
                Paragraph(f"KPI results: {escape(entry.provider.name)}", h2),
                table(rows, [95, 22, 22, 28], fills),
            ]
        story += [
            Paragraph("Returns", h2),
            table(
                [["Provider", "Due", "Status", "Submitted"]]
                + [
                    [
                        e.provider.name,
                        day(e.due_date),
                        e.status(date.today())
                        + (" (late)" if e.monitoring_return and e.monitoring_return.late else ""),
                        day(e.monitoring_return.submitted_on)
                        if e.monitoring_return and e.monitoring_return.submitted_on
                        else "–",
                    ]
                    for e in owed
                ],
                [70, 30, 40, 27],
            ),
        ]

    moves = db.session.execute(
        select(
            Placement.authority_code,
            func.sum(func.cast(Placement.start_date.between(first, last), db.Integer)),
            func.sum(func.cast(Placement.end_date.between(first, last), db.Integer)),
        )
        .where(Placement.contract_id == contract.id)
        .group_by(Placement.authority_code)
        .order_by(Placement.authority_code)
    ).all()
    rows = [[code, int(s or 0), int(e or 0)] for code, s, e in moves if s or e]
    if viewer.role != "lead":
        own = [row for row in rows if row[0] == viewer.authority_code]
        rows = own + [["All members", sum(r[1] for r in rows), sum(r[2] for r in rows)]]
    story += [
        Paragraph("Placements started and ended", h2),
        table([["Authority", "Started", "Ended"]] + rows, [60, 30, 30]),
    ]
    flags = db.session.scalars(
        select(Flag).where(Flag.contract_id == contract.id, Flag.status != "resolved").order_by(Flag.opened_on)
    ).all()
    story += [
        Paragraph("Open flags", h2),
        table(
            [["Flag", "Opened", "Detail"]] + [[f.kind_name, day(f.opened_on), f.detail] for f in flags], [40, 25, 102]
        ),
    ]

    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{contract.ref} monitoring report {period}",
    ).build(story)
    return buffer.getvalue()
