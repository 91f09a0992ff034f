"""A partner reads their statements through the API, as on the pages."""

from consortium.core import tokens
from tests.factories import lead, partner
from tests.recharges.test_recharges import consortium, issued_pool  # noqa: F401  (the fixture and helper are shared)


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {tokens.create(user, 'Finance system', 'read')[1]}"}


def test_a_partner_lists_reads_and_downloads_their_own_statements(client, consortium):  # noqa: F811
    pool = issued_pool(consortium)
    own = next(s for s in pool.statements if s.authority_code == "E06000018")
    other = next(s for s in pool.statements if s.authority_code == "E06000016")
    auth = bearer(partner(own.authority))
    listed = client.get("/api/v1/statements", headers=auth).get_json()["items"]
    assert [s["number"] for s in listed] == [own.number]
    got = client.get(f"/api/v1/statements/{own.id}", headers=auth).get_json()
    assert got["amount"] == {"pence": own.amount_pence, "formatted": f"£{own.amount_pence / 100:,.2f}"}
    assert (got["usage"], got["consortiumUsage"]) == (own.usage, own.consortium_usage)
    pdf = client.get(f"/api/v1/statements/{own.id}.pdf", headers=auth)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert client.get(f"/api/v1/statements/{other.id}", headers=auth).status_code == 404
    assert client.get(f"/api/v1/statements/{other.id}.pdf", headers=auth).status_code == 404
    assert len(client.get("/api/v1/statements", headers=bearer(lead(consortium))).get_json()["items"]) == len(
        pool.statements
    )
