"""Referrals' pages: the referrer's question pages, check your answers and the referral with
its ranked offers; the provider's invitations, offer and decline; the vacancy board."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import case, select
from sqlalchemy.orm import selectinload

from consortium.core.access import allowed, scoped
from consortium.core.extensions import db
from consortium.core.formatting import day, money
from consortium.core.forms import act, form_page, handle, handle_after_check
from consortium.core.models import Authority, Membership
from consortium.core.pagination import page_of_list, paginate
from consortium.core.services import RuleBroken
from contracts.models import Placement
from contracts.placements import PlacementValues
from contracts.referrals import fields, search, services, vacancies
from contracts.referrals.forms import (
    AcceptForm,
    ChildForm,
    DeclineForm,
    OfferForm,
    RequirementsForm,
    RisksForm,
    SpotForm,
    UnmetForm,
    VacancyForm,
    WhatForm,
    WhenForm,
    WhereForm,
    WithdrawForm,
)
from contracts.referrals.models import CARE_TYPES, Offer, Referral, ReferralInvitation, Vacancy
from providers.models import Home

bp = Blueprint("referrals", __name__, template_folder="templates")

# The question pages in order: the form and the page's question.
STEPS = {
    "child": (ChildForm, "About the child"),
    "when": (WhenForm, "When is the placement needed?"),
    "what": (WhatForm, "What kind of placement suits?"),
    "where": (WhereForm, "Where should the placement be?"),
    "requirements": (RequirementsForm, "The child's requirements"),
    "risks": (RisksForm, "Risks"),
}
ORDER = list(STEPS)
REFERRERS = ("partner", "lead")


# ---------------------------------------------------------------- the referrer


@bp.get("/referrals")
@allowed(*REFERRERS)
def referrals():
    """Open referrals first (soonest needed), then drafts, then closed ones."""
    status = request.args.get("status", "")
    order = case((Referral.status == "open", 0), (Referral.status == "draft", 1), else_=2)
    query = scoped(Referral).select().options(*fields.LOADED).order_by(order, Referral.needed_by, Referral.id.desc())
    if status:
        query = query.where(Referral.status == status)
    page = _paginated(query)
    return render_template("referrals/referrals.html", page=page, status=status, now=services.now(), search=search)


def _paginated(query):
    return paginate(query, request.args.get("page", type=int), scalars=True)


@bp.route("/referrals/new", methods=["GET", "POST"])
@allowed(*REFERRERS)
def new_referral():
    form = ChildForm()
    form.authority_code.choices = _member_choices()
    if (done := handle(form, partial(_start, form), "child_ref")).saved:
        return redirect(url_for(".step", referral_id=done.result.id, step="when"))
    return form_page(
        "referrals/step.html", form, title=STEPS["child"][1], caption="New referral", back=url_for(".referrals")
    )


def _member_choices() -> list[tuple[str, str]]:
    if current_user.role != "lead":
        return []
    members = db.session.execute(
        select(Authority.code, Authority.name)
        .join(Membership, Membership.authority_code == Authority.code)
        .where(Membership.consortium_id == current_user.consortium_id, Membership.left.is_(None))
        .distinct()
        .order_by(Authority.name)
    )
    return [("", "Choose the authority")] + [(code, name) for code, name in members]


def _start(form) -> Referral:
    code = fields.referring_authority(current_user, form.authority_code.data)
    consortium = fields.consortium_for(current_user, code)
    return services.new_draft(current_user, code, consortium, **_answers(form))


def _answers(form) -> dict:
    """The columns a question page's form gives."""
    given = {
        f.name: f.data for f in form if f.type not in ("CSRFTokenField", "SubmitField") and f.name != "authority_code"
    }
    if "specific_communication" in given:
        given["specific_communication"] = ";".join(given["specific_communication"] or ["None"])
    if "max_weekly" in given:
        value = given.pop("max_weekly")
        given["max_weekly_pence"] = int(value * 100) if value else None
    if "sex" in given:
        given["sex"] = given["sex"] or None
    if "child_ref" in given:
        given["child_ref"] = given["child_ref"].strip()
    for key in ("out_of_area_reason", "additional_support_other", "risk_other", "risk_to_others_other"):
        if key in given:
            given[key] = (given[key] or "").strip() or None  # an empty Other field is no answer
    return given


def _stored(referral: Referral) -> dict:
    """A draft's answers as the question pages' forms show them."""
    data = {column.key: getattr(referral, column.key) for column in Referral.__table__.columns}
    data["specific_communication"] = referral.specific_communication.split(";")
    data["max_weekly"] = Decimal(referral.max_weekly_pence) / 100 if referral.max_weekly_pence else None
    data["sex"] = referral.sex or ""
    return data


@bp.route("/referrals/<int:referral_id>/answers/<step>", methods=["GET", "POST"])
@allowed(*REFERRERS)
def step(referral_id, step):
    referral = scoped(Referral).get_or_404(referral_id)
    if step not in STEPS or referral.status != "draft":
        abort(404)
    form_class, question = STEPS[step]
    form = form_class(data=_stored(referral))
    if step == "child":
        del form.authority_code
    if handle(form, lambda: services.update_draft(referral, **_answers(form)), form_first(form)).saved:
        return redirect(_after(referral, step))
    back = (
        url_for(".check", referral_id=referral.id) if request.args.get("from") == "check" else _before(referral, step)
    )
    return form_page(
        "referrals/step.html", form, title=question, caption=f"Referral for {referral.child_ref}", back=back
    )


def form_first(form) -> str:
    return next(f.name for f in form if f.type != "CSRFTokenField")


def _after(referral: Referral, step: str) -> str:
    position = ORDER.index(step)
    if request.args.get("from") == "check" or position == len(ORDER) - 1:
        return url_for(".check", referral_id=referral.id)
    return url_for(".step", referral_id=referral.id, step=ORDER[position + 1])


def _before(referral: Referral, step: str) -> str:
    position = ORDER.index(step)
    return url_for(".step", referral_id=referral.id, step=ORDER[position - 1]) if position else url_for(".referrals")


@bp.get("/referrals/<int:referral_id>/check")
@allowed(*REFERRERS)
def check(referral_id):
    """Check your answers before opening: each topic with a link to change it."""
    referral = scoped(Referral).get_or_404(referral_id)
    if referral.status != "draft":
        return redirect(url_for(".referral", referral_id=referral.id))
    problems = services.problems(referral, date.today())
    return render_template(
        "referrals/check.html", referral=referral, sections=fields.sections(referral), problems=problems
    )


@bp.post("/referrals/<int:referral_id>/open")
@allowed(*REFERRERS)
def open_referral(referral_id):
    referral = scoped(Referral).get_or_404(referral_id)
    if act(lambda: services.open_referral(referral)).saved:
        asked = len(referral.invitations)
        flash(f"{referral.number} is open: {asked} provider{'s' if asked != 1 else ''} invited", "success")
        return redirect(url_for(".referral", referral_id=referral.id))
    return redirect(url_for(".check", referral_id=referral.id))


@bp.get("/referrals/<int:referral_id>")
@allowed(*REFERRERS)
def referral(referral_id):
    """The referral, its timeline, its invitations and its offers ranked."""
    found = db.session.scalars(
        scoped(Referral).select().where(Referral.id == referral_id).options(*fields.LOADED)
    ).first()
    if found is None:
        abort(404)
    if found.status == "draft":
        return redirect(url_for(".check", referral_id=found.id))
    ranked = search.rank_offers(found, found.offers)
    return render_template(
        "referrals/referral.html",
        referral=found,
        sections=fields.sections(found),
        ranked=ranked,
        timeline=fields.timeline(found),
        spot_allowed=search.spot_allowed(found, services.now()),
        now=services.now(),
    )


@bp.route("/offers/<int:offer_id>/accept", methods=["GET", "POST"])
@allowed(*REFERRERS)
def accept(offer_id):
    offer = scoped(Offer).get_or_404(offer_id)
    form = AcceptForm()
    change = partial(services.accept, offer, form.passed_block_reason.data, form.inadequate_reason.data)
    checked = handle_after_check(form, change, "passed_block_reason", partial(_accept_check, offer))
    if checked.saved:
        flash(f"{offer.referral.number} is placed: {offer.home.display_name} from {day(offer.start_date)}", "success")
        return redirect(url_for("contracts.placement", placement_id=checked.result.id))
    if checked.page is not None:
        return checked.page
    return form_page(
        "referrals/accept.html",
        form,
        title="Accept this offer",
        offer=offer,
        block_offer=search.standing_block_offer(offer.referral),
        inadequate=search.judgement_ranks([offer.home_id]).get(offer.home_id) == search.INADEQUATE_RANK,
        back=url_for(".referral", referral_id=offer.referral_id),
    )


def _accept_check(offer: Offer, _placement: Placement):
    """The check page: the placement accepting will create (read from the offer: the trial
    placement is already undone when this page is drawn)."""
    values = services.placement_values(offer.referral, offer)
    rows = [
        ("Child", values.child_ref),
        ("Home", offer.home.with_urn),
        ("Contract", offer.contract.ref),
        ("Start", day(values.start_date)),
        ("Weekly fee", money(values.weekly_pence) if values.weekly_pence else "The block's price (already paid for)"),
        ("Need level", values.need_level.capitalize()),
        ("Distance", f"{values.distance_miles} miles" if values.distance_miles is not None else "Not known"),
    ]
    return render_template(
        "confirm.html",
        title="Check the placement before accepting",
        caption=offer.referral.number,
        rows=rows,
        warning="Accepting makes this placement, closes the referral and tells the other providers.",
        button="Accept and make the placement",
        back=url_for(".referral", referral_id=offer.referral_id),
    )


@bp.route("/referrals/<int:referral_id>/spot", methods=["GET", "POST"])
@allowed(*REFERRERS)
def spot(referral_id):
    referral = scoped(Referral).get_or_404(referral_id)
    form = SpotForm()
    if (done := handle(form, partial(_buy_spot, referral, form), "home_urn")).saved:
        flash(f"{referral.number} is placed by a spot purchase", "success")
        return redirect(url_for("contracts.placement", placement_id=done.result.id))
    intro = None if search.spot_allowed(referral, services.now()) else f"{search.SPOT_WAITS}: until then it is refused."
    return form_page(
        "form.html",
        form,
        title="Buy a spot placement",
        caption=referral.number,
        intro=intro,
        back=url_for(".referral", referral_id=referral.id),
    )


def _buy_spot(referral: Referral, form) -> Placement:
    values = PlacementValues(
        authority_code="",
        child_ref="",
        contract_ref=None,
        home_urn=form.home_urn.data.strip().upper(),
        start_date=form.start_date.data,
        end_date=None,
        weekly_pence=int(form.weekly_fee.data * 100),
        placement_type=form.placement_type.data,
    )
    return services.buy_spot(referral, values, form.reason.data)


@bp.route("/referrals/<int:referral_id>/withdraw", methods=["GET", "POST"])
@allowed(*REFERRERS)
def withdraw(referral_id):
    referral = scoped(Referral).get_or_404(referral_id)
    form = WithdrawForm()
    if handle(form, lambda: services.withdraw(referral, form.reason.data), "reason").saved:
        flash(f"{referral.label} is withdrawn; every invited provider has been told", "success")
        return redirect(url_for(".referrals"))
    return form_page(
        "form.html",
        form,
        title="Withdraw this referral",
        caption=referral.label,
        back=url_for(".referral", referral_id=referral.id),
    )


@bp.route("/referrals/<int:referral_id>/unmet", methods=["GET", "POST"])
@allowed(*REFERRERS)
def unmet(referral_id):
    referral = scoped(Referral).get_or_404(referral_id)
    form = UnmetForm()
    if handle(form, lambda: services.close_unmet(referral, form.reason.data, form.note.data), "reason").saved:
        flash(f"{referral.number} is closed as unmet", "success")
        return redirect(url_for(".referral", referral_id=referral.id))
    return form_page(
        "form.html",
        form,
        title="Close as unmet",
        caption=referral.label,
        back=url_for(".referral", referral_id=referral.id),
    )


# ---------------------------------------------------------------- the provider


@bp.get("/invitations")
@allowed("provider")
def invitations():
    """The provider's invitations, soonest deadline first; answered and closed ones after."""
    waiting = case((ReferralInvitation.status == "invited", 0), else_=1)
    query = (
        scoped(ReferralInvitation)
        .select()
        .options(selectinload(ReferralInvitation.referral), selectinload(ReferralInvitation.contract))
        .order_by(waiting, ReferralInvitation.deadline, ReferralInvitation.id)
    )
    return render_template("referrals/invitations.html", page=_paginated(query), now=services.now(), aware=search.aware)


@bp.get("/invitations/<int:invitation_id>")
@allowed("provider")
def invitation(invitation_id):
    """What the provider may see: the needs and risks while invited (each view audited), never
    the child's reference before its offer is accepted; afterwards the number and outcome."""
    found = scoped(ReferralInvitation).get_or_404(invitation_id)
    visible = fields.provider_may_see(found)
    if visible:
        fields.record_provider_view(found.referral, current_user)
        db.session.commit()
    own = [o for o in found.referral.offers if o.invitation_id == found.id]
    accepted = any(o.status == "accepted" for o in own)
    sections = fields.sections(found.referral, with_child=accepted, with_budget=False) if visible or accepted else []
    return render_template(
        "referrals/invitation.html",
        invitation=found,
        referral=found.referral,
        visible=visible,
        sections=sections,
        offers=own,
        accepted=accepted,
        now=services.now(),
        aware=search.aware,
    )


@bp.route("/invitations/<int:invitation_id>/offer", methods=["GET", "POST"])
@allowed("provider")
def offer(invitation_id):
    found = scoped(ReferralInvitation).get_or_404(invitation_id)
    form = OfferForm(need_level=found.referral.need_level)
    form.home_urn.choices = _suitable_homes(found)
    if handle(form, partial(_make_offer, found, form), "home_urn").saved:
        flash(f"Your offer for {found.referral.number} is made", "success")
        return redirect(url_for(".invitation", invitation_id=found.id))
    return form_page(
        "referrals/offer.html",
        form,
        title="Make an offer",
        invitation=found,
        prices=_framework_prices(found),
        back=url_for(".invitation", invitation_id=found.id),
    )


def _suitable_homes(invitation: ReferralInvitation) -> list[tuple[str, str]]:
    homes = invitation.contract.homes if invitation.is_block else invitation.provider.homes
    fitting = [
        h for h in homes if h.provider_id == invitation.provider_id and search.home_suits(h, invitation.referral)
    ]
    return [("", "Choose a home")] + [(h.urn, h.with_urn) for h in fitting]


def _framework_prices(invitation: ReferralInvitation) -> list[tuple[str, str]]:
    """The admission's price for each need level today: what a framework offer is set against."""
    if invitation.admission is None:
        price = invitation.contract.price_on(date.today())
        return [("Block price", invitation.contract.price_label(price))] if price else []
    return [
        (level.capitalize(), money(invitation.admission.price_on(level, date.today())) or "None")
        for level in ("standard", "complex", "high")
    ]


def _make_offer(invitation: ReferralInvitation, form) -> Offer:
    pence = {
        name: int((getattr(form, name).data or 0) * 100)
        for name in ("core", "additional_support", "education", "other")
    }
    values = services.OfferValues(
        home_urn=form.home_urn.data,
        start_date=form.start_date.data,
        need_level=form.need_level.data,
        core_pence=pence["core"],
        additional_support_pence=pence["additional_support"],
        education_pence=pence["education"],
        other_pence=pence["other"],
        valid_hours=form.valid_hours.data,
        reason=form.reason.data,
    )
    return services.make_offer(invitation, current_user, values)


@bp.route("/invitations/<int:invitation_id>/decline", methods=["GET", "POST"])
@allowed("provider")
def decline(invitation_id):
    found = scoped(ReferralInvitation).get_or_404(invitation_id)
    form = DeclineForm()
    if handle(form, lambda: services.decline(found, form.reason.data, form.note.data), "reason").saved:
        flash(f"You have declined {found.referral.number}", "success")
        return redirect(url_for(".invitations"))
    return form_page(
        "form.html",
        form,
        title="Decline this referral",
        caption=found.referral.number,
        back=url_for(".invitation", invitation_id=found.id),
    )


@bp.post("/offers/<int:offer_id>/withdraw")
@allowed("provider")
def withdraw_offer(offer_id):
    found = scoped(Offer).get_or_404(offer_id)
    if act(lambda: services.withdraw_offer(found)).saved:
        flash("Your offer is withdrawn", "success")
    return redirect(url_for(".invitation", invitation_id=found.invitation_id))


# ---------------------------------------------------------------- vacancies


@bp.get("/vacancies")
@allowed("lead", "partner", "provider")
def board():
    """Block voids first (from the blocks' nights), then providers' published vacancies."""
    args = request.args
    within, rank = args.get("within", type=int), args.get("judgement", type=int)
    miles = Decimal(within) if within else None
    rows = vacancies.board(current_user, date.today(), args.get("type", ""), args.get("area", ""), miles, rank)
    return render_template(
        "referrals/board.html",
        page=page_of_list(rows, args.get("page", type=int)),
        own=_own_vacancies() if current_user.role == "provider" else [],
        args=args,
        care_types=[(k, v[0]) for k, v in CARE_TYPES.items()],
        areas=_areas(),
        origin=vacancies.viewer_authority(current_user),
        today=date.today(),
        lapses_on=vacancies.lapses_on,
    )


def _own_vacancies() -> list[Vacancy]:
    return list(
        db.session.scalars(
            scoped(Vacancy).select().where(Vacancy.withdrawn.is_(False)).order_by(Vacancy.available_from)
        )
    )


def _areas() -> list[tuple[str, str]]:
    return [
        (area, area)
        for area in db.session.scalars(select(Home.local_authority).distinct().order_by(Home.local_authority))
    ]


@bp.route("/vacancies/new", methods=["GET", "POST"])
@allowed("provider")
def new_vacancy():
    form = VacancyForm()
    homes = scoped(Home).all(Home.urn)
    form.home_id.choices = [("", "Choose a home")] + [(str(h.id), h.with_urn) for h in homes]
    if (done := handle(form, partial(_publish, form, homes), "home_id")).saved:
        flash(
            f"Vacancy at {done.result.home.display_name} published until {day(vacancies.lapses_on(done.result))}",
            "success",
        )
        return redirect(url_for(".board"))
    return form_page(
        "form.html",
        form,
        title="Publish a vacancy",
        intro="It shows on the vacancy board for 14 days; confirm it again to keep it there.",
        back=url_for(".board"),
    )


def _publish(form, homes) -> Vacancy:
    home = next((h for h in homes if str(h.id) == form.home_id.data), None)
    if home is None:
        raise RuleBroken("Choose one of your homes", "home_id")
    return vacancies.publish(
        current_user.provider_id,
        home,
        form.beds.data,
        form.available_from.data,
        form.available_until.data,
        form.care_types.data,
        form.min_age.data,
        form.max_age.data,
        date.today(),
    )


@bp.post("/vacancies/<int:vacancy_id>/<action>")
@allowed("provider")
def vacancy_action(vacancy_id, action):
    found = scoped(Vacancy).get_or_404(vacancy_id)
    changes = {"confirm": lambda: vacancies.confirm(found, date.today()), "withdraw": lambda: vacancies.withdraw(found)}
    if action not in changes:
        abort(404)
    if act(changes[action]).saved:
        flash("Vacancy confirmed for another 14 days" if action == "confirm" else "Vacancy withdrawn", "success")
    return redirect(url_for(".board"))
