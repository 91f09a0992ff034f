"""Recharges through the pages: a lead's statement run, a partner's usage and statements."""

import re
from datetime import date

from sqlalchemy import select

from consortium.core.extensions import db
from consortium.recharges.models import CostPool, Statement
from tests.conftest import sign_in
from tests.factories import lead, partner, provider_user
from tests.recharges.test_recharges import consortium, issued_pool  # noqa: F401  (the fixture and helper are shared)


def fingerprint_of(client, pool) -> str:
    """The check page's fingerprint of the figures it shows."""
    page = client.get(f"/recharges/{pool.id}/issue").get_data(as_text=True)
    return re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]+)"', page).group(1)


def test_a_lead_creates_a_pool_drafts_issues_and_records_payment(client, consortium):  # noqa: F811
    sign_in(client, lead(consortium))
    response = client.post(
        "/recharges/new",
        data={
            "name": "Contract management 2024-25",
            "first_day": ["1", "4", "2024"],
            "last_day": ["31", "3", "2025"],
            "amount": "12000",
            "basis": "placements",
            "base_percent": "50",
        },
    )
    assert response.status_code == 302
    pool = db.session.scalar(select(CostPool))
    page = client.get(f"/recharges/{pool.id}").get_data(as_text=True)
    assert "What each member would pay" in page and "£5,448.10" in page and "£12,000.00" in page
    client.post(f"/recharges/{pool.id}/draft")
    client.post(f"/recharges/{pool.id}/issue", data={"fingerprint": fingerprint_of(client, pool)})
    page = client.get(f"/recharges/{pool.id}").get_data(as_text=True)
    assert "EMRF-" in page and "Issued" in page
    again = client.post(f"/recharges/{pool.id}/issue")
    assert "Nothing to issue" in client.get(again.location).get_data(as_text=True)
    statement = db.session.scalars(select(Statement).order_by(Statement.number)).first()
    early = client.post(
        f"/statements/{statement.id}/paid", data={"paid_on": ["1", "5", "2025"], "version": statement.version}
    )
    assert "cannot be paid before it was issued" in client.get(early.location).get_data(as_text=True)
    today = date.today()
    client.post(
        f"/statements/{statement.id}/paid",
        data={"paid_on": [str(today.day), str(today.month), str(today.year)], "version": statement.version},
    )
    db.session.refresh(statement)
    assert statement.status == "paid"
    csv_text = client.get(f"/recharges/{pool.id}/statements.csv").get_data(as_text=True)
    assert statement.number in csv_text and "5448.10" in csv_text
    bad = client.post(
        "/recharges/new",
        data={
            "name": "Nothing",
            "first_day": ["1", "4", "2024"],
            "last_day": ["31", "3", "2025"],
            "amount": "0",
            "basis": "equal",
        },
    )
    assert bad.status_code == 400 and "The amount must be above zero" in bad.get_data(as_text=True)


def test_a_partner_downloads_their_own_statement_but_not_another_members(client, consortium):  # noqa: F811
    pool = issued_pool(consortium)
    own, other = (next(s for s in pool.statements if s.authority_code == code) for code in ("E06000018", "E06000016"))
    nottingham = own.authority
    sign_in(client, partner(nottingham))
    response = client.get(f"/statements/{own.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    assert client.get(f"/statements/{other.id}.pdf").status_code == 404
    assert client.get(f"/statements/{other.id}").status_code == 404
    page = client.get("/usage").get_data(as_text=True)
    assert own.number in page and other.number not in page
    assert "Your placements started" in page and "Consortium" in page
    assert client.get(f"/recharges/{pool.id}").status_code == 403
    assert client.post(f"/statements/{own.id}/paid", data={"paid_on": ["1", "5", "2025"]}).status_code == 403


def test_drafts_are_not_shown_to_partners_and_other_tenants_see_nothing(client, consortium):  # noqa: F811
    from consortium.recharges import services

    pool = services.create_pool(consortium, "Draft pool", date(2024, 4, 1), date(2025, 3, 31), 1000, "equal")
    services.draft_statements(pool)
    draft = pool.statements[0]
    sign_in(client, partner(draft.authority))
    assert client.get(f"/statements/{draft.id}.pdf").status_code == 404
    sign_in(client, lead())
    assert client.get(f"/recharges/{pool.id}").status_code == 404
    assert client.get(f"/statements/{draft.id}.pdf").status_code == 404
    sign_in(client, provider_user())
    assert client.get("/usage").status_code == 403
    assert client.get(f"/statements/{draft.id}").status_code == 403


def test_a_credit_note_through_the_pages(client, consortium):  # noqa: F811
    pool = issued_pool(consortium)
    wrong = pool.statements[1]
    sign_in(client, lead(consortium))
    missing = client.post(f"/statements/{wrong.id}/credit", data={"reason": ""})
    assert missing.status_code == 400
    check = client.post(f"/statements/{wrong.id}/credit", data={"reason": "Miscounted", "corrected_amount": "2500"})
    page = check.get_data(as_text=True)
    assert check.status_code == 200 and "Issue the credit note" in page and "£2,500.00" in page
    assert db.session.scalars(select(Statement).where(Statement.credit_for_id == wrong.id)).all() == []  # asked first
    response = client.post(
        f"/statements/{wrong.id}/credit", data={"reason": "Miscounted", "corrected_amount": "2500", "confirmed": "yes"}
    )
    assert response.status_code == 302
    notes = db.session.scalars(select(Statement).where(Statement.credit_for_id == wrong.id)).all()
    assert [(n.amount_pence, n.status) for n in notes] == [(-wrong.amount_pence, "issued")]


def test_the_issue_step_shows_figures_worked_out_afresh_and_issues_nothing_if_they_changed(client, consortium):  # noqa: F811
    from consortium.recharges import services
    from contracts.models import Contract
    from tests.factories import PlacementFactory

    pool = services.create_pool(
        consortium, "Contract management 2024-25", date(2024, 4, 1), date(2025, 3, 31), 1_200_000, "placements"
    )
    services.draft_statements(pool)
    sign_in(client, lead(consortium))
    checked = fingerprint_of(client, pool)
    page = client.get(f"/recharges/{pool.id}/issue").get_data(as_text=True)
    assert "Check the statements before you issue them" in page and "0 of 5" in page  # Nottingham, as drafted
    # A partner records a late placement after the drafts were made: the figures are no longer those checked.
    contract = db.session.scalar(select(Contract).where(Contract.consortium_id == consortium.id))
    nottingham = db.session.get(type(consortium.lead), "E06000018")
    PlacementFactory(
        contract=contract, authority=nottingham, home=None, start_date=date(2025, 3, 1), end_date=date(2025, 3, 5)
    )
    db.session.commit()
    stale = client.post(f"/recharges/{pool.id}/issue", data={"fingerprint": checked})
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "nothing was issued" in page and "1 of 6" in page and "Error: " in page
    assert db.session.scalar(select(Statement).where(Statement.status != "draft")) is None
    done = client.post(f"/recharges/{pool.id}/issue", data={"fingerprint": fingerprint_of(client, pool)})
    assert done.status_code == 302
    issued = {s.authority_code: s for s in db.session.scalars(select(Statement).where(Statement.pool_id == pool.id))}
    assert (
        issued["E06000018"].usage == 1
        and issued["E06000018"].consortium_usage == 6
        and issued["E06000018"].amount_pence == 200000
    )
    assert (
        all(s.status == "issued" for s in issued.values()) and sum(s.amount_pence for s in issued.values()) == 1_200_000
    )
    assert (
        client.post(f"/recharges/{pool.id}/issue", data={"fingerprint": checked}).status_code == 302
    )  # nothing left to issue


def test_a_pool_shared_by_usage_is_issued_only_once_its_period_has_ended(client, consortium):  # noqa: F811
    from datetime import timedelta

    from consortium.recharges import services

    today = date.today()
    pool = services.create_pool(
        consortium, "This year", date(2025, 4, 1), today + timedelta(days=30), 1_200_000, "placements", 50
    )
    sign_in(client, lead(consortium))
    waiting = f"Usage can still change until {(today + timedelta(days=30)):%-d %b %Y}; statements can be issued from "
    assert waiting in client.get(f"/recharges/{pool.id}").get_data(as_text=True)
    page = client.get(f"/recharges/{pool.id}/issue").get_data(as_text=True)
    assert waiting in page and 'name="fingerprint"' not in page
    refused = client.post(f"/recharges/{pool.id}/issue", data={"fingerprint": "0" * 32}, follow_redirects=True)
    assert waiting in refused.get_data(as_text=True)
    assert db.session.scalar(select(Statement).where(Statement.status != "draft")) is None
    # Equal shares do not wait for usage.
    equal = services.create_pool(consortium, "Equal", date(2025, 4, 1), today + timedelta(days=30), 400_000, "equal")
    assert (
        client.post(f"/recharges/{equal.id}/issue", data={"fingerprint": fingerprint_of(client, equal)}).status_code
        == 302
    )
    assert {s.status for s in db.session.scalars(select(Statement).where(Statement.pool_id == equal.id))} == {"issued"}


def test_a_fall_back_to_equal_shares_is_said_on_the_pool_the_statements_their_pdf_and_the_csv(client, consortium):  # noqa: F811
    from html import unescape

    from consortium.recharges import services
    from tests.conftest import pdf_text

    pool = services.create_pool(consortium, "Quiet quarter", date(2024, 4, 1), date(2024, 6, 30), 3000, "bed_nights")
    sign_in(client, lead(consortium))
    said = (
        "No member used a bed-night under the consortium's contracts from 1 Apr 2024 to 30 Jun 2024, "
        "so the cost is shared equally."
    )
    assert said in unescape(client.get(f"/recharges/{pool.id}").get_data(as_text=True))
    client.post(f"/recharges/{pool.id}/issue", data={"fingerprint": fingerprint_of(client, pool)})
    assert said in unescape(client.get(f"/recharges/{pool.id}").get_data(as_text=True))
    statement = db.session.scalar(select(Statement).where(Statement.pool_id == pool.id))
    assert said in unescape(client.get(f"/statements/{statement.id}").get_data(as_text=True))
    assert "shared equally" in " ".join(pdf_text(client.get(f"/statements/{statement.id}.pdf").data).split())
    assert said in client.get(f"/recharges/{pool.id}/statements.csv").get_data(as_text=True)
