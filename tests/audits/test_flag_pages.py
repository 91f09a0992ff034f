"""The flags list: filters by kind and status, counts of open flags by kind, who sees which."""

from tests.conftest import sign_in
from tests.factories import (
    ContractFactory,
    FlagFactory,
    HomeFactory,
    lead,
    partner,
    provider_user,
)


def test_filters_and_counts(client):
    consortium_lead = lead()
    contract = ContractFactory(ref="OURS", consortium=consortium_lead.consortium)
    home = HomeFactory(urn="SC200001")
    FlagFactory(kind="quality_drop", subject="SC200001", home=home, detail="A drop")
    FlagFactory(kind="quality_drop", subject="SC200002", status="resolved", detail="An old drop")
    FlagFactory(kind="underused_block_beds", subject="OURS", contract=contract, detail="Utilisation 60.0%")
    FlagFactory(
        kind="underused_block_beds", subject="THEIRS", contract=ContractFactory(ref="THEIRS"), detail="Not ours"
    )
    sign_in(client, consortium_lead)
    page = client.get("/flags").get_data(as_text=True)
    assert "A drop" in page and "Utilisation 60.0%" in page
    assert "An old drop" not in page and "Not ours" not in page  # resolved; another consortium's contract
    assert 'href="/homes/SC200001"' in page and f'href="/contracts/{contract.id}"' in page
    drops = client.get("/flags?kind=quality_drop").get_data(as_text=True)
    assert "A drop" in drops and "Utilisation 60.0%" not in drops
    resolved = client.get("/flags?status=resolved").get_data(as_text=True)
    assert "An old drop" in resolved and "A drop</td>" not in resolved
    everything = client.get("/flags?status=all").get_data(as_text=True)
    assert "An old drop" in everything and "A drop" in everything


def test_partners_see_their_consortiums_contract_flags_and_providers_their_own(client):
    consortium_lead = lead()
    contract = ContractFactory(ref="OURS", consortium=consortium_lead.consortium)
    FlagFactory(
        kind="underused_block_beds", subject="OURS", contract=contract, provider=contract.provider, detail="Ours"
    )
    member = consortium_lead.consortium.memberships[0].authority
    sign_in(client, partner(member))
    assert "Ours" in client.get("/flags").get_data(as_text=True)
    sign_in(client, partner())
    assert "Ours" not in client.get("/flags").get_data(as_text=True)
    sign_in(client, provider_user(contract.provider))
    assert "Ours" in client.get("/flags").get_data(as_text=True)
    sign_in(client, provider_user())
    assert "Ours" not in client.get("/flags").get_data(as_text=True)
