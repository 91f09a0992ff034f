"""Each role's dashboard, value for money, budgets, and the exports of their tables."""

from __future__ import annotations

from datetime import date

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
from consortium.core.models import Authority
from consortium.dashboards import services
from consortium.dashboards.models import Budget
from consortium.dashboards.report import report_pdf
from contracts import in_use
from contracts import returns as returns_module
from contracts.models import PLACEMENT_TYPES, Contract, Placement, UsageSeries
from contracts.summaries import WITHIN_MILES
from providers.models import Home
from providers.quality import current_graded, interim_declines

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


def _types(kind: str) -> str:
    return PLACEMENT_TYPES.get(kind, kind)


def lead_tables(first: date, last: date) -> dict[str, tuple[list[str], list[list]]]:
    """The lead dashboard's tables: header and rows, as shown and as exported."""
    names = dict(db.session.execute(select(Authority.code, Authority.name)).all())
    consortium = current_user.consortium
    tables = {}
    usage = services.usage_by(first, last, UsageSeries.authority_code, UsageSeries.placement_type)
    tables["placements"] = (
        ["Authority", "Placement type", "Open at the end", "Started in the period"],
        [[names[a], _types(t), u.open, u.started] for (a, t), u in usage.items()],
    )
    tables["spend"] = (
        ["Authority", "Placement type", "Spend (£)", "Placement-weeks"],
        [
            [names[a], _types(t), f"{u.spend_pence / 100:.2f}", f"{u.paid_nights / 7:.1f}"]
            for (a, t), u in usage.items()
            if u.paid_nights
        ],
    )
    distance: dict[str, list[int]] = {}
    for (a, _), u in usage.items():
        known_within = distance.setdefault(a, [0, 0])
        known_within[0] += u.known
        known_within[1] += u.within
    tables["distance"] = (
        ["Authority", "Placements with a distance", f"Within {WITHIN_MILES} miles", "Share"],
        [
            [names[a], known, within, f"{100 * within / known:.1f}%" if known else "–"]
            for a, (known, within) in distance.items()
        ],
    )
    blocks = services.block_occupancies(consortium, max(first, financial_year(last)[0]), last)
    tables["blocks"] = (
        ["Block contract", "Beds", "Utilisation", "Void cost (£)"],
        [
            [
                c.ref,
                c.beds,
                f"{used.utilisation}%" if used.utilisation is not None else "–",
                f"{used.void_cost_pence / 100:.2f}",
            ]
            for c, used in blocks
        ],
    )
    judged, good, total = services.judgements_in_use(last)
    tables["judgements"] = (
        ["Current judgement of the home", "Placements open"],
        [[name, count] for name, _, count in judged],
    )
    flags = db.session.execute(
        scoped(Flag).select(Flag.kind, func.count()).where(Flag.open_for(current_user)).group_by(Flag.kind)
    ).all()
    tables["flags"] = (["Kind", "Open"], [[Flag(kind=k).kind_name, n] for k, n in sorted(flags)])
    return tables, {
        "good": good,
        "total": total,
        "blocks": blocks,
        "interim_placed": in_use.homes_in_use(current_user, date.today()).placed_in_interim_declines,
    }


@bp.get("/dashboard")
@allowed("lead", "partner", "provider")
def dashboard():
    first, last = _period()
    if current_user.role == "lead":
        tables, extra = lead_tables(first, last)
        chart_points = [
            Point(c.ref, float(used.utilisation or 0), note=f"{used.utilisation}%") for c, used in extra["blocks"]
        ]
        return render_template(
            "dashboards/lead.html",
            first=first,
            last=last,
            tables=tables,
            extra=extra,
            within_miles=WITHIN_MILES,
            returns=services.returns_by_status(date.today()),
            recharges=services.recharges_summary(),
            chart=chart(
                "Utilisation of each block contract this year",
                chart_points,
                low=0,
                high=100,
                x_label="Block contract",
                y_label="Utilisation (%)",
            ),
        )
    if current_user.role == "partner":
        return render_template("dashboards/partner.html", first=first, last=last, **partner_context(first, last))
    return render_template("dashboards/provider.html", **provider_context())


def partner_context(first: date, last: date) -> dict:
    by_type = services.usage_by(first, last, UsageSeries.placement_type)
    year = financial_year(last)[0].year
    budgets = db.session.scalars(scoped(Budget).select().where(Budget.financial_year == year)).all()
    homes_used = scoped(Placement).select(Placement.home_id).where(Placement.home_id.is_not(None))
    flags = db.session.scalars(
        scoped(Flag)
        .select()
        .where(Flag.open_for(current_user), Flag.home_id.in_(homes_used))
        .order_by(Flag.opened_on.desc())
        .limit(10)
    ).all()
    year_end = date(year + 1, 3, 31)
    return {
        "by_type": by_type,
        "variances": services.variances(year, budgets),
        "year": year,
        "within_miles": WITHIN_MILES,
        "interim_placed": in_use.homes_in_use(current_user, date.today()).placed_in_interim_declines,
        "spent_to": min(year_end, services.yesterday()),
        "year_end": year_end,
        "recharges": services.recharges_summary(),
        "flags": flags,
        "types": PLACEMENT_TYPES,
        "chart": chart(
            "Placements open now by type",
            [Point(_types(t), u.open) for (t,), u in by_type.items()],
            low=0,
            x_label="Placement type",
            y_label="Placements",
        ),
    }


def provider_context() -> dict:
    today = date.today()
    provider_id = current_user.provider_id
    contracts = scoped(Contract).all(Contract.ref)
    blocks = services.blocks_this_year(contracts, today)
    current = current_graded(homes=select(Home.id).where(Home.provider_id == provider_id))
    judged = db.session.execute(
        select(func.coalesce(current.c.name, "Not yet graded"), func.count())
        .select_from(Home)
        .outerjoin(current, current.c.home_id == Home.id)
        .where(Home.provider_id == provider_id)
        .group_by(current.c.name)
    ).all()
    flags = db.session.scalar(scoped(Flag).select(func.count()).where(Flag.open_for(current_user)))
    declined = len(interim_declines(select(Home.id).where(Home.provider_id == provider_id)))
    return {
        "contracts": contracts,
        "blocks": blocks,
        "returns": services.returns_by_status(today, provider_id),
        "judged": judged,
        "declined": declined,
        "open_flags": flags,
        "today": today,
    }


@bp.get("/dashboard/<table>.<fmt>")
@allowed("lead")
def export_table(table, fmt):
    first, last = _period()
    tables, _ = lead_tables(first, last)
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
            kind: (request.form.get(f"weeks-{kind}", ""), request.form.get(f"unit-{kind}", ""))
            for kind in PLACEMENT_TYPES
        }
        errors = services.save_budgets(current_user.authority_code, year, typed)
        if errors:
            db.session.rollback()
            for error in errors:
                flash(error, "error")
        else:
            db.session.commit()
            flash(f"Budget for {year} to {year + 1} saved", "success")
            return redirect(url_for(".dashboard"))
    existing = {
        b.placement_type: b for b in db.session.scalars(scoped(Budget).select().where(Budget.financial_year == year))
    }
    return render_template("dashboards/budgets.html", year=year, existing=existing, types=PLACEMENT_TYPES)


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
