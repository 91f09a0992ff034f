"""A referral's fields as the national Placements Data Standard (v2) names them, and what each
viewer may read of a referral: shared by the pages and the API."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consortium.core import audit
from consortium.core.extensions import db
from consortium.core.models import Consortium, Membership, today
from consortium.core.services import RuleBroken
from contracts.referrals.models import RISKS, Offer, Referral, ReferralInvitation

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
    selectinload(Referral.offers).options(
        selectinload(Offer.home), selectinload(Offer.provider), selectinload(Offer.contract)
    ),
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
