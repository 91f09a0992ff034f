from datetime import datetime

from consortium.core.extensions import db
from consortium.core.passwords import verify_password
from tests.conftest import sign_in
from tests.factories import PASSWORD, UserFactory, lead, partner


def post_sign_in(client, email, password, next_url=None):
    url = "/sign-in" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password})


def test_sign_in_lands_on_the_home_page_and_records_the_time(client):
    user = lead(email="lee@example.test")
    response = post_sign_in(client, "Lee@Example.test ", PASSWORD)
    assert response.status_code == 302
    assert response.location == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert user.consortium.name.encode() in home.data
    db.session.refresh(user)
    assert isinstance(user.last_signed_in_at, datetime)


def test_wrong_password_and_unknown_email_get_the_same_generic_error(client):
    lead(email="lee@example.test")
    wrong = post_sign_in(client, "lee@example.test", "not-the-password")
    unknown = post_sign_in(client, "nobody@example.test", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert b"Enter a correct email address and password" in response.data
        assert b"govuk-error-summary" in response.data
    assert client.get("/").status_code == 302


def test_an_inactive_user_cannot_sign_in(client):
    UserFactory(email="gone@example.test", active=False)
    response = post_sign_in(client, "gone@example.test", PASSWORD)
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_an_inactive_users_existing_session_stops_working(client):
    user = partner()
    sign_in(client, user)
    assert client.get("/").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_next_only_goes_to_a_path_on_this_site(client):
    lead(email="lee@example.test")
    assert post_sign_in(client, "lee@example.test", PASSWORD, next_url="/authorities").location == "/authorities"
    client.post("/sign-out")
    assert post_sign_in(client, "lee@example.test", PASSWORD, next_url="https://evil.example/").location == "/"
    client.post("/sign-out")
    assert post_sign_in(client, "lee@example.test", PASSWORD, next_url="//evil.example/").location == "/"


def test_signing_in_starts_a_fresh_session(client):
    lead(email="lee@example.test")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    post_sign_in(client, "lee@example.test", PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_sign_out_ends_every_session_of_the_user(app):
    user = lead(email="lee@example.test")
    laptop, phone = app.test_client(), app.test_client()
    post_sign_in(laptop, "lee@example.test", PASSWORD)
    post_sign_in(phone, "lee@example.test", PASSWORD)
    assert phone.get("/").status_code == 200
    response = laptop.post("/sign-out")
    assert response.location == "/sign-in"
    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 302
    db.session.refresh(user)
    assert user.active


def test_change_password_keeps_this_session_and_ends_the_others(app):
    user = partner(email="pat@example.test")
    here, elsewhere = app.test_client(), app.test_client()
    post_sign_in(here, "pat@example.test", PASSWORD)
    post_sign_in(elsewhere, "pat@example.test", PASSWORD)
    response = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    db.session.refresh(user)
    assert verify_password(user.password_hash, "a brand new passphrase")


def test_change_password_errors_are_shown_in_the_error_summary(client):
    sign_in(client, partner())
    response = client.post(
        "/account/password",
        data={"current_password": "wrong-password-here", "new_password": "short", "confirm": "short"},
    )
    assert response.status_code == 400
    assert b"govuk-error-summary" in response.data
    response = client.post(
        "/account/password",
        data={
            "current_password": "wrong-password-here",
            "new_password": "long enough now",
            "confirm": "long enough now",
        },
    )
    assert response.status_code == 400
    assert b"Your current password is not right" in response.data
    response = client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": "short", "confirm": "short"}
    )
    assert b"Password must be at least 12 characters" in response.data


def test_a_form_post_without_a_csrf_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    lead(email="lee@example.test")
    response = client.post("/sign-in", data={"email": "lee@example.test", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_a_form_post_with_the_csrf_token_is_accepted(csrf_app):
    client = csrf_app.test_client()
    lead(email="lee@example.test")
    page = client.get("/sign-in").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/sign-in", data={"email": "lee@example.test", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_sign_out_is_post_only(client):
    sign_in(client, lead())
    assert client.get("/sign-out").status_code == 405
