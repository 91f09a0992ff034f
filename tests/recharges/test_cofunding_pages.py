"""Co-funding through the pages and the API: a partner adds contributions (and is refused with the
GOV.UK error pattern), a lead sets funding shares and issues a quarter's statement, and a
co-funder's staff see and download only what their organisation funds."""

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from consortium.core import tokens
from consortium.core.extensions import db
from consortium.core.models import Cofunder
from consortium.recharges import contributions
from consortium.recharges.models import Statement
from contracts import cofunding
from contracts.models import Contribution, FundingShare
from tests.conftest import sign_in
from tests.contracts.test_cofunding import Q1, world  # noqa: F401  (the fixture)
from tests.factories import CofunderFactory, ContractFactory, cofunder_user, lead, partner

AFTER_Q1 = date(2026, 7, 2)


def _form_date(prefix: str, day: date) -> dict:
    return {prefix: [str(day.day), str(day.month), str(day.year)]}


def test_a_partner_adds_a_contribution_and_an_over_the_fee_one_is_refused_on_its_field(client, world):  # noqa: F811
    w = world
    sign_in(client, partner(w["one"].authority))
    url = f"/placements/{w['one'].id}/contributions/new"
    assert "NHS Nottingham and Nottinghamshire ICB" in client.get(url).get_data(as_text=True)
    data = {"cofunder": w["icb"].id, "share": "percent", "percent": "25", **_form_date("first_night", date(2026, 4, 1))}
    assert client.post(url, data=data).status_code == 302
    page = client.get(f"/placements/{w['one'].id}").get_data(as_text=True)
    assert "25% of the fee" in page and "Nottingham pays the rest of the fee" in page

    too_much = {**data, "cofunder": w["send"].id, "share": "weekly", "weekly": "2625.01"}
    refused = client.post(url, data=too_much).get_data(as_text=True)
    assert "govuk-error-summary" in refused and 'href="#weekly"' in refused
    assert "£3,500.01 a week, more than the fee of £3,500.00" in refused
    missing = client.post(url, data={**data, "cofunder": w["send"].id, "percent": ""}).get_data(as_text=True)
    assert "Enter the percentage" in missing
    assert db.session.scalar(select(Contribution.id).where(Contribution.cofunder_id == w["send"].id)) is None


def test_a_lead_sets_funding_shares_and_a_total_not_100_is_refused(client, world):  # noqa: F811
    w = world
    block = ContractFactory(consortium=w["consortium"], start_date=date(2026, 4, 1))
    sign_in(client, lead(w["consortium"]))
    url = f"/contracts/{block.id}/funding-shares"
    form = {**_form_date("effective_from", date(2026, 4, 1)), "a_E06000018": "50", f"c_{w['icb'].id}": "40"}
    refused = client.post(url, data=form).get_data(as_text=True)
    assert "govuk-error-summary" in refused and "The shares add up to 90%, not 100%" in refused
    assert client.post(url, data={**form, f"c_{w['send'].id}": "10"}).status_code == 302
    assert sorted(s.basis_points for s in db.session.scalars(select(FundingShare))) == [1000, 4000, 5000]
    page = client.get(f"/contracts/{block.id}").get_data(as_text=True)
    assert "Funding shares" in page and "40%" in page


def test_a_lead_issues_a_quarter_and_the_co_funder_downloads_only_its_own(client, world):  # noqa: F811
    w = world
    cofunding.add_contribution(w["one"], w["icb"], date(2026, 4, 1), percent=Decimal("25"))
    cofunding.add_contribution(w["two"], w["send"], date(2026, 5, 10), weekly_pence=70_000)
    # The SEND budget's quarter is issued by the service; the ICB's through the lead's page.
    send_statement = contributions.issue_contributions(w["consortium"], w["send"], Q1[0], AFTER_Q1)
    officer = lead(w["consortium"])
    sign_in(client, officer)
    overview = client.get("/recharges/contributions").get_data(as_text=True)
    assert "2026-Q1" in overview and "£11,375.00" in overview and send_statement.number in overview
    issued = client.post(f"/recharges/contributions/{w['icb'].id}/2026-Q1")
    assert issued.status_code == 302
    statement = db.session.scalar(select(Statement).where(Statement.cofunder_id == w["icb"].id))
    assert (statement.amount_pence, statement.first_day) == (1_137_500, Q1[0])
    again = client.post(f"/recharges/contributions/{w['icb'].id}/2026-Q1", follow_redirects=True)
    assert "credit it first to issue it again" in again.get_data(as_text=True)
    assert client.post(f"/recharges/contributions/{w['icb'].id}/2026-Q9").status_code == 404

    staff = cofunder_user(w["icb"])
    sign_in(client, staff)
    funding = client.get("/funding").get_data(as_text=True)
    assert statement.number in funding and "CH-1" in funding
    assert "CH-2" not in funding and send_statement.number not in funding  # the SEND budget's
    page = client.get(f"/statements/{statement.id}").get_data(as_text=True)
    assert "Contributions statement" in page and "£11,375.00" in page
    assert client.get(f"/statements/{statement.id}.pdf").mimetype == "application/pdf"
    lines = client.get(f"/statements/{statement.id}/lines.csv").get_data(as_text=True)
    assert lines.splitlines()[1] == f"{statement.number},NHS-NOTTS-ICB,E06000018,CH-1,91,11375.00"
    for url in (
        f"/statements/{send_statement.id}",
        f"/statements/{send_statement.id}.pdf",
        f"/statements/{send_statement.id}/lines.csv",
    ):
        assert client.get(url).status_code == 404, url
    # Nothing else of the service: placements, contracts, the register, the dashboards.
    for url in (f"/placements/{w['one'].id}", "/placements", "/contracts", "/providers", "/dashboard", "/flags"):
        assert client.get(url).status_code == 403, url

    token = tokens.create(staff, "Finance system", "read")[1]
    listed = client.get("/api/v1/statements", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [(s["number"], s["cofunderRef"], s["amount"]["pence"]) for s in listed["items"]] == [
        (statement.number, "NHS-NOTTS-ICB", 1_137_500)
    ]
    other = client.get(f"/api/v1/statements/{send_statement.id}", headers={"Authorization": f"Bearer {token}"})
    assert other.status_code == 404


def test_leads_add_their_co_funders_and_change_only_their_own(client, world):  # noqa: F811
    w = world
    sign_in(client, lead(w["consortium"]))
    form = {"ref": "nhs-devon-icb", "name": "NHS Devon ICB", "kind": "health"}
    assert client.post("/cofunders/new", data=form).status_code == 302
    devon = db.session.scalar(select(Cofunder).where(Cofunder.ref == "NHS-DEVON-ICB"))
    assert devon.consortium_id == w["consortium"].id
    again = client.post("/cofunders/new", data=form).get_data(as_text=True)
    assert "There is already a co-funder NHS-DEVON-ICB" in again
    bad = client.post("/cofunders/new", data={"ref": "X", "name": "", "kind": "charity"}).get_data(as_text=True)
    assert "govuk-error-summary" in bad
    assert (
        client.post(
            f"/cofunders/{devon.id}", data={"name": "NHS Devon Integrated Care Board", "kind": "health"}
        ).status_code
        == 302
    )
    elsewhere = CofunderFactory(consortium_id=ContractFactory().consortium_id)
    assert client.get(f"/cofunders/{elsewhere.id}").status_code == 404
    listed = client.get("/cofunders").get_data(as_text=True)
    assert "NHS Devon Integrated Care Board" in listed and elsewhere.name not in listed


def test_the_api_adds_contributions_and_refuses_in_the_forms_words(client, world):  # noqa: F811
    w = world
    token = tokens.create(partner(w["one"].authority), "Case system", "write")[1]
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/placements/{w['one'].id}/contributions"
    body = {"cofunderRef": "nhs-notts-icb", "percent": "25", "firstNight": "2026-04-01"}
    made = client.post(url, json=body, headers=auth)
    assert made.status_code == 201
    assert [(c["cofunderRef"], c["percent"], c["lastNight"]) for c in made.get_json()["items"]] == [
        ("NHS-NOTTS-ICB", "25", None)
    ]
    over = client.post(url, json={**body, "cofunderRef": "NOTTS-SEND", "percent": "80"}, headers=auth)
    assert over.status_code == 422 and over.mimetype == "application/problem+json"
    assert "£3,675.00 a week, more than the fee of £3,500.00" in over.get_json()["detail"]
    assert [e["pointer"] for e in over.get_json()["errors"]] == ["/percent"]
    early = client.post(url, json={**body, "cofunderRef": "NOTTS-SEND", "firstNight": "2020-01-01"}, headers=auth)
    assert early.status_code == 422 and [e["pointer"] for e in early.get_json()["errors"]] == ["/firstNight"]
    unknown = client.post(url, json={**body, "cofunderRef": "NOBODY"}, headers=auth)
    assert unknown.status_code == 422 and unknown.get_json()["detail"] == "There is no co-funder NOBODY"
    assert len(client.get(url, headers=auth).get_json()["items"]) == 1
