"""A lead acknowledges and resolves flags through the API, in the flags pages' words."""

from sqlalchemy import select

from audits.models import Flag
from consortium.core import tokens
from consortium.core.extensions import db
from tests.factories import ConsortiumFactory, ContractFactory, FlagFactory, lead


def test_a_lead_lists_acknowledges_and_resolves_a_flag(client):
    consortium = ConsortiumFactory()
    block = ContractFactory(consortium=consortium)
    flag = FlagFactory(kind="underused_block_beds", subject=block.ref, contract=block, provider=block.provider)
    auth = {"Authorization": f"Bearer {tokens.create(lead(consortium), 'Dashboard', 'write')[1]}"}
    listed = client.get("/api/v1/flags", headers=auth).get_json()["items"]
    assert [(f["id"], f["status"]) for f in listed] == [(flag.id, "open")]
    url = f"/api/v1/flags/{flag.id}"
    etag = client.get(url, headers=auth).headers["ETag"]
    acknowledged = client.post(
        url + "/acknowledge", json={"note": "Asked the provider"}, headers={**auth, "If-Match": etag}
    )
    assert acknowledged.status_code == 200 and acknowledged.get_json()["status"] == "acknowledged"
    stale = client.post(url + "/resolve", json={"note": "Beds filled"}, headers={**auth, "If-Match": etag})
    assert stale.status_code == 412
    resolved = client.post(url + "/resolve", json={"note": "Beds filled"}, headers=auth)
    assert resolved.get_json()["status"] == "resolved"
    assert db.session.scalar(select(Flag.status).where(Flag.id == flag.id)) == "resolved"
    assert client.get("/api/v1/flags", headers=auth).get_json()["items"] == []  # "open" is the default
    assert len(client.get("/api/v1/flags?status=all", headers=auth).get_json()["items"]) == 1
    other = {"Authorization": f"Bearer {tokens.create(lead(ConsortiumFactory()), 'X', 'write')[1]}"}
    assert client.post(url + "/acknowledge", json={"note": "x"}, headers=other).status_code == 404
