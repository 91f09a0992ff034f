"""Pages for co-funding: a placement's contributions, and a contract's funding shares."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, flash, redirect, request, url_for
from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from sqlalchemy import select
from wtforms import DecimalField
from wtforms.validators import NumberRange, Optional

from consortium.core.access import allowed, scoped
from consortium.core.extensions import db
from consortium.core.formatting import day
from consortium.core.forms import form_page, handle
from consortium.core.models import Authority, Cofunder, Membership
from consortium.core.services import RuleBroken
from contracts import cofunding
from contracts.forms import ContributionForm, EndContributionForm, FundingSharesForm
from contracts.models import Contract, Contribution, Placement

bp = Blueprint("cofunding", __name__, template_folder="templates")


def _cofunder_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(scoped(Cofunder).select(Cofunder.id, Cofunder.name).order_by(Cofunder.name))
    return [("", "Choose a co-funder")] + [(str(id_), name) for id_, name in rows]


def _add(placement: Placement, form: ContributionForm) -> Contribution:
    cofunder = scoped(Cofunder).select().where(Cofunder.id == int(form.cofunder.data or 0))
    cofunder = db.session.scalar(cofunder)
    if cofunder is None:
        raise RuleBroken("Choose the co-funder", "cofunder")
    percent = form.percent.data if form.share.data == "percent" else None
    weekly = form.weekly.data if form.share.data == "weekly" else None
    if percent is None and weekly is None:
        missing = "percent" if form.share.data == "percent" else "weekly"
        raise RuleBroken("Enter the percentage" if missing == "percent" else "Enter the amount a week", missing)
    weekly_pence = int(weekly * 100) if weekly is not None else None
    return cofunding.add_contribution(
        placement, cofunder, form.first_night.data, form.last_night.data, percent, weekly_pence
    )


@bp.route("/placements/<int:placement_id>/contributions/new", methods=["GET", "POST"])
@allowed("lead", "partner")
def new_contribution(placement_id):
    """A co-funder's share of the placement's weekly fee (DESIGN §4c)."""
    placement = scoped(Placement).get_or_404(placement_id)
    form = ContributionForm()
    form.cofunder.choices = _cofunder_choices()
    if handle(form, lambda: _add(placement, form), "cofunder").saved:
        flash(f"Contribution to the placement of {placement.child_ref} added", "success")
        return redirect(url_for("contracts.placement", placement_id=placement.id))
    return form_page(
        "form.html",
        form,
        title=f"Add a contribution to the placement of {placement.child_ref}",
        caption=placement.home.display_name if placement.home else placement.type_name,
        intro="The co-funder pays this share of the weekly fee; your authority pays the rest. The shares "
        "together can never be more than the fee on any night.",
        back=url_for("contracts.placement", placement_id=placement.id),
    )


@bp.route("/contributions/<int:contribution_id>/end", methods=["GET", "POST"])
@allowed("lead", "partner")
def end_contribution(contribution_id):
    contribution = scoped(Contribution).get_or_404(contribution_id)
    form = EndContributionForm()
    placement_page = url_for("contracts.placement", placement_id=contribution.placement_id)
    if handle(form, lambda: cofunding.end_contribution(contribution, form.last_night.data), "last_night").saved:
        flash(
            f"{contribution.cofunder.name}'s contribution ends after the night of {day(contribution.last_night)}",
            "success",
        )
        return redirect(placement_page)
    return form_page(
        "form.html",
        form,
        title=f"End {contribution.cofunder.name}'s contribution",
        caption=f"Placement of {contribution.placement.child_ref}, from {day(contribution.first_night)}",
        intro="The nights before stay as they were. To change a share, end it and add a new one from the next night.",
        back=placement_page,
    )


def _payers(contract: Contract) -> list[tuple[str, str]]:
    """Who may hold a share of a contract: its consortium's members and every co-funder, as
    (field name, label)."""
    members = db.session.execute(
        select(Authority.code, Authority.name)
        .join(Membership, Membership.authority_code == Authority.code)
        .where(Membership.consortium_id == contract.consortium_id)
        .distinct()
        .order_by(Authority.name)
    )
    cofunders = db.session.execute(scoped(Cofunder).select(Cofunder.id, Cofunder.name).order_by(Cofunder.name))
    return [(f"a_{code}", name) for code, name in members] + [(f"c_{id_}", name) for id_, name in cofunders]


def _shares_form(contract: Contract) -> FundingSharesForm:
    bounds = [Optional(), NumberRange(min=0, max=100, message="Each share is a percentage from 0 to 100")]

    class Shares(FundingSharesForm):
        pass

    for name, label in _payers(contract):
        setattr(Shares, name, DecimalField(f"{label} (%)", places=2, validators=bounds, widget=GovTextInput()))
    form = Shares()
    form.payer_fields = [getattr(form, name) for name, _ in _payers(contract)]
    if request.method == "GET":  # the shares in force at the term's end, to start from
        for share in cofunding.funding_shares_on(contract, contract.end_date):
            key = f"a_{share.authority_code}" if share.authority_code else f"c_{share.cofunder_id}"
            if (field := getattr(form, key, None)) is not None:
                field.data = share.percent
    return form


def _save_shares(contract: Contract, form) -> list:
    values = {field.name: field.data or Decimal(0) for field in form.payer_fields}
    authorities = {name[2:]: value for name, value in values.items() if name.startswith("a_")}
    cofunders = {int(name[2:]): value for name, value in values.items() if name.startswith("c_")}
    return cofunding.set_funding_shares(contract, form.effective_from.data, authorities, cofunders)


@bp.route("/contracts/<int:contract_id>/funding-shares", methods=["GET", "POST"])
@allowed("lead")
def funding_shares(contract_id):
    """Agreed shares of a contract's cost among members and co-funders, from a date (DESIGN §4c)."""
    contract = scoped(Contract).get_or_404(contract_id)
    form = _shares_form(contract)
    if handle(form, lambda: _save_shares(contract, form), "effective_from").saved:
        flash(f"Funding shares of {contract.ref} from {day(form.effective_from.data)} saved", "success")
        return redirect(url_for("contracts.contract", contract_id=contract.id))
    return form_page(
        "form.html",
        form,
        title=f"Set the funding shares of {contract.ref}",
        caption=contract.title,
        intro="Agreed percentages of the contract's cost: together they add up to 100. A pool made from its "
        "cost is split by them, and each co-funder gets its own statement. Leave a payer empty for no share.",
        back=url_for("contracts.contract", contract_id=contract.id),
    )
