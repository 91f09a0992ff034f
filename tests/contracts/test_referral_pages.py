"""The referral through the pages, as people use them: a partner answers the question pages and
opens it, a provider offers, the partner accepts on the check page; the placement is made."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from consortium.core import tokens
from consortium.core.audit import AuditEvent
from consortium.core.extensions import db
from contracts.models import Placement
from contracts.referrals import vacancies
from contracts.referrals.models import Referral
from tests.conftest import sign_in
from tests.factories import HomeFactory, partner, provider_user

NEEDED = date.today() + timedelta(days=8)


def _date(name, day):
    """A date as the three GOV.UK boxes send it."""
    return {name: [str(day.day), str(day.month), str(day.year)]}


def test_a_partner_refers_a_provider_offers_and_the_partner_accepts(client, world):
    officer = partner(world["nottingham"])
    sign_in(client, officer)
    started = client.post("/referrals/new", data={"child_ref": "NOT-8001", "age_in_years": "14", "sex": ""})
    assert started.status_code == 302, started.get_data(as_text=True)
    referral = db.session.scalar(select(Referral))
    base = f"/referrals/{referral.id}/answers"
    answers = {
        "when": _date("needed_by", NEEDED),
        "what": {
            "foster_suitability": "Unsuitable",
            "residential_suitability": "Preferred",
            "supported_suitability": "Not specified",
            "need_level": "standard",
            "sibling_count": "0",
        },
        "where": {"local_preferred": "True"},
        "requirements": {
            "communication_needs": "N",
            "specific_communication": "None",
            "home_adaptation": "False",
            "cultural_needs": "Not required",
            "living_companions": "No preference",
            "pets": "Yes - can",
            "additional_support": "NA",
            "deprivation_of_liberty": "False",
        },
        "risks": {
            name: "False"
            for name in Referral.__table__.columns.keys()
            if name.startswith("risk_") and not name.endswith("other")
        },
    }
    for step, data in answers.items():
        page = client.get(f"{base}/{step}")
        assert page.status_code == 200
        answered = client.post(f"{base}/{step}", data=data)
        assert answered.status_code == 302, (step, answered.get_data(as_text=True))
    # A page missing an answer shows the GOV.UK error pattern, and keeps nothing of it.
    wrong = client.post(f"{base}/what", data={"residential_suitability": "Maybe"})
    assert wrong.status_code == 400 and "There is a problem" in wrong.get_data(as_text=True)
    check = client.get(f"/referrals/{referral.id}/check").get_data(as_text=True)
    assert "Check your answers before opening the referral" in check and "NOT-8001" in check
    opened = client.post(f"/referrals/{referral.id}/open")
    assert opened.status_code == 302
    db.session.refresh(referral)
    assert referral.status == "open" and len(referral.invitations) == 3

    # The Outstanding home's provider sees the needs, not the child, and offers.
    one = world["homes"]["One"]
    staff = provider_user(one.provider)
    sign_in(client, staff)
    listed = client.get("/invitations").get_data(as_text=True)
    assert referral.number in listed
    invitation = next(i for i in referral.invitations if i.provider_id == one.provider_id)
    shown = client.get(f"/invitations/{invitation.id}").get_data(as_text=True)
    assert "NOT-8001" not in shown and "Requirements" in shown and "Highest weekly fee" not in shown
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "view needs and risks")) is not None
    offered = client.post(
        f"/invitations/{invitation.id}/offer",
        data={
            "home_urn": one.urn,
            **_date("start_date", NEEDED),
            "need_level": "standard",
            "core": "3900.00",
            "valid_hours": "48",
        },
    )
    assert offered.status_code == 302, offered.get_data(as_text=True)

    # The partner sees the offer ranked, checks the placement it makes, and accepts.
    sign_in(client, officer)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert one.display_name in page and "100.0" in page
    offer = referral.offers[0]
    checked = client.post(f"/offers/{offer.id}/accept", data={})
    assert "Check the placement before accepting" in checked.get_data(as_text=True)
    assert db.session.scalar(select(Placement.id)) is None  # nothing made before it is confirmed
    done = client.post(f"/offers/{offer.id}/accept", data={"confirmed": "yes"})
    assert done.status_code == 302
    placement = db.session.scalar(select(Placement))
    assert (placement.child_ref, placement.contract.ref, placement.fees[0].weekly_pence) == (
        "NOT-8001",
        "EM-FW",
        390000,
    )
    assert "NOT-8001" in client.get("/placements").get_data(as_text=True)


def test_the_vacancy_board_lists_block_voids_first_then_the_frameworks_providers_vacancies(client, world):
    today = date.today()
    admitted = world["homes"]["Three"]  # on our framework's Reserve tier
    stranger = HomeFactory(name="Elsewhere House")  # its provider is on none of our frameworks
    for home in (admitted, stranger):
        vacancies.publish(home.provider_id, home, 1, today, None, ["residential"], 10, 17, today)
    sign_in(client, partner(world["nottingham"]))
    board = client.get("/vacancies").get_data(as_text=True)
    assert "Block EM-BLOCK" in board and "2 on every night, 56 bed-nights free" in board
    assert board.index("Block EM-BLOCK") < board.index(admitted.display_name)
    assert "Elsewhere House" not in board
    assert "&lt;br&gt;" not in board and "&lt;span" not in board  # the home's cell is HTML, not its escaped text


def test_bad_values_get_a_message_never_a_500(client, world):
    sign_in(client, partner(world["nottingham"]))
    for data in (
        {"child_ref": "A\x00B", "age_in_years": "14"},
        {"child_ref": "x" * 100_000, "age_in_years": "14"},
        {"child_ref": "NOT-1", "age_in_years": "1e20"},
        {"child_ref": "NOT-1", "age_in_years": "NaN"},
        {"child_ref": "NOT-1", "age_in_years": "99999999999999999999"},
    ):
        answered = client.post("/referrals/new", data=data)
        assert answered.status_code == 400 and "There is a problem" in answered.get_data(as_text=True), data
    client.post("/referrals/new", data={"child_ref": "NOT-1", "age_in_years": "14"})
    referral = db.session.scalar(select(Referral))
    far = client.post(f"/referrals/{referral.id}/answers/when", data={"needed_by": ["1", "1", "9999"]})
    assert far.status_code == 400 and "There is a problem" in far.get_data(as_text=True)
    fee = client.post(
        f"/referrals/{referral.id}/answers/what",
        data={
            "foster_suitability": "Unsuitable",
            "residential_suitability": "Preferred",
            "supported_suitability": "Unsuitable",
            "need_level": "standard",
            "sibling_count": "0",
            "max_weekly": "1e20",
        },
    )
    assert fee.status_code == 400
    api_token = tokens.create(partner(world["nottingham"]), "Case system", "write")[1]
    refused = client.post(
        "/api/v1/referrals",
        json={"childId": "x" * 100_000, "ageInYears": 1e20, "neededBy": "9999-01-01"},
        headers={"Authorization": f"Bearer {api_token}"},
    )
    assert refused.status_code == 422
