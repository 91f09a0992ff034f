"""The sufficiency page (DESIGN §4b): demand and unmet need, the forecast beside the block beds,
stability and the high-cost reviews, with each table as CSV."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, render_template, request
from flask_login import current_user

from consortium.core.access import allowed
from consortium.core.charts import BLUE, ORANGE, Key, Point, chart
from consortium.core.exports import export
from consortium.core.inputs import date_arguments
from consortium.core.services import RuleBroken
from consortium.sufficiency import services, statement
from contracts.models import PLACEMENT_TYPES

bp = Blueprint("sufficiency", __name__, template_folder="templates")


def _asked():
    """The period, scope and placement type asked for (a wrong value: the default, and why)."""
    today = date.today()
    dates, problem = date_arguments(request.args, "from", "to")
    if problem:
        flash(problem, "error")
    first, last = services.period(dates["from"], dates["to"], today)
    kind = request.args.get("type", "residential")
    if kind not in services.FORECAST_TYPES:
        kind = "residential"
    try:
        scope = services.scope_for(current_user, request.args.get("authority", ""), today)
    except RuleBroken as broken:
        flash(str(broken), "error")
        scope = services.scope_for(current_user, "", today)
    return services.figures(current_user, scope, first, last, kind, today)


@bp.get("/sufficiency")
@allowed("lead", "partner")
def sufficiency():
    found = _asked()
    return render_template(
        "sufficiency/sufficiency.html",
        found=found,
        members=services.members(current_user, date.today()),
        types=[(t, PLACEMENT_TYPES[t]) for t in services.FORECAST_TYPES],
        charts=_charts(found),
        today=date.today(),
        review_due=services.review_due,
    )


def _charts(found: services.Figures) -> dict:
    points = found.forecast.points
    return {
        "by_month": chart(
            "Referrals opened by month",
            [Point(month, n) for month, n in found.demand.by_month],
            low=0,
            x_label="Month",
            y_label="Referrals",
        ),
        "stability": chart(
            "Children with three or more placements in the year (%)",
            [
                Point(f"{y.year}/{(y.year + 1) % 100:02d}", y.three_or_more_share, note=f"{y.three_or_more_share:.1f}%")
                for y in found.stability
                if y.three_or_more_share is not None
            ],
            kind="line",
            low=0,
            x_label="Financial year",
            y_label="Children (%)",
        ),
        "forecast": chart(
            found.tables["forecast"][0],
            [Point(f"{p.month_end:%b %y}", float(p.forecast), note=f"{p.forecast}") for p in points],
            kind="line",
            steps=[p.block_beds for p in points],
            low=0,
            x_label="Month end",
            y_label="Placements",
            legend=[Key(BLUE, "Forecast of placements open"), Key(ORANGE, "Block beds contracted")],
        ),
    }


@bp.get("/sufficiency/<table>.<fmt>")
@allowed("lead", "partner")
def export_table(table, fmt):
    found = _asked()
    tables = found.tables | statement.extra_tables(found)
    if table not in tables:
        abort(404)
    _, header, rows = tables[table]
    return export(f"sufficiency-{table}-{found.first}-{found.last}", fmt, header, rows)


@bp.get("/sufficiency/statement.pdf")
@allowed("lead", "partner")
def statement_pdf():
    found = _asked()
    name = f"sufficiency-statement-{found.first}-{found.last}.pdf"
    return Response(
        statement.statement_pdf(found),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
