"""Each role's dashboard, value for money, budgets, and the exports of their tables."""

from __future__ import annotations

from datetime import date
from functools import partial

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select

from audits.models import Flag
from consortium.core.access import allowed, scoped
from consortium.core.charts import BLUE, GREY, Key, Point, chart
from consortium.core.dates import financial_year
from consortium.core.exports import export
from consortium.core.extensions import db
from consortium.core.formatting import money
from consortium.core.forms import act
from consortium.core.inputs import (
    EARLIEST,
    LATEST,
    date_arguments,
)
from consortium.dashboards import services
from consortium.dashboards.report import report_pdf
from contracts import in_use
from contracts import returns as returns_module
from contracts.models import PLACEMENT_TYPES, Contract, UsageSeries
from contracts.summaries import WITHIN_MILES
from providers.models import Home
from providers.quality import interim_declines

bp = Blueprint("dashboards", __name__, template_folder="templates")


def _period() -> tuple[date, date]:
    first, last = financial_year(date.today())
    dates, problem = date_arguments(request.args, "from", "to")
    if problem:
        flash(problem, "error")
    first, last = dates["from"] or first, dates["to"] or last
    if services.yesterday() >= first:
        last = min(last, services.yesterday())  # figures up to the last full day
    return first, last


@bp.get("/dashboard")
@allowed("lead", "partner", "provider")
def dashboard():
    first, last = _period()
    if current_user.role == "lead":
        tables, extra = services.lead_tables(current_user, first, last)
        return render_template(
            "dashboards/lead.html",
            first=first,
            last=last,
            tables=tables,
            extra=extra,
            within_miles=WITHIN_MILES,
            returns=services.returns_by_status(date.today()),
            recharges=services.recharges_summary(),
            chart=_utilisation_chart(extra["blocks"]),
        )
    if current_user.role == "partner":
        return render_template("dashboards/partner.html", first=first, last=last, **partner_context(first, last))
    return render_template("dashboards/provider.html", **provider_context())


def _utilisation_chart(blocks):
    return chart(
        "Utilisation of each block contract this year",
        [Point(c.ref, float(used.utilisation or 0), note=f"{used.utilisation}%") for c, used in blocks],
        low=0,
        high=100,
        x_label="Block contract",
        y_label="Utilisation (%)",
    )


def partner_context(first: date, last: date) -> dict:
    by_type = services.usage_by(first, last, UsageSeries.placement_type)
    year = financial_year(last)[0].year
    budgets = services.budgets_of(year)
    flags = services.flags_on_homes_used(current_user, 10)
    year_end = date(year + 1, 3, 31)
    return {
        "by_type": by_type,
        "variances": services.variances(year, budgets),
        "year": year,
        "within_miles": WITHIN_MILES,
        "interim_placed": in_use.placed_in_interim_declines(current_user, date.today()),
        "spent_to": min(year_end, services.yesterday()),
        "year_end": year_end,
        "recharges": services.recharges_summary(),
        "flags": flags,
        "types": PLACEMENT_TYPES,
        "chart": chart(
            "Placements open now by type",
            [Point(services.type_name(t), u.open) for (t,), u in by_type.items()],
            low=0,
            x_label="Placement type",
            y_label="Placements",
        ),
    }


def provider_context() -> dict:
    today = date.today()
    provider_id = current_user.provider_id
    contracts = scoped(Contract).all(Contract.ref)
    return {
        "contracts": contracts,
        "blocks": services.blocks_this_year(contracts, today),
        "returns": services.returns_by_status(today, provider_id),
        "judged": services.provider_judgements(provider_id),
        "declined": len(interim_declines(select(Home.id).where(Home.provider_id == provider_id))),
        "open_flags": db.session.scalar(scoped(Flag).select(func.count()).where(Flag.open_for(current_user))),
        "today": today,
    }


@bp.get("/dashboard/<table>.<fmt>")
@allowed("lead")
def export_table(table, fmt):
    first, last = _period()
    tables, _ = services.lead_tables(current_user, first, last)
    if table not in tables:
        return redirect(url_for(".dashboard"))
    header, rows = tables[table]
    return export(f"{table}-{first}-{last}", fmt, header, rows)


@bp.get("/value-for-money")
@allowed("lead")
def value_for_money():
    first, last = _period()
    consortium = current_user.consortium
    blocks = services.block_values(consortium, first, last)
    figure = _value_chart(blocks)
    return render_template(
        "dashboards/value_for_money.html",
        first=first,
        last=last,
        blocks=blocks,
        chart=figure,
        high_cost=services.high_cost_placements(consortium, date.today()),
        consortium=consortium,
    )


def _value_chart(blocks):
    """Each block's cost per occupied bed-week (blue) beside its comparable placements' average (grey)."""
    points = []
    for b in blocks:
        average = b.average_weekly_pence
        points += [
            Point(
                b.contract.ref, (b.cost_per_occupied_week_pence or 0) / 100, BLUE, money(b.cost_per_occupied_week_pence)
            ),
            Point("", average / 100 if average else None, GREY, money(average)),
        ]
    return chart(
        "Cost per occupied bed-week of each block, beside the average weekly fee of its comparable placements",
        points,
        low=0,
        x_label="Block contract",
        y_label="£ a week",
        legend=[Key(BLUE, "Block: cost per occupied bed-week"), Key(GREY, "Comparable placements: average weekly fee")],
    )


@bp.post("/value-for-money/threshold")
@allowed("lead")
def set_threshold():
    if (
        done := act(
            lambda: services.set_high_cost_threshold(current_user.consortium, request.form.get("threshold", ""))
        )
    ).saved:
        flash(f"Placements above {money(done.result)} a week are listed for review", "success")
    return redirect(url_for(".value_for_money"))


@bp.route("/budgets", methods=["GET", "POST"])
@allowed("partner")
def budgets():
    year = request.values.get("year", type=int)
    if year is None or not EARLIEST.year <= year <= LATEST.year - 1:
        year = financial_year(date.today())[0].year
    if request.method == "POST":
        typed = {
            kind: tuple(request.form.get(f"{field}-{kind}", "") for field in ("weeks", "unit", "income"))
            for kind in PLACEMENT_TYPES
        }
        save = partial(services.save_budgets, current_user.authority_code, year, typed)
        if act(save, refused=_flash_each).saved:
            flash(f"Budget for {year} to {year + 1} saved", "success")
            return redirect(url_for(".dashboard"))
    existing = {b.placement_type: b for b in services.budgets_of(year)}
    return render_template("dashboards/budgets.html", year=year, existing=existing, types=PLACEMENT_TYPES)


def _flash_each(broken: services.BudgetProblems) -> None:
    for problem in broken.problems:
        flash(problem, "error")


@bp.get("/contracts/<int:contract_id>/report/<period>.pdf")
@allowed("lead", "partner")
def monitoring_report(contract_id, period):
    contract = scoped(Contract).get_or_404(contract_id)
    try:
        returns_module.parse_period(period)
    except ValueError:
        abort(404)
    return Response(
        report_pdf(contract, period, current_user),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{contract.ref}-{period}-monitoring.pdf"'},
    )
