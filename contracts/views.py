"""Frameworks, block contracts and their occupancy; placements; homes in use."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from consortium.core import panels
from consortium.core import services as core_services
from consortium.core.access import allowed, scoped
from consortium.core.dates import financial_year, financial_year_start
from consortium.core.exports import export
from consortium.core.extensions import db
from consortium.core.formatting import day, money
from consortium.core.forms import act, form_page, handle, handle_after_check
from consortium.core.inputs import date_arguments
from consortium.core.models import CONSORTIUM_ROLES
from consortium.core.pagination import paginate
from consortium.core.services import RuleBroken
from consortium.core.sql import quarter_of
from consortium.core.tabular import ImportFailed, read_table
from contracts import cofunding, in_use, pds, services, transparency, usage
from contracts.charts import occupancy_svg
from contracts.forms import (
    AdmissionStatusForm,
    AdmitForm,
    BlockPriceForm,
    BlockSettingsForm,
    BreakDateForm,
    DecisionForm,
    EndPlacementForm,
    FeeForm,
    HighCostReviewForm,
    LotForm,
    OutageForm,
    PdsUploadForm,
    PlacementForm,
    PriceForm,
    RegisterForm,
    UpliftForm,
)
from contracts.models import (
    NEED_LEVELS,
    PLACEMENT_TYPES,
    REVIEW_OUTCOMES,
    Admission,
    Contract,
    Contribution,
    HighCostReview,
    Lot,
    Placement,
)
from contracts.placements import PlacementValues
from contracts.returns import period_label
from providers.models import Home, Provider
from providers.quality import current_graded, interim_declines

bp = Blueprint("contracts", __name__, template_folder="templates")


def register_panels(app) -> None:
    panels.add(app, "provider", provider_contracts)


def provider_contracts(provider) -> str:
    contracts = db.session.scalars(
        scoped(Contract)
        .select()
        .where(
            or_(
                Contract.provider_id == provider.id,
                Contract.id.in_(
                    select(Lot.contract_id).join(Lot.admissions).where(Admission.provider_id == provider.id)
                ),
            )
        )
        .order_by(Contract.end_date.desc())
    ).all()
    return render_template("contracts/_provider_contracts.html", contracts=contracts, today=date.today())


# ---------------------------------------------------------------- contracts


@bp.get("/contracts")
@allowed(*CONSORTIUM_ROLES)
def contracts():
    kind = request.args.get("kind", "")
    query = scoped(Contract).select().options(selectinload(Contract.consortium))
    if kind in ("framework", "block"):
        query = query.where(Contract.kind == kind)
    page = paginate(
        query.order_by(Contract.kind.desc(), Contract.ref), request.args.get("page", type=int), scalars=True
    )
    return render_template("contracts/contracts.html", page=page, kind=kind, today=date.today())


@bp.get("/contracts/export.<fmt>")
@allowed(*CONSORTIUM_ROLES)
def export_contracts(fmt):
    today = date.today()
    query = scoped(Contract).select().options(selectinload(Contract.consortium), selectinload(Contract.provider))
    rows = (_contract_row(c, today) for c in db.session.scalars(query.order_by(Contract.ref)))
    columns = [
        "ref",
        "kind",
        "title",
        "consortium",
        "start_date",
        "end_date",
        "max_end_date",
        "beds",
        "provider",
        "status",
    ]
    return export("contracts", fmt, columns, rows)


def _contract_row(c: Contract, today: date) -> list:
    return [
        c.ref,
        c.kind,
        c.title,
        c.consortium.ref,
        c.start_date.isoformat(),
        c.end_date.isoformat(),
        c.max_end_date.isoformat(),
        c.beds or "",
        c.provider.name if c.provider else "",
        c.status(today),
    ]


@bp.get("/contracts/<int:contract_id>")
@allowed(*CONSORTIUM_ROLES)
def contract(contract_id):
    contract = scoped(Contract).get_or_404(contract_id)
    today = date.today()
    context = {
        "contract": contract,
        "today": today,
        "can_manage": current_user.role == "lead",
        "report_periods": ended_quarters(contract, today)[-4:][::-1],
        "funding_shares": cofunding.funding_shares_on(contract, min(today, contract.end_date)),
    }
    context.update(
        _block_context(contract, today)
        if contract.is_block
        else {"provider_judgements": _judgements_by_provider(contract)}
    )
    return render_template("contracts/contract.html", **context)


def _block_context(contract: Contract, today: date) -> dict:
    """A block's page: its price, occupancy month by month and this year, and its homes' judgements."""
    home_ids = [h.id for h in contract.homes]
    current = current_graded(homes=home_ids)
    last = min(today - timedelta(days=1), contract.end_date)
    months = usage.monthly_occupancy(contract, contract.start_date, last) if last >= contract.start_date else []
    year_start = max(financial_year_start(today), contract.start_date)
    return {
        "price": contract.price_on(min(today, contract.end_date)),
        "months": months,
        "year_to_date": usage.occupancy(contract, year_start, last) if last >= year_start else None,
        "chart": occupancy_svg(months, contract.beds, contract.underuse_threshold_percent),
        "judgements": dict(
            db.session.execute(select(current.c.home_id, current.c.name).where(current.c.home_id.in_(home_ids))).all()
        ),
        "interims": interim_declines(home_ids),
    }


def _judgements_by_provider(contract: Contract) -> dict[int, dict[str, int]]:
    """A framework's admitted providers' homes counted by current judgement, and those declined since."""
    provider_ids = [a.provider_id for lot in contract.lots for a in lot.admissions]
    current = current_graded(homes=select(Home.id).where(Home.provider_id.in_(provider_ids)))
    homes = db.session.execute(
        select(Home.id, Home.provider_id, current.c.name)
        .outerjoin(current, current.c.home_id == Home.id)
        .where(Home.provider_id.in_(provider_ids))
    ).all()
    interims = interim_declines([home_id for home_id, _, _ in homes])
    by_provider: dict[int, dict[str, int]] = {}
    for home_id, provider_id, judgement in homes:
        counts = by_provider.setdefault(provider_id, {})
        counts[judgement or "Not yet graded"] = counts.get(judgement or "Not yet graded", 0) + 1
        if home_id in interims:  # beside the graded judgement it still holds
            counts["Declined since (interim)"] = counts.get("Declined since (interim)", 0) + 1
    return by_provider


def ended_quarters(contract: Contract, today: date) -> list[str]:
    """Labels of the contract's quarters that have ended, oldest first."""
    periods, start = [], quarter_of(contract.start_date)[0]
    while start <= min(contract.end_date, today):
        end = quarter_of(start)[1]
        if end < today:
            periods.append(period_label(start))
        start = end + timedelta(days=1)
    return periods


def _lead_contract(contract_id) -> Contract:
    return scoped(Contract).get_or_404(contract_id)


def _contract_form(contract: Contract, form, title: str, caption: str = "", **context):
    """A form about one contract, on its own page, with the way back to the contract."""
    return form_page(
        "form.html",
        form,
        title=title,
        caption=caption or contract.ref,
        back=url_for(".contract", contract_id=contract.id),
        **context,
    )


@bp.post("/contracts/<int:contract_id>/lots")
@allowed("lead")
def add_lot(contract_id):
    contract = _lead_contract(contract_id)
    form = LotForm()
    if (
        done := act(lambda: services.add_lot(contract, form.name.data, form.care_type.data), form, "Enter the lot name")
    ).saved:
        flash(f"Lot {done.result.name} added", "success")
    return redirect(url_for(".contract", contract_id=contract.id))


@bp.route("/contracts/<int:contract_id>/lots/<int:lot_id>/admit", methods=["GET", "POST"])
@allowed("lead")
def admit(contract_id, lot_id):
    contract = _lead_contract(contract_id)
    lot = next((lot for lot in contract.lots if lot.id == lot_id), None) or abort(404)
    form = AdmitForm()
    form.provider_id.choices = [("", "Choose a provider")] + [
        (str(p.id), p.name) for p in db.session.scalars(scoped(Provider).select().order_by(Provider.name))
    ]

    def change():
        provider = scoped(Provider).get_or_404(int(form.provider_id.data))
        services.admit(lot, provider, form.tier.data)
        return provider

    if (done := handle(form, change, "provider_id")).saved:
        flash(f"{done.result.name} admitted to {lot.name} ({form.tier.data})", "success")
        return redirect(url_for(".contract", contract_id=contract.id))
    return _contract_form(contract, form, f"Admit a provider to {lot.name}")


@bp.route("/admissions/<int:admission_id>/status", methods=["GET", "POST"])
@allowed("lead")
def admission_status(admission_id):
    admission = scoped(Admission).get_or_404(admission_id)
    contract = admission.lot.contract
    form = _status_form(admission)

    def change():
        data = form.data
        return services.set_admission_status(
            admission, data["status"], form.seen_version, data["reason"], data["status_from"], data["status_until"]
        )

    check_page = partial(_withdrawal_check_page, admission, form)
    done = handle_after_check(form, change, "status", check_page, asks=lambda: form.status.data == "withdrawn")
    if done.page:
        return done.page
    if done.saved:
        flash(f"{admission.provider.name} is now {admission.status} on {admission.lot.name}", "success")
        return redirect(url_for(".contract", contract_id=contract.id))
    title = f"Status of {admission.provider.name}"
    return _contract_form(contract, form, title, caption=f"{contract.ref} · {admission.lot.name}")


def _status_form(admission: Admission) -> AdmissionStatusForm:
    """The status form, filled from the admission when first shown."""
    if request.method == "POST":
        return AdmissionStatusForm()
    form = AdmissionStatusForm(obj=admission, data={"reason": admission.status_reason})
    form.version.data = admission.version
    return form


def _withdrawal_check_page(admission: Admission, form, _):
    """Before a provider is withdrawn from a lot: what it means, to be confirmed."""
    name = admission.provider.name
    return render_template(
        "confirm.html",
        title=f"Withdraw {name} from {admission.lot.name}?",
        caption=admission.lot.contract.ref,
        rows=[("Lot", admission.lot.name), ("Tier", admission.tier), ("Reason", form.reason.data or "None given")],
        warning=f"No new placement can be made with {name} under this lot. Placements already made go on.",
        button="Withdraw the admission",
        back=url_for(".contract", contract_id=admission.lot.contract_id),
    )


@bp.route("/admissions/<int:admission_id>/prices", methods=["GET", "POST"])
@allowed("lead")
def add_price(admission_id):
    admission = scoped(Admission).get_or_404(admission_id)
    contract = admission.lot.contract
    form = PriceForm()

    def change():
        weekly = int(form.weekly_price.data * 100)
        return services.add_price(
            admission, form.need_level.data, weekly, form.effective_from.data, form.effective_to.data
        )

    if handle(form, change, "weekly_price").saved:
        flash(f"Price added for {admission.provider.name}", "success")
        return redirect(url_for(".contract", contract_id=contract.id))
    return _contract_form(
        contract, form, f"Add a price for {admission.provider.name}", caption=f"{contract.ref} · {admission.lot.name}"
    )


@bp.route("/contracts/<int:contract_id>/uplift", methods=["GET", "POST"])
@allowed("lead")
def uplift(contract_id):
    contract = _lead_contract(contract_id)
    form = UpliftForm()
    form.lot_id.choices = [("", "Every lot")] + [(str(lot.id), lot.name) for lot in contract.lots]

    def change():
        lot = next((lot for lot in contract.lots if str(lot.id) == form.lot_id.data), None)
        return services.uplift(contract, form.percent.data, form.effective_from.data, lot)

    if (done := handle(form, change, "percent")).saved:
        count = done.result
        flash(f"{count} prices uplifted by {form.percent.data}% from {day(form.effective_from.data)}", "success")
        return redirect(url_for(".contract", contract_id=contract.id))
    return _contract_form(contract, form, "Apply an annual uplift")


@bp.route("/contracts/<int:contract_id>/decision", methods=["GET", "POST"])
@allowed("lead")
def decision(contract_id):
    contract = _lead_contract(contract_id)
    form = DecisionForm()

    def change():
        return services.record_decision(
            contract, form.decision.data, current_user, form.seen_version, form.extend_to.data, form.note.data
        )

    if handle(form, change, "decision").saved:
        flash("Decision recorded", "success")
        return redirect(url_for(".contract", contract_id=contract.id))
    if request.method == "GET":
        form.version.data = contract.version
    return _contract_form(
        contract,
        form,
        "Record an extension decision",
        intro=f"It ends on {day(contract.end_date)} and can be extended to {day(contract.max_end_date)}.",
    )


@bp.route("/contracts/<int:contract_id>/register", methods=["GET", "POST"])
@allowed("lead")
def register_details(contract_id):
    """What the Transparency Code's contracts register shows of the contract."""
    contract = _lead_contract(contract_id)
    form = RegisterForm(obj=contract if request.method == "GET" else None)
    form.procurement_route.choices = [("", "Not recorded")] + [(route, route) for route in transparency.ROUTES]
    if request.method == "GET":
        form.value.data = contract.value_pence / 100 if contract.value_pence is not None else None
        form.version.data = contract.version

    def change():
        pence = int(form.value.data * 100) if form.value.data is not None else None
        chosen = (form.description.data, form.department.data, pence, form.procurement_route.data)
        return services.set_register_details(contract, form.seen_version, *chosen, form.review_date.data)

    if handle(form, change, "description").saved:
        flash("Register details saved", "success")
        return redirect(url_for(".contract", contract_id=contract.id))
    return _contract_form(contract, form, "Details for the contracts register")


@bp.get("/contracts/transparency.csv")
@allowed("lead")
def transparency_register():
    """The consortium's contracts over £5,000 as the Transparency Code's register."""
    contracts = transparency.contracts_of(current_user.consortium_id)
    text = transparency.csv_text(transparency.rows(contracts))
    name = f"contracts-register-{current_user.consortium.ref}-{date.today()}.csv"
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/contracts/<int:contract_id>/settings", methods=["GET", "POST"])
@allowed("lead")
def block_settings(contract_id):
    contract = _lead_contract(contract_id)
    if not contract.is_block:
        abort(404)
    form = BlockSettingsForm(obj=contract if request.method == "GET" else None)
    form.compared_lot.choices = [("", "Every framework and spot placement of its type")] + [
        (name, f"Placements in a “{name}” lot") for name in services.lot_names(contract.consortium_id)
    ]
    if request.method == "GET":
        form.compared_lot.data = contract.compared_lot or ""

    def change():
        numbers = (form.beds.data, form.underuse_threshold_percent.data, form.underuse_window_nights.data)
        return services.change_block_settings(
            contract, form.seen_version, *numbers, form.notice_days.data, form.compared_lot.data, form.priced_per.data
        )

    if handle(form, change, "beds").saved:
        flash("Settings saved", "success")
        return redirect(url_for(".contract", contract_id=contract.id))
    return _contract_form(contract, form, "Block contract settings")


@bp.route("/contracts/<int:contract_id>/price", methods=["GET", "POST"])
@allowed("lead")
def block_price(contract_id):
    contract = _lead_contract(contract_id)
    if not contract.is_block:
        abort(404)
    form = BlockPriceForm.for_block(contract)
    if handle(
        form,
        lambda: services.change_block_price(contract, int(form.weekly_price.data * 100), form.effective_from.data),
        "weekly_price",
    ).saved:
        flash(f"New price from {day(form.effective_from.data)}", "success")
        return redirect(url_for(".contract", contract_id=contract.id))
    return _contract_form(contract, form, f"Change the price per {contract.price_unit}")


@bp.route("/contracts/<int:contract_id>/breaks", methods=["GET", "POST"])
@allowed("lead")
def add_break(contract_id):
    contract = _lead_contract(contract_id)
    form = BreakDateForm()
    if handle(form, lambda: services.add_break_date(contract, form.break_date.data), "break_date").saved:
        flash(f"Break date {day(form.break_date.data)} recorded", "success")
        return redirect(url_for(".contract", contract_id=contract.id))
    return _contract_form(contract, form, "Add a break date")


@bp.route("/contracts/<int:contract_id>/outages", methods=["GET", "POST"])
@allowed("lead", "provider")
def record_outage(contract_id):
    contract = scoped(Contract).get_or_404(contract_id)
    if not contract.is_block:
        abort(404)
    form = OutageForm()
    if handle(
        form,
        lambda: services.record_outage(
            contract, form.beds.data, form.start_date.data, form.end_date.data, form.reason.data
        ),
        "beds",
    ).saved:
        flash("Beds recorded as out of use: they are left out of the capacity", "success")
        return redirect(url_for(".contract", contract_id=contract.id))
    return _contract_form(contract, form, "Record beds out of use")


# ---------------------------------------------------------------- placements


def _placements_query(args):
    dates, _ = date_arguments(args, "from", "to")
    return services.placements_query(
        authority=args.get("authority", ""),
        contract=args.get("contract", ""),
        home=args.get("home", ""),
        status=args.get("status", ""),
        start_from=dates["from"],
        start_to=dates["to"],
    ).order_by(Placement.start_date.desc(), Placement.id.desc())


@bp.get("/placements")
@allowed("lead", "partner")
def placements():
    if problem := date_arguments(request.args, "from", "to")[1]:
        flash(problem, "error")
    page = paginate(_placements_query(request.args), request.args.get("page", type=int), scalars=True)
    homes = db.session.scalars(
        select(Home).where(Home.id.in_(scoped(Placement).select(Placement.home_id))).order_by(Home.name, Home.urn)
    )
    choices = {
        "authorities": core_services.authority_choices(),
        "contracts": services.contract_choices(),
        "homes": [(home.urn, home.with_urn) for home in homes],
    }
    return render_template(
        "contracts/placements.html", page=page, args=request.args, types=PLACEMENT_TYPES, choices=choices
    )


@bp.get("/placements/pds.csv")
@allowed("lead", "partner")
def export_pds():
    """The placements the user sees, open in a period (default: this financial year to today),
    as the national Placements Data Standard template's CSV."""
    dates, problem = date_arguments(request.args, "from", "to")
    if problem:
        abort(400, problem)
    first, last = dates["from"] or financial_year(date.today())[0], dates["to"] or date.today()
    text = pds.csv_text(pds.rows(pds.placements_of(scoped(Placement).select(), first, last), last))
    name = f"placements-data-standard-{first}-{last}.csv"
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/placements/pds/import", methods=["GET", "POST"])
@allowed("partner")
def import_pds():
    """A partner's placements from a Placements Data Standard file, all or nothing."""
    form = PdsUploadForm()
    if not form.validate_on_submit():
        return form_page("contracts/pds_import.html", form)
    try:
        table = read_table(form.file.data.read(), form.file.data.filename or "upload", required=pds.COLUMNS)
        result = pds.import_pds(table, current_user.authority_code)
    except ImportFailed as failed:
        db.session.rollback()
        return render_template("contracts/pds_import.html", form=form, failed=failed), 400
    db.session.commit()
    flash(f"{table.name}: {result.summary()}", "success")
    for warning in result.details["warnings"][:20]:
        flash(f"Check {warning}", "info")
    return redirect(url_for(".placements"))


@bp.get("/placements/export.<fmt>")
@allowed("lead", "partner")
def export_placements(fmt):
    rows = (_placement_row(p) for p in db.session.scalars(_placements_query(request.args)))
    return export("placements", fmt, PLACEMENT_COLUMNS, rows)


PLACEMENT_COLUMNS = [
    "Authority",
    "Child reference",
    "Contract",
    "Home URN",
    "Start date",
    "End date",
    "End reason",
    "Weekly fee (£)",
    "Placement type",
    "Need level",
    "Age at start",
    "Distance (miles)",
]


def _placement_row(p: Placement) -> list:
    return [
        p.authority_code,
        p.child_ref,
        p.contract.ref if p.contract else "spot",
        p.home.urn if p.home else "",
        p.start_date.isoformat(),
        p.end_date.isoformat() if p.end_date else "",
        p.end_reason or "",
        f"{p.fees[-1].weekly_pence / 100:.2f}" if p.fees else "",
        p.placement_type,
        p.need_level or "",
        p.age_at_start if p.age_at_start is not None else "",
        str(p.distance_miles) if p.distance_miles is not None else "",
    ]


@bp.route("/placements/new", methods=["GET", "POST"])
@allowed("partner")
def new_placement():
    form = PlacementForm()
    contracts = services.open_contracts_with_homes(date.today())
    form.contract_ref.choices = [("", "None: a spot purchase")] + [(c.ref, f"{c.ref}: {c.title}") for c in contracts]
    form.home.choices = [("", "Choose a home")] + _home_choices(contracts, date.today())
    if (done := handle(form, partial(_record_placement, form), "child_ref")).saved:
        flash(f"Placement of {done.result.child_ref} recorded", "success")
        return redirect(url_for(".placement", placement_id=done.result.id))
    return form_page(
        "form.html",
        form,
        title="Record a placement",
        caption=current_user.authority.name,
        back=url_for(".placements"),
    )


def _record_placement(form) -> Placement:
    """The placement the form gives, for the signed-in partner's authority."""
    if form.home.data and form.home_urn.data:
        raise RuleBroken("Choose a home from the list or give another home's URN, not both", "home_urn")
    values = PlacementValues(
        authority_code=current_user.authority_code,
        child_ref=form.child_ref.data.strip(),
        contract_ref=form.contract_ref.data or None,
        home_urn=form.home.data or (form.home_urn.data or "").strip().upper() or None,
        start_date=form.start_date.data,
        end_date=None,
        weekly_pence=int(form.weekly_fee.data * 100) if form.weekly_fee.data is not None else None,
        placement_type=form.placement_type.data,
        distance_miles=form.distance_miles.data,
        age_at_start=form.age_at_start.data,
        need_level=form.need_level.data or None,
        ssda903_code=(form.ssda903_code.data or "").strip().upper() or None,
    )
    return services.record_placement(values, (form.fee_reason.data or "").strip() or None)


def _home_choices(contracts, on: date) -> list[tuple]:
    """The homes a placement under each contract may use, named, each tagged with its contract:
    a block's own homes; a framework's admitted providers' registered homes, with their prices."""
    choices = []
    for contract in contracts:
        if contract.is_block:
            choices += [
                (home.urn, f"{home.with_urn}: {contract.ref} block", {"data-contract": contract.ref})
                for home in contract.homes
            ]
            continue
        for lot in contract.lots:
            for admission in lot.admissions:
                if admission.status == "withdrawn":
                    continue
                prices = ", ".join(
                    f"{level} {money(pence)}"
                    for level in NEED_LEVELS
                    if (pence := admission.price_on(level, on)) is not None
                )
                choices += [
                    (
                        home.urn,
                        f"{home.with_urn}, {admission.provider.name}: {contract.ref}, {lot.name}"
                        + (f" ({prices} a week)" if prices else ""),
                        {"data-contract": contract.ref},
                    )
                    for home in admission.provider.homes
                    if home.registration_status == "Active"
                ]
    return choices


@bp.get("/placements/<int:placement_id>")
@allowed("lead", "partner")
def placement(placement_id):
    placement = scoped(Placement).get_or_404(placement_id)
    judged = interim = None
    if placement.home_id:
        current = current_graded(homes=[placement.home_id])
        judged = db.session.execute(
            select(current.c.name, current.c.inspection_date).where(current.c.home_id == placement.home_id)
        ).first()
        interim = interim_declines([placement.home_id]).get(placement.home_id)
    reviews = scoped(HighCostReview).select().where(HighCostReview.placement_id == placement.id)
    return render_template(
        "contracts/placement.html",
        placement=placement,
        today=date.today(),
        judged=judged,
        interim=interim,
        reviews=db.session.scalars(reviews.order_by(HighCostReview.reviewed_on.desc())).all(),
        outcomes=REVIEW_OUTCOMES,
        contributions=_contributions(placement),
    )


def _contributions(placement: Placement) -> list[Contribution]:
    query = scoped(Contribution).select().where(Contribution.placement_id == placement.id)
    return db.session.scalars(
        query.options(selectinload(Contribution.cofunder)).order_by(Contribution.first_night)
    ).all()


@bp.route("/placements/<int:placement_id>/end", methods=["GET", "POST"])
@allowed("partner")
def end_placement(placement_id):
    placement = scoped(Placement).get_or_404(placement_id)
    form = EndPlacementForm()
    if handle(
        form,
        lambda: services.end_placement(
            placement, form.end_date.data, form.end_reason.data, form.seen_version, form.end_reason_code.data
        ),
        "end_date",
    ).saved:
        flash(f"Placement of {placement.child_ref} ended on {day(placement.end_date)}", "success")
        return redirect(url_for(".placement", placement_id=placement.id))
    if request.method == "GET":
        form.version.data = placement.version
    return form_page(
        "form.html",
        form,
        title=f"End the placement of {placement.child_ref}",
        caption=placement.home.display_name if placement.home else placement.type_name,
        back=url_for(".placement", placement_id=placement.id),
    )


@bp.route("/placements/<int:placement_id>/review", methods=["GET", "POST"])
@allowed("lead", "partner")
def review_placement(placement_id):
    """A high-cost placement's review (DESIGN §4b): the date, the outcome and a note."""
    placement = scoped(Placement).get_or_404(placement_id)
    form = HighCostReviewForm()
    change = partial(_review, placement, form)
    if handle(form, change, "reviewed_on").saved:
        flash(f"Review of the placement of {placement.child_ref} recorded", "success")
        return redirect(url_for(".placement", placement_id=placement.id))
    return form_page(
        "form.html",
        form,
        title=f"Record a review of the placement of {placement.child_ref}",
        caption=placement.home.display_name if placement.home else placement.type_name,
        intro="A placement at or above the consortium's high-cost threshold is reviewed at least every 183 days.",
        back=url_for(".placement", placement_id=placement.id),
    )


def _review(placement: Placement, form: HighCostReviewForm):
    return services.record_review(placement, form.reviewed_on.data, form.outcome.data, form.note.data, current_user)


@bp.route("/placements/<int:placement_id>/fee", methods=["GET", "POST"])
@allowed("partner")
def change_fee(placement_id):
    placement = scoped(Placement).get_or_404(placement_id)
    form = FeeForm()
    if handle(
        form,
        lambda: services.change_fee(placement, int(form.weekly_fee.data * 100), form.effective_from.data),
        "weekly_fee",
    ).saved:
        flash(f"New weekly fee from {day(form.effective_from.data)}", "success")
        return redirect(url_for(".placement", placement_id=placement.id))
    return form_page(
        "form.html",
        form,
        title=f"Change the fee for {placement.child_ref}",
        back=url_for(".placement", placement_id=placement.id),
    )


@bp.get("/homes/in-use")
@allowed("lead", "partner")
def homes_in_use():
    """Homes where the user's placements (a partner's own, a lead's consortium's) are open today,
    with each home's current judgement: which are Good or better, which are not."""
    today = date.today()
    found = in_use.homes_in_use(current_user, today)
    return render_template(
        "contracts/homes_in_use.html",
        rows=found.rows,
        counts=found.counts,
        today=today,
        interims=found.interims,
        concerns=found.concerns,
        placed=found.placed,
        good_or_better=found.good_or_better,
    )
