"""A provider submits a monitoring return through the API, refused in the return form's words."""

from datetime import date

import pytest

from consortium.core import tokens
from contracts import returns
from tests.contracts.test_return_pages import VALUES
from tests.factories import ContractFactory, provider_user


@pytest.fixture
def block():
    contract = ContractFactory(
        ref="BLOCK", start_date=date(2024, 4, 1), end_date=date(2030, 3, 31), max_end_date=date(2032, 3, 31)
    )
    returns.attach(contract, returns.starter_template())
    return contract


def bearer(user, scope="write") -> dict:
    return {"Authorization": f"Bearer {tokens.create(user, 'Returns', scope)[1]}"}


def test_a_provider_submits_a_return_with_a_token(client, block):
    auth = bearer(provider_user(block.provider))
    owed = client.get("/api/v1/returns", headers=auth).get_json()["items"]
    assert owed[0]["period"] == "2024-Q1" and owed[0]["status"] == "overdue"
    made = client.post(f"/api/v1/contracts/{block.id}/returns/2024-Q1", json={"values": VALUES}, headers=auth)
    assert made.status_code == 200, made.get_json()
    assert made.get_json()["status"] == "submitted"
    again = client.post(f"/api/v1/contracts/{block.id}/returns/2024-Q1", json={"values": VALUES}, headers=auth)
    assert again.get_json()["detail"] == "The return for 2024-Q1 is submitted: it can no longer be changed"


def test_a_return_is_refused_by_field(client, block):
    auth = bearer(provider_user(block.provider))
    wrong = {**VALUES, "EET": "150", "XYZ": "1"}
    del wrong["HEALTH"]
    refused = client.post(f"/api/v1/contracts/{block.id}/returns/2024-Q1", json={"values": wrong}, headers=auth)
    problem = refused.get_json()
    assert refused.status_code == 422
    pointers = {error["pointer"] for error in problem["errors"]}
    assert {"/values/EET", "/values/HEALTH", ""} <= pointers
    assert "unknown indicator code: XYZ" in problem["detail"]


def test_only_the_providers_own_returns(client, block):
    other = bearer(provider_user())
    response = client.post(f"/api/v1/contracts/{block.id}/returns/2024-Q1", json={"values": VALUES}, headers=other)
    assert response.status_code == 404
    assert client.get("/api/v1/returns", headers=other).get_json()["items"] == []
