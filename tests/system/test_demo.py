"""`flask demo seed`: the East Midlands consortium and a sign-in for each role."""

import io
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from audits.models import Flag, JobRun
from consortium.core.extensions import db
from consortium.core.models import Authority, Consortium, Membership, User
from consortium.demo import DEMO_PASSWORD, EAST_MIDLANDS
from consortium.recharges.models import CostPool, Statement
from contracts import usage
from contracts.models import Contract, MonitoringReturn, Placement
from providers.models import Home


def counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Authority, Consortium, Membership, User)
    )


def test_seed_twice_builds_the_demo_once_and_every_account_signs_in(app, runner):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    for email in ("admin@demo.test", "lead@demo.test", "partner@demo.test", "provider@demo.test", "cofunder@demo.test"):
        assert email in first.output
    assert DEMO_PASSWORD in first.output
    after_first = counts()
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0, second.output
    assert counts() == after_first == (10, 1, 10, 5)
    assert db.session.scalar(select(func.count()).select_from(Home)) == 32
    drops = {flag.subject: flag for flag in db.session.scalars(select(Flag).where(Flag.kind == "quality_drop"))}
    assert drops["SC910001"].judgement_after == "Requires improvement to be good"  # a Good home that fell to RI
    assert drops["SC910005"].severity == "high"  # the Inadequate one
    assert db.session.scalar(select(Home).where(Home.urn == "SC910004")).inspections == []  # not yet inspected

    consortium = db.session.scalar(select(Consortium))
    assert consortium.lead.name == "West Northamptonshire"
    assert {m.authority_code for m in consortium.memberships} == {code for code, *_ in EAST_MIDLANDS}
    assert db.session.scalar(select(User).where(User.email == "partner@demo.test")).authority.name == "Nottingham"

    for email, heading in [
        ("admin@demo.test", "Administration"),
        ("lead@demo.test", consortium.name),
        ("partner@demo.test", "Nottingham"),
        ("provider@demo.test", "Oakleaf Children"),
    ]:
        client = app.test_client()
        response = client.post("/sign-in", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        home = client.get("/").get_data(as_text=True)
        assert heading in home
        assert "Quality of homes" in home and "Newest open flags" in home
    by_type = dict(
        db.session.execute(select(Placement.placement_type, func.count()).group_by(Placement.placement_type)).all()
    )
    short_stays = by_type.pop("short_breaks")
    assert 150 <= sum(by_type.values()) <= 250
    assert 300 <= short_stays <= 600  # ten children's stays of two to four nights every ten days or two weeks
    flagged = {flag.kind for flag in db.session.scalars(select(Flag))}
    assert flagged == {
        "quality_drop",
        "home_in_use_concern",
        "underused_block_beds",
        "contract_expiring",
        "kpi_red",
        "overdue_return",
        "block_void_while_spot",  # a spot purchase today while a bed of EM-BLOCK-RES stood empty
        "high_cost_review_due",  # a solo placement at £8,350 a week, not reviewed in its 7 months
    }
    statuses = dict(
        db.session.execute(select(MonitoringReturn.status, func.count()).group_by(MonitoringReturn.status)).all()
    )
    assert statuses["returned"] == 1 and statuses["accepted"] > 40 and statuses["submitted"] >= 1
    demo_lead = db.session.scalar(select(User).where(User.email == "lead@demo.test"))
    statuses = {
        flag.subject: flag.seen_status(demo_lead)
        for flag in db.session.scalars(select(Flag).where(Flag.kind == "quality_drop"))
    }
    assert statuses["SC910001"] == "acknowledged" and statuses["SC910002"] == "resolved"
    assert db.session.scalar(select(JobRun.status).where(JobRun.job == "checks")) == "succeeded"
    pools = {pool.basis: pool for pool in db.session.scalars(select(CostPool))}
    assert set(pools) == {"placements", "bed_nights", "shares"} and len(db.session.scalars(select(CostPool)).all()) == 4
    issued = db.session.scalars(select(Statement).where(Statement.status != "draft")).all()
    members = [s for s in issued if s.pool is not None and s.pool.basis == "placements"]
    assert len(members) == 10 and sum(s.status == "paid" for s in members) == 1
    assert sum(s.amount_pence for s in members) == 18_600_000
    # Short breaks this quarter: 4 beds x 92 nights x £310 = £114,080, shared 50/25/25.
    assert pools["shares"].amount_pence == 11_408_000
    shared = sorted(s.amount_pence for s in issued if s.pool_id == pools["shares"].id)
    assert shared == [2_852_000, 2_852_000, 5_704_000]
    # The SEND budget's £450 a week over July to September's 92 nights: £5,914.285... rounds once.
    contributions = {s.cofunder.ref: s.amount_pence for s in issued if s.pool_id is None}
    assert contributions["NOTTM-SEND"] == 591_429 and set(contributions) == {"NOTTM-SEND", "NHS-NOTTS-ICB"}
    provider_client = app.test_client()
    provider_client.post("/sign-in", data={"email": "provider@demo.test", "password": DEMO_PASSWORD})
    homes = provider_client.get("/homes").get_data(as_text=True)
    assert "Willow House" in homes and "Larkspur Cottage" not in homes


def test_the_block_contract_shows_its_monthly_occupancy_with_last_months_dip(app, runner):
    runner.invoke(args=["demo", "seed"])
    block = db.session.scalar(select(Contract).where(Contract.ref == "EM-BLOCK-RES"))
    today = date.today()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    months = {m.first: m for m in usage.monthly_occupancy(block, block.start_date, today - timedelta(days=1))}
    assert months[last_month].average_occupied_beds <= Decimal("6.5")
    # Two beds stood empty from the start of last month until ten days ago.
    earlier = [
        m.average_occupied_beds
        for first, m in months.items()
        if first not in (block.start_date, last_month, today.replace(day=1))
    ]
    assert all(Decimal("7.0") <= beds <= Decimal("8.0") for beds in earlier), earlier
    client = app.test_client()
    client.post("/sign-in", data={"email": "lead@demo.test", "password": DEMO_PASSWORD})
    page = client.get(f"/contracts/{block.id}").get_data(as_text=True)
    assert last_month.strftime("%B %Y") in page and "Average occupied beds" in page and "<svg" in page
    assert f"{months[last_month].average_occupied_beds}" in page


def test_the_demo_provider_uploads_a_return_and_the_lead_accepts_it(app, runner):
    runner.invoke(args=["demo", "seed"])
    block = db.session.scalar(select(Contract).where(Contract.ref == "EM-BLOCK-RES"))
    provider = app.test_client()
    provider.post("/sign-in", data={"email": "provider@demo.test", "password": DEMO_PASSWORD})
    overdue = [
        line
        for line in provider.get("/returns?status=overdue").get_data(as_text=True).splitlines()
        if "/contracts/" in line and "/returns/" in line
    ]
    assert overdue, "the demo has an overdue return"
    path = overdue[0].split('href="')[1].split('"')[0]
    template = provider.get(f"{path}/template.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    codes = [line.split(",")[0] for line in template[1:]]
    filled = "indicator_code,value,comment\n" + "".join(
        f"{code},{1 if code in ('MFC', 'UNPLANNED', 'NOTIFIABLE', 'COMPLAINTS') else 95},\n" for code in codes
    )
    response = provider.post(
        f"{path}/upload", data={"file": (io.BytesIO(filled.encode()), "return.csv")}, content_type="multipart/form-data"
    )
    assert "Check your" in provider.get(response.location).get_data(as_text=True)
    draft = db.session.scalar(
        select(MonitoringReturn).where(MonitoringReturn.contract_id == block.id, MonitoringReturn.status == "draft")
    )
    response = provider.post(response.location, data={"version": draft.version})
    assert "Return submitted" in provider.get(response.location).get_data(as_text=True)
    submitted = db.session.scalar(
        select(MonitoringReturn).where(MonitoringReturn.contract_id == block.id, MonitoringReturn.status == "submitted")
    )
    lead_client = app.test_client()
    lead_client.post("/sign-in", data={"email": "lead@demo.test", "password": DEMO_PASSWORD})
    db.session.refresh(submitted)  # the same row as the draft above, submitted since
    lead_client.post(f"/returns/{submitted.id}/review", data={"decision": "accept", "version": submitted.version})
    db.session.refresh(submitted)
    assert submitted.status == "accepted"
    assert submitted.period in lead_client.get(f"/contracts/{block.id}/returns").get_data(as_text=True)
