"""A referral's fields as the national Placements Data Standard (v2) names them, and what each
viewer may read of a referral: shared by the pages and the API."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consortium.core import audit
from consortium.core.extensions import db
from consortium.core.formatting import day, long_day, uk_minute
from consortium.core.models import Consortium, Membership, today
from consortium.core.services import RuleBroken
from contracts.referrals.models import COMMUNICATION_SHOWN as SHOWN
from contracts.referrals.models import RISKS, Offer, Referral, ReferralInvitation
from contracts.referrals.search import aware, urgency

# The standard's name of each column a referral holds beyond the child, the date and the types.
NEEDS = (
    ("communication_needs", "communicationNeeds", "Communication, language and learning needs"),
    ("specific_communication", "specificCommunicationRequirements", "Specific communication requirements"),
    ("home_adaptation", "homeAdaptation", "Adaptation to the home"),
    ("cultural_needs", "culturalNeeds", "Cultural needs"),
    ("living_companions", "livingCompanions", "Who the child can be cared for alongside"),
    ("pets", "pets", "Can the child live with pets"),
    ("additional_support", "additionalSupport", "Additional support"),
    ("additional_support_other", "additionalSupportOther", "Additional support (other)"),
    ("deprivation_of_liberty", "deprivationOfLiberty", "Deprivation of liberty order"),
)
# What a referral's page and the API load with it.
LOADED = (
    selectinload(Referral.authority),
    selectinload(Referral.consortium),
    selectinload(Referral.invitations).options(
        selectinload(ReferralInvitation.provider), selectinload(ReferralInvitation.contract)
    ),
    # An offer's provider and contract are its invitation's, already in the session: read from there.
    selectinload(Referral.offers).selectinload(Offer.home),
)


def columns_from_standard(given: dict) -> dict:
    """The columns of a referral from the API's fields (snake_case names of the standard's)."""
    risk_columns = {column for column, _, _ in RISKS}
    columns = {
        "child_ref": given["child_id"].strip(),
        "age_in_years": given["age_in_years"],
        "sex": given.get("sex"),
        "needed_by": given["needed_by"],
        "need_level": given.get("need_level") or "standard",
        "foster_suitability": given["foster_care_suitability"],
        "residential_suitability": given["residential_care_suitability"],
        "supported_suitability": given["supported_accommodation_suitability"],
        "sibling_count": given.get("sibling_count", 0),
        "local_preferred": given.get("is_preferred_location_local", True),
        "out_of_area_reason": _text(given.get("out_of_la_reason")),
        "communication_needs": given["communication_needs"],
        "specific_communication": ";".join(given["specific_communication_requirements"] or ["None"]),
        "home_adaptation": given["home_adaptation"],
        "cultural_needs": given["cultural_needs"],
        "living_companions": given["living_companions"],
        "pets": given["pets"],
        "additional_support": given["additional_support"],
        "additional_support_other": _text(given.get("additional_support_other")),
        "deprivation_of_liberty": given["deprivation_of_liberty"],
        "risk_other": _text(given.get("risk_other")),
        "risk_to_others_other": _text(given.get("risk_to_others_other")),
        "max_weekly_pence": given.get("max_weekly_fee_pence"),
    }
    columns.update({column: given[column] == "Risk Present" for column in risk_columns})
    return columns


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def as_shown(referral: Referral) -> dict:
    """Its needs and risks under the standard's names, as the API and the pages show them."""
    needs = {name: getattr(referral, column) for column, name, _ in NEEDS}
    needs["specificCommunicationRequirements"] = referral.specific_communication.split(";")
    risks = {name: "Risk Present" if getattr(referral, column) else "No known risk" for column, name, _ in RISKS}
    risks["riskOther"], risks["riskToOthersOther"] = referral.risk_other, referral.risk_to_others_other
    return {"needs": needs, "risks": risks}


def referring_authority(user, code: str | None) -> str:
    """Whose referral it is: a partner's own authority; for a lead, the member authority named."""
    code = (code or "").strip().upper()
    if user.role == "partner":
        if code and code != user.authority_code:
            raise RuleBroken(f"You can refer for {user.authority_code} only", "authority_code")
        return user.authority_code
    if not code:
        raise RuleBroken("Choose the member authority the referral is for", "authority_code")
    member = db.session.scalar(
        select(Membership.id).where(
            Membership.consortium_id == user.consortium_id,
            Membership.authority_code == code,
            Membership.joined <= today(),
            (Membership.left.is_(None)) | (Membership.left >= today()),
        )
    )
    if member is None:
        raise RuleBroken(f"{code} is not a member of your consortium today", "authority_code")
    return code


def consortium_for(user, code: str) -> Consortium:
    """The consortium a referral searches: a lead's own; for a partner, the consortium its
    authority is a member of today (the first it joined, if several)."""
    if user.role == "lead":
        return db.session.get(Consortium, user.consortium_id)
    found = db.session.scalar(
        select(Consortium)
        .join(Membership, Membership.consortium_id == Consortium.id)
        .where(
            Membership.authority_code == code,
            Membership.joined <= today(),
            (Membership.left.is_(None)) | (Membership.left >= today()),
        )
        .order_by(Membership.joined, Consortium.id)
        .limit(1)
    )
    if found is None:
        raise RuleBroken(f"{code} is not a member of a consortium today: there is nobody to ask")
    return found


def provider_may_see(invitation: ReferralInvitation) -> bool:
    """A provider reads a referral's needs and risks only while invited to it and it is open."""
    return invitation.referral.status == "open" and invitation.status in ("invited", "offered")


def record_provider_view(referral: Referral, user) -> None:
    """Every view of a referral's needs and risks by a provider goes in the audit log."""
    audit.record(
        db.session,
        "view needs and risks",
        "Referral",
        str(referral.id),
        {"number": referral.number, "provider": user.provider.name if user.provider else None},
    )


# ---------------------------------------------------------------- on the pages


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def sections(
    referral: Referral, with_child: bool = True, with_budget: bool = True
) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The referral's answers by topic: (step, heading, [(question, answer)]), as the check page
    and the referral's page show them. `with_child` False leaves out the child's reference;
    `with_budget` False the highest weekly fee (the referrer's, not for providers to offer up to)."""
    child = [("Age", f"{referral.age_in_years}"), ("Sex", referral.sex or "Not needed for matching")]
    if with_child:
        child.insert(0, ("Child reference", referral.child_ref))
    fee = f"£{referral.max_weekly_pence / 100:,.2f}" if referral.max_weekly_pence else "Not given"
    return [
        ("child", "The child", child),
        (
            "when",
            "When",
            [("Needed by", _long(referral.needed_by)), ("Urgency", _urgency(referral))],
        ),
        (
            "what",
            "What kind of placement",
            [
                ("Foster care", referral.foster_suitability),
                ("Residential care", referral.residential_suitability),
                ("Supported accommodation", referral.supported_suitability),
                ("Need level", referral.need_level.capitalize()),
                ("Siblings to place with", str(referral.sibling_count)),
            ]
            + ([("Highest weekly fee", fee)] if with_budget else []),
        ),
        (
            "where",
            "Where",
            [
                ("A placement in the area preferred", _yes_no(referral.local_preferred)),
                ("Why outside the area", referral.out_of_area_reason or "Not given"),
            ],
        ),
        (
            "requirements",
            "Requirements",
            [
                (label, _yes_no(value) if isinstance(value, bool) else (SHOWN.get(value, value) or "Not given"))
                for label, value in ((label, getattr(referral, column)) for column, _, label in NEEDS)
            ],
        ),
        (
            "risks",
            "Risks",
            [(label, "Risk present" if getattr(referral, column) else "No known risk") for column, _, label in RISKS]
            + [
                ("Other risk to the child", referral.risk_other or "None given"),
                ("Other risk to others or property", referral.risk_to_others_other or "None given"),
            ],
        ),
    ]


def _urgency(referral: Referral) -> str:
    if referral.urgency:
        return referral.urgency
    if referral.needed_by is None:
        return "Not known yet"
    return f"{urgency(referral.needed_by, date.today())} if opened today"


def _long(day_) -> str:
    return long_day(day_) if day_ else "Not given"


def timeline(referral: Referral) -> list[tuple[datetime, str]]:
    """What happened, in order: opened, who was invited when, each tier's window, each answer,
    lapses and withdrawals, the acceptance and the placement, the close."""
    started = min(filter(None, (aware(referral.created_at), aware(referral.opened_at))))
    events: list[tuple[datetime, str]] = [(started, "Started as a draft")]
    if referral.opened_at:
        events.append((aware(referral.opened_at), f"Opened as {referral.number} ({referral.urgency})"))
    windows: dict[tuple[str, datetime], list[str]] = {}
    for invitation in referral.invitations:
        stage = "block" if invitation.is_block else f"{invitation.stage} tier"
        events.append(
            (
                aware(invitation.sent_at),
                f"Invited {invitation.provider.name} ({stage}, {invitation.contract.ref}) to answer by "
                f"{uk_minute(invitation.deadline)}",
            )
        )
        windows.setdefault((invitation.stage, aware(invitation.deadline)), []).append(invitation.provider.name)
        if invitation.status == "declined":
            note = f": {invitation.decline_note}" if invitation.decline_note else ""
            events.append(
                (
                    aware(invitation.answered_at),
                    f"{invitation.provider.name} declined ({invitation.decline_reason}{note})",
                )
            )
        elif invitation.status == "no_response" and invitation.answered_at is None:
            events.append((aware(invitation.deadline), f"{invitation.provider.name} did not answer by the deadline"))
    for (stage, ends), _names in sorted(windows.items(), key=lambda item: item[0][1]):
        label = "The block's" if stage == "Block" else f"The {stage} tier's"
        events.append((ends, f"{label} window ends"))
    for offer in referral.offers:
        events.append(
            (
                aware(offer.made_at),
                f"{offer.provider.name} offered {offer.home.display_name} from {day(offer.start_date)}",
            )
        )
        if offer.status in ("withdrawn", "lapsed") and offer.closed_at:
            events.append((aware(offer.closed_at), f"{offer.provider.name}'s offer {offer.status}"))
        if offer.status == "accepted":
            events.append((aware(offer.closed_at), f"{offer.provider.name}'s offer accepted: placement made"))
    if referral.closed_at and referral.status != "placed":
        reason = f": {referral.close_reason}" if referral.close_reason else ""
        events.append((aware(referral.closed_at), f"Closed as {referral.status}{reason}"))
    elif referral.status == "placed" and referral.spot_reason:
        events.append((aware(referral.closed_at), f"Placed by a spot purchase: {referral.spot_reason}"))
    return sorted((e for e in events if e[0] is not None), key=lambda e: e[0])
