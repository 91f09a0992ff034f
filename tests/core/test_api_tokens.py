"""API tokens: made on Your account or by a command, shown once, stored hashed, revoked."""

import re

from sqlalchemy import select

from consortium.core.extensions import db
from consortium.core.tokens import ApiToken
from tests.conftest import sign_in
from tests.factories import AuthorityFactory, partner


def test_a_user_makes_a_token_sees_it_once_uses_it_and_revokes_it(client):
    officer = partner(AuthorityFactory())
    sign_in(client, officer)
    assert "Manage API tokens" in client.get("/account").get_data(as_text=True)
    made = client.post("/account/tokens/new", data={"name": "Mosaic nightly", "scope": "write", "days": "30"})
    assert made.status_code == 200
    secret = re.search(r'id="token">(mpc_[^<]+)<', made.get_data(as_text=True)).group(1)
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == officer.id))
    assert token.name == "Mosaic nightly" and token.scope == "write" and secret not in token.token_hash
    assert (token.expires_at - token.created_at).days == 30
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "Mosaic nightly" in listing and token.shown in listing and secret not in listing
    assert client.get("/api/v1/placements", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    client.post(f"/account/tokens/{token.id}/revoke")
    assert "Revoked" in client.get("/account/tokens").get_data(as_text=True)
    assert client.get("/api/v1/placements", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_the_token_form_says_what_is_wrong(client):
    sign_in(client, partner(AuthorityFactory()))
    response = client.post("/account/tokens/new", data={"name": "", "scope": "admin", "days": "366"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ("Enter a name for the token", "Not a valid choice", "A token lasts from 1 to 365 days"):
        assert message in text
    assert db.session.scalar(select(ApiToken)) is None


def test_another_users_token_cannot_be_revoked(client):
    owner, other = partner(AuthorityFactory()), partner(AuthorityFactory())
    sign_in(client, owner)
    client.post("/account/tokens/new", data={"name": "Mine", "scope": "read", "days": "90"})
    token = db.session.scalar(select(ApiToken))
    sign_in(client, other)
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 404
    assert token.revoked_at is None


def test_the_command_prints_the_token_last(runner, client):
    officer = partner(AuthorityFactory())
    db.session.commit()
    result = runner.invoke(
        args=["api", "token", "create", "--email", officer.email, "--name", "Script", "--scope", "read"]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.strip().split()[-1]
    assert secret.startswith("mpc_")
    assert client.get("/api/v1/placements", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert client.post("/api/v1/placements", json={}, headers={"Authorization": f"Bearer {secret}"}).status_code == 403
    missing = runner.invoke(args=["api", "token", "create", "--email", "no@one.test", "--name", "X", "--scope", "read"])
    assert missing.exit_code == 1 and "There is no account for no@one.test" in missing.output
