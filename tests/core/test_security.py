"""Security headers, session lifetimes and sign-in throttling."""

import re
import time
from datetime import timedelta

from sqlalchemy import func, select

from consortium.app import register_proxies
from consortium.core import security, services
from consortium.core.extensions import db
from tests.conftest import sign_in
from tests.factories import PASSWORD, lead


def test_every_page_sends_the_security_headers(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    # The one inline script (GOV.UK's js-enabled class) carries the nonce; there is no other.
    scripts = re.findall(r"<script([^>]*)>", response.get_data(as_text=True))
    assert all(f'nonce="{nonce}"' in attrs or "src=" in attrs for attrs in scripts), scripts
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "no-store" not in response.headers.get("Cache-Control", "")
    sign_in(client, lead())
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/sign-in").headers["Content-Security-Policy"] != csp  # a new nonce each time


def test_a_session_ends_after_thirty_idle_minutes_or_twelve_hours(client):
    user = lead()
    sign_in(client, user)
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["seen_at"] -= timedelta(minutes=31).total_seconds()
    response = client.get("/")
    assert response.status_code == 302 and response.location.startswith("/sign-in")
    sign_in(client, user)
    client.get("/")
    with client.session_transaction() as session:
        session["signed_in_at"] -= timedelta(hours=12, minutes=1).total_seconds()
    assert client.get("/").status_code == 302
    sign_in(client, user)
    client.get("/")
    with client.session_transaction() as session:
        session["seen_at"] -= timedelta(minutes=29).total_seconds()
    assert client.get("/").status_code == 200  # still within the half hour


def test_the_sixth_failure_within_a_minute_is_refused(client):
    lead(email="lee@example.test")
    for _ in range(5):
        assert (
            client.post("/sign-in", data={"email": "lee@example.test", "password": "wrong password!"}).status_code
            == 400
        )
    refused = client.post("/sign-in", data={"email": "lee@example.test", "password": PASSWORD})
    assert refused.status_code == 429
    assert "Too many attempts to sign in" in refused.get_data(as_text=True)
    # The failures are kept in the database, where every worker sees them.
    assert db.session.scalar(select(func.count()).select_from(security.SignInFailure)) == 10


def test_failures_from_one_address_are_throttled_across_accounts(client):
    for n in range(5):
        client.post("/sign-in", data={"email": f"guess{n}@example.test", "password": "wrong password!"})
    lead(email="lee@example.test")
    assert client.post("/sign-in", data={"email": "lee@example.test", "password": PASSWORD}).status_code == 429


def test_failures_older_than_a_minute_do_not_count(client, monkeypatch):
    lead(email="lee@example.test")
    monkeypatch.setattr(security, "THROTTLE_WINDOW", timedelta(seconds=1))
    for _ in range(5):
        client.post("/sign-in", data={"email": "lee@example.test", "password": "wrong password!"})
    time.sleep(1.1)
    assert client.post("/sign-in", data={"email": "lee@example.test", "password": PASSWORD}).status_code == 302


def test_common_passwords_are_refused(client):
    from tests.conftest import sign_in as signed

    user = lead()
    signed(client, user)
    for common in ("Password1234", "qwertyuiop12", "Nottingham2025", "correcthorsebatterystaple"):
        response = client.post(
            "/account/password", data={"current_password": PASSWORD, "new_password": common, "confirm": common}
        )
        assert response.status_code == 400 and "too common" in response.get_data(as_text=True), common
    assert (
        client.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "new_password": "plum kettle orbit lantern",
                "confirm": "plum kettle orbit lantern",
            },
        ).status_code
        == 302
    )


def test_the_clocks_start_at_sign_in(client):
    lead(email="lee@example.test")
    client.post("/sign-in", data={"email": "lee@example.test", "password": PASSWORD})
    with client.session_transaction() as session:
        assert session["signed_in_at"] == session["seen_at"]


def test_an_over_long_email_is_refused_by_the_form_before_any_password_check(client, monkeypatch):
    def no_hashing(*args, **kwargs):
        raise AssertionError("the password hasher was used")

    monkeypatch.setattr(services, "dummy_verify", no_hashing)
    monkeypatch.setattr(services, "verify_password", no_hashing)
    response = client.post("/sign-in", data={"email": "a" * 400 + "@example.test", "password": "wrong password!"})
    assert response.status_code == 400
    assert "Email address must be 254 characters or fewer" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(security.SignInFailure)) == 0


def test_throttle_keys_are_a_fixed_length_whatever_was_typed(app):
    long_email = "b" * 5000 + "@example.test"
    with app.test_request_context("/sign-in", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        for _ in range(5):
            security.record_failure(long_email)
        db.session.flush()  # a key longer than its column would fail here on PostgreSQL
        keys = db.session.scalars(select(security.SignInFailure.key).distinct()).all()
        assert sorted(len(key) for key in keys) == [len("email:") + 64, len("address:") + 64]
        assert not any("b" * 10 in key or "203.0.113.9" in key for key in keys)
        assert security.throttled(long_email.upper())
        assert security.throttled("someone-else@example.test")  # the address is throttled too
    with app.test_request_context("/sign-in", environ_base={"REMOTE_ADDR": "198.51.100.7"}):
        assert not security.throttled("someone-else@example.test")


def test_trusted_proxies_decide_whether_x_forwarded_for_is_believed(app, client, monkeypatch):
    def fail_five_times_from(address, who):
        for n in range(5):
            client.post(
                "/sign-in",
                data={"email": f"{who}{n}@example.test", "password": "wrong password!"},
                headers={"X-Forwarded-For": address},
            )

    def sign_in_from(address):
        return client.post(
            "/sign-in", data={"email": "lee@example.test", "password": PASSWORD}, headers={"X-Forwarded-For": address}
        )

    lead(email="lee@example.test")
    # With no trusted proxy the header is ignored: every client here is the test client's address.
    assert app.config["TRUSTED_PROXIES"] == 0
    fail_five_times_from("203.0.113.1", "direct")
    assert sign_in_from("198.51.100.2").status_code == 429
    # Behind one trusted proxy, the address it forwards is the one throttled.
    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", 1)
    monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)  # put back afterwards
    register_proxies(app)
    fail_five_times_from("203.0.113.1", "proxied")
    assert sign_in_from("203.0.113.1").status_code == 429
    assert sign_in_from("198.51.100.2").status_code == 302
