"""The sufficiency statement: the sufficiency page's figures for a period as an A4 PDF, laid out
as a council puts them before its committee, with two tables of its own (placements by type and
distance, and the quality of the homes used), which are also offered as CSV."""

from __future__ import annotations

import io
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate
from sqlalchemy import case, func, select

from consortium.core import pdf
from consortium.core.extensions import db
from consortium.core.formatting import day, money
from consortium.core.models import Consortium
from consortium.dashboards import services as dashboards
from consortium.sufficiency.services import Figures
from contracts.models import PLACEMENT_TYPES, Placement
from contracts.summaries import WITHIN_MILES
from providers.quality import current_graded


def placements_by_type(found: Figures) -> tuple[str, list[str], list[list]]:
    """The scope's placements open on the period's last day by type: how many, how many with a
    distance, and the share of those within 20 miles."""
    on = found.last
    within = case((Placement.distance_miles <= WITHIN_MILES, 1), else_=0)
    rows = db.session.execute(
        select(Placement.placement_type, func.count(), func.count(Placement.distance_miles), func.sum(within))
        .where(
            Placement.authority_code.in_(found.scope.authority_codes),
            Placement.start_date <= on,
            (Placement.end_date.is_(None)) | (Placement.end_date > on),
        )
        .group_by(Placement.placement_type)
        .order_by(func.count().desc())
    ).all()
    return (
        f"Placements open on {day(on)} by type",
        ["Placement type", "Open", "With a distance", f"Within {WITHIN_MILES} miles"],
        [[PLACEMENT_TYPES.get(t, t), n, d, f"{100 * (w or 0) / d:.1f}%" if d else "–"] for t, n, d, w in rows],
    )


def quality_of_homes(found: Figures) -> tuple[str, list[str], list[list]]:
    """The scope's placements open on the period's last day by their home's current judgement."""
    on = found.last
    judged = current_graded(on)
    rows = db.session.execute(
        select(func.coalesce(judged.c.name, "Not yet graded"), func.min(judged.c.rank), func.count(Placement.id))
        .select_from(Placement)
        .outerjoin(judged, judged.c.home_id == Placement.home_id)
        .where(
            Placement.authority_code.in_(found.scope.authority_codes),
            Placement.home_id.is_not(None),
            Placement.start_date <= on,
            (Placement.end_date.is_(None)) | (Placement.end_date > on),
        )
        .group_by(judged.c.name)
        .order_by(func.min(judged.c.rank))
    ).all()
    total = sum(n for *_, n in rows)
    return (
        f"Placements in homes open on {day(on)} by the home's current judgement",
        ["Judgement", "Placements", "Share"],
        [[name, n, f"{100 * n / total:.1f}%"] for name, _, n in rows],
    )


def extra_tables(found: Figures) -> dict[str, tuple[str, list[str], list[list]]]:
    return {"placements-by-type": placements_by_type(found), "quality-of-homes": quality_of_homes(found)}


def _blocks(found: Figures) -> list[list]:
    """The consortium's blocks, or an authority's own, over the period: utilisation and value."""
    if found.scope.consortium_id is None:
        return []
    consortium = db.session.get(Consortium, found.scope.consortium_id)
    return [
        [
            b.contract.ref,
            b.contract.beds,
            f"{b.utilisation}%" if b.utilisation is not None else "–",
            money(b.void_cost_pence),
            money(b.cost_per_occupied_week_pence) if b.cost_per_occupied_week_pence is not None else "–",
            money(b.average_weekly_pence) if b.average_weekly_pence is not None else "No comparable placements",
        ]
        for b in dashboards.block_values(consortium, found.first, found.last)
    ]


def statement_pdf(found: Figures) -> bytes:
    type_ = pdf.styles()
    body, h1, h2, small = type_["body"], type_["h1"], type_["h2"], type_["small"]
    width = A4[0] - 36 * mm

    def table(header, rows, first_share=0.34):
        others = (1 - first_share) / max(len(header) - 1, 1)
        widths = [width * first_share] + [width * others] * (len(header) - 1)
        return pdf.data_table([header] + rows, widths, body, empty="None in this period")

    def section(title, caption_header_rows, note="", first_share=0.34):
        """A heading kept with its table's first rows (a long table runs on to the next page)."""
        caption, header, rows = caption_header_rows
        parts = [Paragraph(escape(title), h2)] if title else []
        parts += [Paragraph(escape(caption), small), table(header, rows, first_share)]
        if note:
            parts.append(Paragraph(escape(note), body))
        return [KeepTogether(parts)] if len(rows) <= 12 else parts

    d, f, t = found.demand, found.forecast, found.back_test
    tables = found.tables | extra_tables(found)
    placed = d.outcomes["block"] + d.outcomes["framework"] + d.outcomes["spot"]
    story = [
        Paragraph(escape(found.scope.name), small),
        Paragraph("Sufficiency statement", h1),
        Paragraph(
            f"Placements for children in care, {day(found.first)} to {day(found.last)}: where they live, the "
            "quality of their homes, the demand for placements and what was unmet, the placements forecast "
            "beside the beds contracted, the stability of placements, and block contracts' value for money.",
            body,
        ),
        Paragraph(
            f"Produced {day(date.today())} by Manage placement contracts. Children are counted, never named.", small
        ),
        Paragraph("Summary", h2),
        Paragraph(
            escape(
                f"{d.opened} referrals were opened; {placed} were placed ({d.outcomes['block']} in block beds, "
                f"{d.outcomes['framework']} through the framework, {d.outcomes['spot']} by spot purchase) and "
                f"{d.outcomes['unmet']} closed unmet. "
                + (
                    f"The median time from referral to placement was {d.median_hours:.1f} hours. "
                    if d.median_hours
                    else ""
                )
                + (
                    f"{PLACEMENT_TYPES[found.placement_type]} placements open are forecast at "
                    f"{f.points[11].forecast} in twelve months against {f.points[11].block_beds} block beds."
                    if f.points
                    else ""
                )
            ),
            body,
        ),
    ]
    story += section("Placements by type and location", tables["placements-by-type"])
    story += section("Quality of homes used", tables["quality-of-homes"])
    story += section("Demand", tables["referrals-by-month"])
    story += section("", tables["outcomes"])
    story += section("Unmet need", tables["unmet-need"])
    median = f"{f.median_months} months" if f.median_months is not None else "not yet known"
    story += section(
        "Forecast and the gap",
        tables["forecast"],
        f"Placements of this type have lasted a median of {median}; {f.starts_a_month} started a month "
        f"in the last year. The gap is the forecast less the block beds contracted.",
    )
    trust = f"On average {t.mean_error} placements out ({t.mean_percent_error}%)." if t.mean_error is not None else ""
    story += section("How far to trust the forecast", tables["back-test"], trust)
    story += section("Stability", tables["stability"], first_share=0.16)
    blocks = _blocks(found)
    story += section(
        "Block utilisation and value for money",
        (
            "Each block's beds over the period: utilisation, the cost of its empty beds, its cost per occupied "
            "bed-week and the average weekly fee of comparable placements",
            ["Block", "Beds", "Utilisation", "Void cost", "Cost per occupied week", "Comparable average"],
            blocks,
        ),
        first_share=0.2,
    )
    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"Sufficiency statement, {found.scope.name}",
    ).build(story)
    return out.getvalue()
