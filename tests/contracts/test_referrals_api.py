"""The whole referral through the API alone: a case-management system sends it, providers'
systems answer, the referrer accepts; with the standard's field names and the same refusals."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from consortium.core import tokens
from consortium.core.audit import AuditEvent
from consortium.core.extensions import db
from contracts.models import Placement
from tests.factories import partner, provider_user

RISKS = [
    "riskSelfHarm",
    "riskSexualExploitation",
    "riskCriminalExploitation",
    "riskDrugAlcohol",
    "riskEatingDisorder",
    "riskMissing",
    "riskToOthersPhysical",
    "riskToOthersSexual",
    "riskToOthersFire",
    "riskToOthersAnimals",
    "riskToOthersCriminal",
]


def bearer(user, scope="write") -> dict:
    _, secret = tokens.create(user, "Case system", scope)
    return {"Authorization": f"Bearer {secret}"}


def referral_body(**changes) -> dict:
    body = {
        "childId": "NOT-7001",
        "ageInYears": 14,
        "neededBy": (date.today() + timedelta(days=7)).isoformat(),
        "fosterCareSuitability": "Unsuitable",
        "residentialCareSuitability": "Preferred",
        "supportedAccommodationSuitability": "Not specified",
        "isPreferredLocationLocal": False,
        "outOfLAReason": "Away from exploitation risks in the city",
        **{risk: "No known risk" for risk in RISKS},
        "riskMissing": "Risk Present",
    }
    return {**body, **changes}


def test_the_whole_flow_through_the_api(client, world):
    nottingham = partner(world["nottingham"])
    referrer = bearer(nottingham)
    made = client.post("/api/v1/referrals", json=referral_body(), headers=referrer)
    assert made.status_code == 201, made.get_json()
    draft = made.get_json()
    assert (draft["status"], draft["needLevel"], draft["outOfLAReason"]) == (
        "draft",
        "standard",
        draft["outOfLAReason"],
    )
    assert draft["needs"]["livingCompanions"] == "No preference" and draft["risks"]["riskMissing"] == "Risk Present"
    opened = client.post(f"/api/v1/referrals/{draft['id']}/open", headers=referrer).get_json()
    assert opened["number"].startswith("EMRF-R-") and opened["urgency"] == "> 5 days"
    assert sorted(i["stage"] for i in opened["invitations"]) == ["Block", "Preferred", "Preferred"]

    # The block's provider declines; both Preferred providers offer.
    block_staff = bearer(provider_user(world["block"].provider))
    (block_invitation,) = client.get("/api/v1/invitations", headers=block_staff).get_json()["items"]
    assert block_invitation["referral"]["childId"] is None  # never before acceptance
    declined = client.post(
        f"/api/v1/invitations/{block_invitation['id']}/decline",
        json={"reason": "Cannot meet needs"},
        headers=block_staff,
    )
    assert declined.get_json()["status"] == "declined"
    offers = {}
    for name, core in (("One", 420000), ("Two", 380000)):
        home = world["homes"][name]
        staff = bearer(provider_user(home.provider))
        (invitation,) = client.get("/api/v1/invitations", headers=staff).get_json()["items"]
        body = {
            "homeUrn": home.urn,
            "startDate": (date.today() + timedelta(days=7)).isoformat(),
            "coreWeeklyCostPence": core,
            "educationWeeklyCostPence": 0,
        }
        refused = client.post(f"/api/v1/invitations/{invitation['id']}/offer", json=body, headers=staff)
        if core > 400000:
            assert refused.status_code == 422
            assert "above the framework price of £4,000.00" in refused.get_json()["detail"]
            body["reason"] = "Waking night staff"
            refused = client.post(f"/api/v1/invitations/{invitation['id']}/offer", json=body, headers=staff)
        assert refused.status_code == 201, refused.get_json()
        offers[name] = refused.get_json()
    assert offers["One"]["aboveFrameworkPrice"] is True
    # Views of needs and risks by providers are in the audit log.
    viewed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "view needs and risks")).all()
    assert len(viewed) == 3

    read = client.get(f"/api/v1/referrals/{draft['id']}", headers=referrer).get_json()
    ranked = [(o["homeUrn"], o["qualityPoints"], o["pricePoints"], o["score"]) for o in read["offers"]]
    # One: Outstanding 60 + 40 x 3,800 / 4,200 = 36.190... = 36.2; Two: Good 45 + 40.
    assert ranked == [
        (world["homes"]["One"].urn, 60, 36.2, 96.2),
        (world["homes"]["Two"].urn, 45, 40.0, 85.0),
    ]
    assert read["offers"][0]["distanceMiles"] == 0.0 and read["offers"][0]["within20Miles"] is True
    accepted = client.post(f"/api/v1/offers/{read['offers'][0]['id']}/accept", json={}, headers=referrer)
    assert accepted.status_code == 201, accepted.get_json()
    placement = db.session.get(Placement, accepted.get_json()["id"])
    assert (placement.contract.ref, placement.fees[0].weekly_pence, placement.child_ref) == (
        "EM-FW",
        420000,
        "NOT-7001",
    )
    again = client.post(f"/api/v1/offers/{read['offers'][1]['id']}/accept", json={}, headers=referrer)
    assert again.status_code == 422 and "already placed" in again.get_json()["detail"]


def test_refusals_carry_the_standards_names(client, world):
    referrer = bearer(partner(world["nottingham"]))
    missing = client.post("/api/v1/referrals", json={"childId": "X"}, headers=referrer)
    assert missing.status_code == 422
    named = {e["pointer"] for e in missing.get_json()["errors"]}
    assert {"/ageInYears", "/neededBy", "/riskSelfHarm", "/residentialCareSuitability"} <= named
    wrong = client.post("/api/v1/referrals", json=referral_body(riskSelfHarm="Maybe"), headers=referrer)
    assert wrong.status_code == 422
    past = client.post(
        "/api/v1/referrals",
        json=referral_body(neededBy=(date.today() - timedelta(days=1)).isoformat()),
        headers=referrer,
    ).get_json()
    refused = client.post(f"/api/v1/referrals/{past['id']}/open", headers=referrer)
    assert refused.status_code == 422 and "or later" in refused.get_json()["detail"]
    none_suits = client.post(
        "/api/v1/referrals", json=referral_body(residentialCareSuitability="Unsuitable"), headers=referrer
    ).get_json()
    refused = client.post(f"/api/v1/referrals/{none_suits['id']}/open", headers=referrer)
    assert "at least one must be suitable" in refused.get_json()["detail"]


def test_another_authority_cannot_see_or_act_on_a_referral(client, world):
    ours = client.post(
        "/api/v1/referrals", json=referral_body(), headers=bearer(partner(world["nottingham"]))
    ).get_json()
    other = bearer(partner())
    assert client.get(f"/api/v1/referrals/{ours['id']}", headers=other).status_code == 404
    assert client.post(f"/api/v1/referrals/{ours['id']}/open", headers=other).status_code == 404
    stranger = bearer(provider_user())
    assert client.get("/api/v1/invitations", headers=stranger).get_json()["items"] == []
