"""The placements API: what a partner does on the pages, with a token, and the same refusals."""

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from consortium.core import api, tokens
from consortium.core.audit import AuditEvent
from consortium.core.extensions import db
from contracts.models import Placement
from tests.factories import (
    AdmissionFactory,
    AuthorityFactory,
    BlockPriceFactory,
    ConsortiumFactory,
    ContractFactory,
    HomeFactory,
    LotFactory,
    PlacementFactory,
    PriceFactory,
    ProviderFactory,
    lead,
    partner,
    provider_user,
)

TODAY = date.today()


@pytest.fixture
def world():
    """Derby leads, Nottingham is a member; a 2-bed block with one child in it, and a framework."""
    derby, nottingham = AuthorityFactory(code="E06000015"), AuthorityFactory(code="E06000018")
    ours = ConsortiumFactory(ref="EMRF", lead=derby, members=[nottingham])
    oak = ProviderFactory(name="Oak Ltd")
    home_a, home_b = HomeFactory(urn="SC100001", provider=oak), HomeFactory(urn="SC100002", provider=oak)
    block = ContractFactory(
        ref="BLOCK",
        consortium=ours,
        provider=oak,
        beds=2,
        start_date=TODAY - timedelta(days=400),
        end_date=TODAY + timedelta(days=800),
        max_end_date=TODAY + timedelta(days=1500),
    )
    block.homes.extend([home_a, home_b])
    BlockPriceFactory(contract=block, weekly_pence=350000, effective_from=block.start_date)
    framework = ContractFactory(ref="FW", kind="framework", consortium=ours, start_date=TODAY - timedelta(days=700))
    admission = AdmissionFactory(lot=LotFactory(contract=framework, name="Residential"), provider=oak)
    PriceFactory(admission=admission, weekly_pence=400000, effective_from=framework.start_date)
    mine = PlacementFactory(
        authority=nottingham, child_ref="NOT-1", contract=block, home=home_a, start_date=TODAY - timedelta(days=30)
    )
    derbys = PlacementFactory(authority=derby, child_ref="DER-1", contract=None, home=home_b)
    officer = partner(nottingham)
    return {"block": block, "mine": mine, "derbys": derbys, "officer": officer, "ours": ours, "home_b": home_b}


def bearer(user, scope="write") -> dict:
    _, secret = tokens.create(user, "Mosaic", scope)
    return {"Authorization": f"Bearer {secret}"}


def spot(**changes) -> dict:
    body = {
        "childRef": "NOT-2",
        "contractRef": None,
        "homeUrn": "SC100002",
        "startDate": (TODAY - timedelta(days=3)).isoformat(),
        "weeklyFeePence": 450000,
        "placementType": "residential",
        "distanceMiles": 12.5,
        "ageAtStart": 14,
    }
    return {**body, **changes}


def test_a_partner_records_lists_reads_and_ends_a_placement_with_a_token(client, world):
    auth = bearer(world["officer"])
    made = client.post("/api/v1/placements", json=spot(), headers=auth)
    assert made.status_code == 201, made.get_json()
    placement = made.get_json()
    assert placement["authorityCode"] == "E06000018" and placement["childRef"] == "NOT-2"
    assert placement["weeklyFeePence"] == 450000 and placement["weeklyFee"] == {
        "pence": 450000,
        "formatted": "£4,500.00",
    }
    assert made.headers["Location"].endswith(f"/api/v1/placements/{placement['id']}")
    assert made.headers["ETag"] == '"1"'

    listed = client.get("/api/v1/placements?limit=1", headers=auth).get_json()
    assert [p["childRef"] for p in listed["items"]] == ["NOT-1"]  # in the order recorded
    following = client.get(listed["next"], headers=auth).get_json()
    assert [p["childRef"] for p in following["items"]] == ["NOT-2"] and following["next"] is None
    assert "DER-1" not in json.dumps(listed) + json.dumps(following)  # another authority's child

    read = client.get(f"/api/v1/placements/{placement['id']}", headers=auth)
    unknown = client.post(
        f"/api/v1/placements/{placement['id']}/end",
        json={"endDate": TODAY.isoformat(), "endReasonCode": "HOME"},
        headers={**auth, "If-Match": read.headers["ETag"]},
    )
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["pointer"] == "/endReasonCode"
    ended = client.post(
        f"/api/v1/placements/{placement['id']}/end",
        json={"endDate": TODAY.isoformat(), "endReasonCode": "E4A", "endReason": "Returned home"},
        headers={**auth, "If-Match": read.headers["ETag"]},
    )
    assert ended.status_code == 200, ended.get_json()
    assert ended.get_json()["endDate"] == TODAY.isoformat() and ended.headers["ETag"] == '"2"'
    assert ended.get_json()["endReasonCode"] == "E4A"
    assert db.session.get(Placement, placement["id"]).end_reason == "Returned home"


def test_a_change_against_an_old_version_is_refused_with_the_current_one(client, world):
    auth = bearer(world["officer"])
    url = f"/api/v1/placements/{world['mine'].id}"
    old = client.get(url, headers=auth).headers["ETag"]
    fee = {"weeklyFeePence": 100, "effectiveFrom": TODAY.isoformat()}
    changed = client.post(url + "/end", json={"endDate": TODAY.isoformat()}, headers={**auth, "If-Match": old})
    assert changed.status_code == 200
    refused = client.post(url + "/end", json={"endDate": TODAY.isoformat()}, headers={**auth, "If-Match": old})
    assert refused.status_code == 412 and refused.mimetype == "application/problem+json"
    assert refused.get_json()["currentVersion"] == 2 and refused.headers["ETag"] == '"2"'
    # A block placement has no fee of its own: the form's words, on the field.
    blocked = client.post(url + "/fees", json=fee, headers=auth).get_json()
    assert blocked["status"] == 422
    assert blocked["errors"] == [
        {"detail": "A block placement costs the block's price: it has no fee of its own", "pointer": "/weeklyFeePence"}
    ]


def test_the_api_refuses_what_the_form_refuses_in_the_same_words(client, world):
    auth = bearer(world["officer"])
    PlacementFactory(authority=AuthorityFactory(), contract=world["block"], start_date=TODAY - timedelta(days=10))
    full = client.post(
        "/api/v1/placements", json=spot(contractRef="BLOCK", homeUrn="SC100001", weeklyFeePence=None), headers=auth
    )
    assert full.status_code == 422
    assert full.get_json()["detail"] == (
        f"BLOCK would have more placements than its 2 beds on the night of {(TODAY - timedelta(days=3)).day} "
        f"{TODAY - timedelta(days=3):%b %Y}"
    )
    twice = client.post("/api/v1/placements", json=spot(childRef="NOT-1"), headers=auth).get_json()
    assert twice["detail"].startswith("Child NOT-1 is already placed from")
    theirs = client.post("/api/v1/placements", json=spot(authorityCode="E06000015"), headers=auth).get_json()
    assert theirs["errors"] == [{"detail": "You can record placements for E06000018 only", "pointer": "/authorityCode"}]
    assert db.session.scalar(select(func.count()).select_from(Placement)) == 3  # nothing was recorded


@pytest.mark.parametrize(
    "body, detail, pointer",
    [
        ('{"childRef": "A",', "The body is not valid JSON", ""),
        (json.dumps(spot(weeklyFeePence="4500")), "weeklyFeePence: Input should be a valid integer", "/weeklyFeePence"),
        (json.dumps(spot(weeklyFeePence=1.5)), "weeklyFeePence: Input should be a valid integer", "/weeklyFeePence"),
        (json.dumps(spot(colour="blue")), "colour is not a field of this request", "/colour"),
        (json.dumps({k: v for k, v in spot().items() if k != "childRef"}), "childRef is required", "/childRef"),
        (json.dumps(spot(startDate="1899-01-01")), "startDate: Input should be greater than or equal to", "/startDate"),
        (json.dumps(spot(weeklyFeePence=10**12)), "weeklyFeePence: Input should be less than or equal to", None),
        (json.dumps(spot(placementType="castle")), "placementType: Input should be", "/placementType"),
    ],
)
def test_bad_input_is_named_and_nothing_is_written(client, world, body, detail, pointer):
    response = client.post(
        "/api/v1/placements", data=body, content_type="application/json", headers=bearer(world["officer"])
    )
    problem = response.get_json()
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert problem["errors"][0]["detail"].startswith(detail), problem
    if pointer is not None:
        assert problem["errors"][0]["pointer"] == pointer
    assert db.session.scalar(select(func.count()).select_from(Placement)) == 2


def test_the_wrong_kind_of_request_is_refused(client, world):
    auth = bearer(world["officer"])
    assert client.post("/api/v1/placements", data="x=1", headers=auth).status_code == 415
    huge = client.post(
        "/api/v1/placements", data=b"[" + b" " * (2 * 1024 * 1024) + b"]", content_type="application/json", headers=auth
    )
    assert huge.status_code == 413 and huge.mimetype == "application/problem+json"
    assert client.get("/api/v1/placements?cursor=!!", headers=auth).status_code == 400
    assert client.get("/api/v1/placements?limit=100000", headers=auth).status_code == 422
    assert client.delete("/api/v1/placements", headers=auth).status_code == 405


def test_tokens_that_do_not_work(client, world):
    officer = world["officer"]
    token, secret = tokens.create(officer, "Old", "write")
    assert client.get("/api/v1/placements").status_code == 401
    assert client.get("/api/v1/placements", headers={"Authorization": "Bearer mpc_wrong"}).status_code == 401
    assert client.get(f"/api/v1/placements?token={secret}").status_code == 400  # never in the address
    assert client.get("/api/v1/placements", headers={"Authorization": f"Basic {secret}"}).status_code == 401
    tokens.revoke(token)
    assert client.get("/api/v1/placements", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    expired, late = tokens.create(officer, "Expired", "write")
    expired.expires_at = expired.created_at - timedelta(seconds=1)
    db.session.flush()
    assert client.get("/api/v1/placements", headers={"Authorization": f"Bearer {late}"}).status_code == 401
    _, alive = tokens.create(officer, "Alive", "write")
    officer.active = False
    db.session.flush()
    refused = client.get("/api/v1/placements", headers={"Authorization": f"Bearer {alive}"})
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_read_token_cannot_write_and_a_session_cookie_is_no_token(client, world):
    from tests.conftest import sign_in

    read = bearer(world["officer"], "read")
    assert client.get("/api/v1/placements", headers=read).status_code == 200
    refused = client.post("/api/v1/placements", json=spot(), headers=read)
    assert refused.status_code == 403 and refused.get_json()["title"] == "This token can only read"
    assert db.session.scalar(select(AuditEvent.after).where(AuditEvent.action == "access refused")) == {
        "path": "/api/v1/placements",
        "method": "POST",
    }
    sign_in(client, world["officer"])
    assert client.get("/api/v1/placements").status_code == 401


def test_roles_and_tenants_as_on_the_pages(client, world):
    other_partner = bearer(partner(AuthorityFactory()))
    assert client.get(f"/api/v1/placements/{world['mine'].id}", headers=other_partner).status_code == 404
    assert client.get("/api/v1/placements", headers=other_partner).get_json()["items"] == []
    assert client.get("/api/v1/placements", headers=bearer(provider_user())).status_code == 403
    the_lead = bearer(lead(world["ours"]))
    assert [p["childRef"] for p in client.get("/api/v1/placements", headers=the_lead).get_json()["items"]] == ["NOT-1"]
    assert client.post("/api/v1/placements", json=spot(), headers=the_lead).status_code == 403  # partners record


def test_the_same_idempotency_key_makes_one_placement(client, world):
    auth = {**bearer(world["officer"]), "Idempotency-Key": "6c8d7f0e-one"}
    first = client.post("/api/v1/placements", json=spot(), headers=auth)
    again = client.post("/api/v1/placements", json=spot(), headers=auth)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert db.session.scalar(select(func.count()).where(Placement.child_ref == "NOT-2")) == 1
    other = client.post("/api/v1/placements", json=spot(childRef="NOT-3"), headers=auth)
    assert other.status_code == 422 and "another body" in other.get_json()["detail"]


def test_every_api_write_is_audited_with_the_tokens_name(client, world):
    client.post("/api/v1/placements", json=spot(), headers=bearer(world["officer"]))
    actors = db.session.scalars(select(AuditEvent.actor).where(AuditEvent.object_type == "Placement")).all()
    assert f"{world['officer'].email} (API token “Mosaic”)" in actors


def test_a_token_is_throttled_per_minute(client, world, monkeypatch):
    monkeypatch.setattr(tokens, "REQUESTS_A_MINUTE", 3)
    now = [datetime(2026, 12, 2, 9, 30, 15, tzinfo=timezone.utc)]
    monkeypatch.setattr(api, "utcnow", lambda: now[0])
    auth = bearer(world["officer"], "read")
    answers = [client.get("/api/v1/placements", headers=auth) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[3].headers["Retry-After"] == "45" and answers[3].mimetype == "application/problem+json"
    now[0] += timedelta(seconds=45)  # the next minute counts afresh
    assert client.get("/api/v1/placements", headers=auth).status_code == 200


def test_contracts_and_a_blocks_occupancy(client, world):
    auth = bearer(world["officer"], "read")
    blocks = client.get("/api/v1/contracts?kind=block", headers=auth).get_json()["items"]
    assert [c["ref"] for c in blocks] == ["BLOCK"]
    assert [home["urn"] for home in blocks[0]["homes"]] == ["SC100001", "SC100002"]
    assert blocks[0]["bedWeekPrices"][0]["weeklyPence"] == 350000 and blocks[0]["beds"] == 2
    frameworks = client.get("/api/v1/contracts?kind=framework", headers=auth).get_json()["items"]
    assert frameworks[0]["lots"][0]["admissions"][0]["prices"][0]["weeklyPence"] == 400000
    first, last = TODAY - timedelta(days=10), TODAY - timedelta(days=1)
    used = client.get(
        f"/api/v1/contracts/{world['block'].id}/occupancy?first={first}&last={last}", headers=auth
    ).get_json()
    # Ten nights of two beds, one child in them every night: half used; the void half costs 10 x £3,500 / 7.
    assert (used["nights"], used["bedNights"], used["occupiedBedNights"], used["voidBedNights"]) == (10, 20, 10, 10)
    assert used["utilisationPercent"] == 50.0 and used["voidCost"] == {"pence": 500000, "formatted": "£5,000.00"}


def test_a_leads_token_needs_the_two_factor_sign_in_their_consortium_requires(client, world):
    the_lead = lead(world["ours"])
    auth = bearer(the_lead, "read")
    assert client.get("/api/v1/placements", headers=auth).status_code == 200
    world["ours"].two_factor_required = True
    db.session.flush()
    refused = client.get("/api/v1/placements", headers=auth)
    assert refused.status_code == 403 and refused.get_json()["title"] == "Set up two-factor sign-in first"


@pytest.mark.parametrize(
    "change",
    [
        {"distanceMiles": "NaN"},
        {"distanceMiles": 1e20},
        {"startDate": "9999-01-01"},
        {"childRef": "NOT\u00002"},
        {"childRef": "N" * 100_000},
        {"feeReason": "x\u0000y"},
        {"needLevel": "x" * 100_000},
        {"ageAtStart": 1e20},
    ],
)
def test_no_value_in_any_field_is_a_500(client, world, change):
    response = client.post("/api/v1/placements", json=spot(**change), headers=bearer(world["officer"]))
    assert 400 <= response.status_code < 500 and response.mimetype == "application/problem+json", response.data[:300]
    assert response.get_json()["detail"]
    assert db.session.scalar(select(func.count()).select_from(Placement)) == 2
