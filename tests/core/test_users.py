"""Accounts: `flask users create` and the administrator's pages."""

from sqlalchemy import select

from consortium.core.extensions import db
from consortium.core.models import User
from consortium.core.passwords import verify_password
from tests.conftest import sign_in
from tests.factories import (
    AuthorityFactory,
    ConsortiumFactory,
    ProviderFactory,
    UserFactory,
    partner,
)


def create(runner, *args, password="a long enough password\n"):
    return runner.invoke(args=["users", "create", *args], input=password)


def test_cli_creates_an_account_for_each_kind_of_organisation(runner):
    consortium = ConsortiumFactory(ref="EMRF")
    authority = AuthorityFactory(code="E06000018", name="Nottingham")
    ProviderFactory(name="Oakleaf Care Ltd")
    db.session.commit()
    for args, organisation in [
        (["--email", "a@x.test", "--role", "admin"], None),
        (["--email", "L@X.test", "--role", "lead", "--org", "emrf"], consortium.name),
        (["--email", "p@x.test", "--role", "partner", "--org", "E06000018"], authority.name),
        (["--email", "s@x.test", "--role", "provider", "--org", "oakleaf care ltd"], "Oakleaf Care Ltd"),
    ]:
        result = create(runner, *args)
        assert result.exit_code == 0, result.output
    db.session.expire_all()
    lead = db.session.scalar(select(User).where(User.email == "l@x.test"))
    assert lead.consortium_id == consortium.id and lead.role == "lead"
    assert verify_password(lead.password_hash, "a long enough password")
    assert db.session.scalar(select(User).where(User.email == "s@x.test")).provider.name == "Oakleaf Care Ltd"


def test_cli_errors_are_clear_and_exit_non_zero(runner):
    UserFactory(email="taken@x.test")
    AuthorityFactory(code="E06000018")
    db.session.commit()
    cases = [
        (["--email", "TAKEN@x.test", "--role", "admin"], "There is already an account for taken@x.test"),
        (
            ["--email", "n@x.test", "--role", "partner", "--org", "E09999999"],
            "There is no authority with code 'E09999999'",
        ),
        (["--email", "n@x.test", "--role", "lead", "--org", "NOPE"], "There is no consortium with ref 'NOPE'"),
        (
            ["--email", "n@x.test", "--role", "provider", "--org", "Nobody Ltd"],
            "There is no provider named 'Nobody Ltd'",
        ),
        (["--email", "n@x.test", "--role", "partner"], "A partner account needs an organisation"),
    ]
    for args, message in cases:
        result = create(runner, *args)
        assert result.exit_code == 1, args
        assert message in result.output
    result = create(runner, "--email", "n@x.test", "--role", "partner", "--org", "E06000018", password="short\n")
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
    assert db.session.scalar(select(User).where(User.email == "n@x.test")) is None


def admin_client(client):
    admin = UserFactory(role="admin")
    sign_in(client, admin)
    return admin


def test_admin_creates_a_partner_account(client):
    admin_client(client)
    authority = AuthorityFactory()
    response = client.post(
        "/users/new",
        data={
            "email": "New@Example.test",
            "name": "Nia New",
            "role": "partner",
            "authority_code": authority.code,
            "password": "twelve chars ok",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.email == "new@example.test"))
    assert (user.role, user.authority_code, user.name) == ("partner", authority.code, "Nia New")
    assert client.get(response.location).status_code == 200


def test_the_user_form_shows_errors_in_the_error_summary(client):
    admin_client(client)
    UserFactory(email="taken@example.test")
    response = client.post("/users/new", data={"email": "not-an-email", "role": "lead", "password": "x"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "govuk-error-summary" in page and "Enter an email address in the correct format" in page
    response = client.post(
        "/users/new", data={"email": "someone@example.test", "role": "lead", "password": "long enough pass"}
    )
    assert "Choose the organisation of the lead account" in response.get_data(as_text=True)
    assert 'href="#consortium_id"' in response.get_data(as_text=True)
    response = client.post(
        "/users/new", data={"email": "TAKEN@example.test", "role": "admin", "password": "long enough pass"}
    )
    assert "There is already an account for taken@example.test" in response.get_data(as_text=True)


def test_deactivating_ends_the_users_sessions_and_reactivating_lets_them_back(app, client):
    admin = admin_client(client)
    user = partner()
    theirs = app.test_client()
    sign_in(theirs, user)
    assert theirs.get("/").status_code == 200
    assert client.post(f"/users/{user.id}/deactivate").status_code == 302
    assert theirs.get("/").status_code == 302
    db.session.refresh(user)
    assert user.active is False
    client.post(f"/users/{user.id}/reactivate")
    db.session.refresh(user)
    assert user.active is True
    # An administrator cannot lock themselves out.
    client.post(f"/users/{admin.id}/deactivate")
    db.session.refresh(admin)
    assert admin.active is True


def test_admin_sets_a_new_password(client):
    admin_client(client)
    user = partner()
    old_token = user.session_token
    response = client.post(f"/users/{user.id}/password", data={"password": "short"})
    assert response.status_code == 400 and b"at least 12 characters" in response.data
    assert client.post(f"/users/{user.id}/password", data={"password": "a fresh long password"}).status_code == 302
    db.session.refresh(user)
    assert verify_password(user.password_hash, "a fresh long password")
    assert user.session_token != old_token


def test_unknown_user_ids_are_404(client):
    admin_client(client)
    assert client.get("/users/999999").status_code == 404
