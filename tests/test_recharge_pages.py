"""Recharges through the pages: a lead's statement run, a partner's usage and statements."""

from datetime import date

from sqlalchemy import select

from consortium.extensions import db
from consortium.recharges.models import CostPool, Statement
from tests.conftest import sign_in
from tests.factories import lead, partner, provider_user
from tests.test_recharges import consortium, issued_pool  # noqa: F401  (the fixture and helper are shared)


def test_a_lead_creates_a_pool_drafts_issues_and_records_payment(client, consortium):  # noqa: F811
    sign_in(client, lead(consortium))
    response = client.post("/recharges/new", data={
        "name": "Contract management 2024-25", "first_day": ["1", "4", "2024"], "last_day": ["31", "3", "2025"],
        "amount": "12000", "basis": "placements", "base_percent": "50"})
    assert response.status_code == 302
    pool = db.session.scalar(select(CostPool))
    page = client.get(f"/recharges/{pool.id}").get_data(as_text=True)
    assert "What each member would pay" in page and "£5,448.10" in page and "£12,000.00" in page
    client.post(f"/recharges/{pool.id}/draft")
    client.post(f"/recharges/{pool.id}/issue")
    page = client.get(f"/recharges/{pool.id}").get_data(as_text=True)
    assert "EMRF-" in page and "Issued" in page
    again = client.post(f"/recharges/{pool.id}/issue")
    assert "Nothing to issue" in client.get(again.location).get_data(as_text=True)
    statement = db.session.scalars(select(Statement).order_by(Statement.number)).first()
    early = client.post(f"/statements/{statement.id}/paid", data={"paid_on": ["1", "5", "2025"], "version": statement.version})
    assert "cannot be paid before it was issued" in client.get(early.location).get_data(as_text=True)
    today = date.today()
    client.post(f"/statements/{statement.id}/paid", data={"paid_on": [str(today.day), str(today.month), str(today.year)],
                                                          "version": statement.version})
    db.session.refresh(statement)
    assert statement.status == "paid"
    csv_text = client.get(f"/recharges/{pool.id}/statements.csv").get_data(as_text=True)
    assert statement.number in csv_text and "5448.10" in csv_text
    bad = client.post("/recharges/new", data={"name": "Nothing", "first_day": ["1", "4", "2024"], "last_day": ["31", "3", "2025"],
                                              "amount": "0", "basis": "equal"})
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
    response = client.post(f"/statements/{wrong.id}/credit", data={"reason": "Miscounted", "corrected_amount": "2500"})
    assert response.status_code == 302
    notes = db.session.scalars(select(Statement).where(Statement.credit_for_id == wrong.id)).all()
    assert [(n.amount_pence, n.status) for n in notes] == [(-wrong.amount_pence, "issued")]
