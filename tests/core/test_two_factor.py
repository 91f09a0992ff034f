"""Two-factor sign-in: setting it up, signing in with a code, refusing wrong and reused codes, the
half sign-in's five minutes, the throttle, turning it off, and a consortium requiring it."""

import re
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timedelta, timezone

import pyotp
from flask import current_app
from sqlalchemy import func, select

from consortium.core import security, two_factor
from consortium.core.audit import AuditEvent
from consortium.core.extensions import db
from tests.conftest import sign_in
from tests.factories import (
    PASSWORD,
    ConsortiumFactory,
    UserFactory,
    lead,
    partner,
    provider_user,
)


def with_two_factor(user) -> pyotp.TOTP:
    """Turn two-factor sign-in on for `user` as if they had set it up; their app's codes."""
    secret = pyotp.random_base32()
    user.totp_secret = two_factor.encrypt(user.id, secret)
    user.two_factor_since = datetime.now(timezone.utc)
    db.session.commit()
    return pyotp.TOTP(secret)


def wrong_code(totp: pyotp.TOTP) -> str:
    """A well-formed code that is none of the ones accepted now."""
    step = totp.timecode(datetime.now(timezone.utc))
    accepted = {totp.generate_otp(step + n) for n in range(-2, 3)}
    return next(code for code in (f"{n:06d}" for n in range(1000000)) if code not in accepted)


def password_step(client, email, next_url=None):
    return client.post(
        "/sign-in" + (f"?next={next_url}" if next_url else ""), data={"email": email, "password": PASSWORD}
    )


def events(action, object_type=None):
    query = select(AuditEvent).where(AuditEvent.action == action)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    return db.session.scalars(query.order_by(AuditEvent.id)).all()


# ---------------------------------------------------------------- setting up


def test_set_up_shows_the_key_and_needs_a_current_code_from_it(client):
    user = partner(email="pat@example.test")
    db.session.commit()
    sign_in(client, user)
    page = client.get("/account/two-factor")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    key = re.search(r'id="two-factor-key">([A-Z2-7 ]+)<', html).group(1)
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", key)  # 32 characters in groups of four
    secret = key.replace(" ", "")
    assert f"otpauth://totp/Manage%20placement%20contracts:pat%40example.test?secret={secret}" in html
    assert 'src="data:image/svg+xml;base64,' in html  # the QR code, an image: no script
    assert client.get("/account/two-factor").get_data(as_text=True).count(key) == 1  # the same key on reload

    wrong = client.post("/account/two-factor", data={"code": wrong_code(pyotp.TOTP(secret))})
    assert wrong.status_code == 400
    assert b"govuk-error-summary" in wrong.data and b"The code is not right" in wrong.data
    db.session.refresh(user)
    assert user.two_factor_since is None

    response = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response.location == "/account"
    db.session.refresh(user)
    assert two_factor.is_on(user) and two_factor.secret_of(user) == secret
    assert client.get("/account").status_code == 200  # this session goes on, with the new token
    assert b"since" in client.get("/account").data
    # The change is in the audit trail; the key never is.
    (turned_on,) = [e for e in events("update", "User") if "two_factor_since" in (e.after or {})]
    assert turned_on.object_id == str(user.id) and turned_on.before == {"two_factor_since": None}
    assert not any(
        secret in str(e.after) or "totp_secret" in (e.after or {}) for e in db.session.scalars(select(AuditEvent))
    )


def test_set_up_code_errors_use_the_error_summary(client):
    sign_in(client, partner())
    for code, message in (("", b"Enter the 6-digit code"), ("12345", b"The code must be 6 digits")):
        response = client.post("/account/two-factor", data={"code": code})
        assert response.status_code == 400
        assert b"govuk-error-summary" in response.data and message in response.data


def test_turning_it_on_ends_the_other_sessions(app):
    user = lead()
    db.session.commit()
    elsewhere, here = app.test_client(), app.test_client()
    sign_in(elsewhere, user)
    sign_in(here, user)
    secret = re.search(
        r'id="two-factor-key">([A-Z2-7 ]+)<', here.get("/account/two-factor").get_data(as_text=True)
    ).group(1)
    assert here.post("/account/two-factor", data={"code": pyotp.TOTP(secret.replace(" ", "")).now()}).status_code == 302
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302


def test_the_stored_key_is_encrypted_and_bound_to_its_user(app):
    secret = pyotp.random_base32()
    stored = two_factor.encrypt(7, secret)
    assert secret not in stored and stored.startswith("v1:")
    assert two_factor.decrypt(7, stored) == secret
    assert two_factor.decrypt(8, stored) is None  # copied onto another user's row: unreadable
    assert two_factor.encrypt(7, secret) != stored  # a fresh nonce each time
    original, fallbacks = current_app.config["SECRET_KEY"], current_app.config.get("SECRET_KEY_FALLBACKS")
    try:
        current_app.config["SECRET_KEY"] = "a new secret key"
        assert two_factor.decrypt(7, stored) is None
        current_app.config["SECRET_KEY_FALLBACKS"] = [original]  # the old key, being rotated out
        assert two_factor.decrypt(7, stored) == secret
    finally:
        current_app.config["SECRET_KEY"] = original
        current_app.config["SECRET_KEY_FALLBACKS"] = fallbacks


def test_after_a_new_secret_key_a_sign_in_encrypts_the_key_anew(client):
    user = lead(email="lee@example.test")
    totp = with_two_factor(user)
    old_key, fallbacks = current_app.config["SECRET_KEY"], current_app.config.get("SECRET_KEY_FALLBACKS")
    try:
        current_app.config["SECRET_KEY"], current_app.config["SECRET_KEY_FALLBACKS"] = "a new secret key", [old_key]
        password_step(client, "lee@example.test")
        assert client.post("/sign-in/code", data={"code": totp.now()}).status_code == 302
        db.session.refresh(user)
        current_app.config["SECRET_KEY_FALLBACKS"] = []
        assert two_factor.secret_of(user) == totp.secret  # readable under the new key alone
    finally:
        current_app.config["SECRET_KEY"], current_app.config["SECRET_KEY_FALLBACKS"] = old_key, fallbacks


def test_the_qr_code_is_a_plain_svg_image():
    svg = two_factor.qr_svg("otpauth://totp/Manage%20placement%20contracts:a%40example.test?secret=ABCDEFGHIJKLMNOP")
    root = ElementTree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert [child.tag.split("}")[1] for child in root] == ["rect", "path"]  # no script, no style
    size = int(root.get("viewBox").split()[2])
    assert (size - 8 - 17) % 4 == 0  # a QR code's modules (4 × version + 17) and the margin


# ---------------------------------------------------------------- signing in


def test_signing_in_needs_the_code_after_the_password(client):
    user = lead(email="lee@example.test")
    totp = with_two_factor(user)
    response = password_step(client, "lee@example.test", next_url="/consortia")
    assert response.status_code == 302 and response.location == "/sign-in/code"
    # Half signed in: no signed-in page yet.
    for url in ("/", "/account", "/consortia", "/account/two-factor"):
        assert client.get(url).status_code == 302, url
        assert client.get(url).location.startswith("/sign-in"), url
    assert client.post("/sign-out").status_code == 302 and client.get("/").location.startswith("/sign-in")
    page = client.get("/sign-in/code")
    assert page.status_code == 200 and b"Enter the code from your app" in page.data
    assert not events("sign-in")

    response = client.post("/sign-in/code", data={"code": totp.now()})
    assert response.status_code == 302 and response.location == "/consortia"  # where they were going
    assert client.get("/").status_code == 200
    (signed_in,) = events("sign-in")
    assert signed_in.user_id == user.id and signed_in.after["two_factor"] is True
    db.session.refresh(user)
    assert user.last_signed_in_at is not None


def test_a_wrong_code_is_refused(client):
    user = lead(email="lee@example.test")
    totp = with_two_factor(user)
    password_step(client, "lee@example.test")
    response = client.post("/sign-in/code", data={"code": wrong_code(totp)})
    assert response.status_code == 400
    assert b"govuk-error-summary" in response.data and b"The code is not right" in response.data
    assert client.get("/").status_code == 302
    (failed,) = events("sign-in failed")
    assert failed.object_id == str(user.id) and failed.after["reason"] == "wrong two-factor code"
    blank = client.post("/sign-in/code", data={"code": ""})
    assert blank.status_code == 400 and b"Enter the 6-digit code" in blank.data
    # The right code still works afterwards.
    assert client.post("/sign-in/code", data={"code": totp.now()}).status_code == 302
    assert client.get("/").status_code == 200


def test_the_same_code_cannot_be_used_twice(client):
    user = lead(email="lee@example.test")
    totp = with_two_factor(user)
    code = totp.now()
    password_step(client, "lee@example.test")
    assert client.post("/sign-in/code", data={"code": code}).status_code == 302
    client.post("/sign-out")
    password_step(client, "lee@example.test")
    replayed = client.post("/sign-in/code", data={"code": code})
    assert replayed.status_code == 400
    assert client.get("/").status_code == 302
    # The next step's code (within the window) is a new code, and works.
    later = totp.at(datetime.now(timezone.utc) + timedelta(seconds=30))
    assert client.post("/sign-in/code", data={"code": later}).status_code == 302


def test_a_code_is_accepted_once_even_when_asked_twice_at_once(app):
    user = lead()
    totp = with_two_factor(user)
    code = totp.now()
    assert two_factor.accept_code(user, code) is True
    assert two_factor.accept_code(user, code) is False
    assert user.totp_last_step is not None


def test_codes_from_the_step_before_and_after_are_accepted_but_not_further(app):
    totp = pyotp.TOTP(pyotp.random_base32())
    now = datetime.now(timezone.utc)
    step = totp.timecode(now)
    for offset in (-1, 0, 1):
        assert two_factor.matching_step(totp.secret, totp.generate_otp(step + offset), now) == step + offset
    for offset in (-3, 3):
        code = totp.generate_otp(step + offset)
        if code not in {totp.generate_otp(step + n) for n in (-1, 0, 1)}:
            assert two_factor.matching_step(totp.secret, code, now) is None
    spaced = totp.generate_otp(step)[:3] + " " + totp.generate_otp(step)[3:]
    assert two_factor.matching_step(totp.secret, spaced, now) == step  # as some apps show it
    assert two_factor.matching_step(totp.secret, "abcdef", now) is None


def age_half_sign_in(client, by: timedelta) -> None:
    with client.session_transaction() as session:
        pending = dict(session["two_factor_pending"])
        pending["at"] -= by.total_seconds()
        session["two_factor_pending"] = pending


def test_the_half_sign_in_lapses_after_five_minutes(client):
    user = lead(email="lee@example.test")
    totp = with_two_factor(user)
    password_step(client, "lee@example.test")
    age_half_sign_in(client, timedelta(minutes=4, seconds=30))
    assert client.get("/sign-in/code").status_code == 200  # still within the five minutes
    age_half_sign_in(client, timedelta(seconds=31))
    response = client.post("/sign-in/code", data={"code": totp.now()})
    assert response.status_code == 302 and response.location == "/sign-in"
    assert b"You took too long" in client.get("/sign-in").data
    assert client.get("/").status_code == 302
    assert client.get("/sign-in/code").location == "/sign-in"  # the half sign-in is gone
    assert not events("sign-in")


def test_the_code_page_without_a_password_first_goes_to_sign_in(client):
    assert client.get("/sign-in/code").location == "/sign-in"
    assert client.post("/sign-in/code", data={"code": "123456"}).location == "/sign-in"


def test_a_new_password_while_waiting_for_the_code_cancels_the_half_sign_in(client):
    user = lead(email="lee@example.test")
    totp = with_two_factor(user)
    password_step(client, "lee@example.test")
    from consortium.core import services

    services.end_sessions(user)  # signed out everywhere (a new password does the same)
    db.session.commit()
    assert client.post("/sign-in/code", data={"code": totp.now()}).location == "/sign-in"
    assert client.get("/").status_code == 302


def test_wrong_codes_count_towards_the_sign_in_throttle(client):
    user = lead(email="lee@example.test")
    totp = with_two_factor(user)
    password_step(client, "lee@example.test")
    for _ in range(5):
        assert client.post("/sign-in/code", data={"code": wrong_code(totp)}).status_code == 400
    refused = client.post("/sign-in/code", data={"code": totp.now()})
    assert refused.status_code == 429 and b"Too many attempts to sign in" in refused.data
    assert client.get("/").status_code == 302
    # Kept in the database by account and by address, as failed passwords are.
    assert db.session.scalar(select(func.count()).select_from(security.SignInFailure)) == 10
    assert password_step(client, "lee@example.test").status_code == 429


def test_a_user_without_two_factor_signs_in_with_the_password_alone(client):
    lead(email="lee@example.test")
    assert password_step(client, "lee@example.test").location == "/"
    assert client.get("/").status_code == 200


# ---------------------------------------------------------------- turning it off


def test_turning_it_off_needs_the_password(client):
    user = partner()
    with_two_factor(user)
    sign_in(client, user)
    assert b"Turn off two-factor sign-in" in client.get("/account").data
    wrong = client.post("/account/two-factor/turn-off", data={"password": "not my password"})
    assert wrong.status_code == 400
    assert b"govuk-error-summary" in wrong.data and b"Your password is not right" in wrong.data
    db.session.refresh(user)
    assert two_factor.is_on(user)
    assert client.post("/account/two-factor/turn-off", data={"password": ""}).status_code == 400
    response = client.post("/account/two-factor/turn-off", data={"password": PASSWORD})
    assert response.status_code == 302 and response.location == "/account"
    db.session.refresh(user)
    assert not two_factor.is_on(user) and user.totp_secret is None and user.totp_last_step is None
    turned_off = [e for e in events("update", "User") if "two_factor_since" in (e.after or {})]
    assert turned_off[-1].after == {"two_factor_since": None}


def test_an_administrator_turns_it_off_for_someone_who_lost_their_phone(client):
    user = partner()
    with_two_factor(user)
    token = user.session_token
    sign_in(client, UserFactory(role="admin"))
    assert b"Turn off two-factor sign-in" in client.get(f"/users/{user.id}").data
    assert client.post(f"/users/{user.id}/two-factor/reset").status_code == 302
    db.session.refresh(user)
    assert not two_factor.is_on(user) and user.totp_secret is None
    assert user.session_token != token  # signed out everywhere


# ---------------------------------------------------------------- a consortium requiring it


def test_a_lead_requires_it_for_their_consortium_and_it_is_audited(client):
    consortium = ConsortiumFactory()
    user = lead(consortium)
    db.session.commit()
    sign_in(client, user)
    assert b"Each person chooses" in client.get(f"/consortia/{consortium.id}").data
    form = client.get(f"/consortia/{consortium.id}/two-factor")
    assert form.status_code == 200 and b"Do administrators and leads have to use two-factor sign-in?" in form.data
    nothing = client.post(f"/consortia/{consortium.id}/two-factor", data={})
    assert nothing.status_code == 400 and b"govuk-error-summary" in nothing.data
    response = client.post(f"/consortia/{consortium.id}/two-factor", data={"required": "yes"})
    assert response.status_code == 302 and response.location == f"/consortia/{consortium.id}"
    db.session.refresh(consortium)
    assert consortium.two_factor_required is True
    (changed,) = [e for e in events("update", "Consortium") if "two_factor_required" in (e.after or {})]
    assert changed.object_id == str(consortium.id) and changed.user_id == user.id
    assert changed.before == {"two_factor_required": False} and changed.after == {"two_factor_required": True}
    # The lead has no two-factor yet: the next page is the set-up.
    assert client.get(f"/consortia/{consortium.id}").location == "/account/two-factor"


def test_the_requirement_sends_admins_and_its_leads_to_set_up_first(app):
    consortium = ConsortiumFactory(two_factor_required=True)
    member = consortium.memberships[0].authority
    users = {
        "lead": lead(consortium),
        "admin": UserFactory(role="admin"),
        "partner": partner(member),
        "provider": provider_user(),
        "other consortium's lead": lead(),
    }
    db.session.commit()
    for who, user in users.items():
        client = app.test_client()
        sign_in(client, user)
        forced = who in ("lead", "admin")
        for url in ("/", "/account", "/authorities", "/messages"):
            response = client.get(url)
            if forced:
                assert response.status_code == 302 and response.location == "/account/two-factor", (who, url)
            else:
                assert response.status_code == 200, (who, url, response.status_code)
        if forced:
            page = client.get("/account/two-factor")
            assert page.status_code == 200 and b"Your consortium requires two-factor sign-in" in page.data
            assert client.post("/sign-out").status_code == 302  # signing out still works


def test_a_lead_made_to_set_it_up_at_sign_in_then_uses_the_service(client):
    consortium = ConsortiumFactory(two_factor_required=True)
    lead(consortium, email="lee@example.test")
    db.session.commit()
    assert password_step(client, "lee@example.test").location == "/"
    assert client.get("/").location == "/account/two-factor"
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'id="two-factor-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert client.get("/").status_code == 200
    # Required, so it cannot be turned off, even with the password.
    assert b"stays on" in client.get("/account").data
    refused = client.post("/account/two-factor/turn-off", data={"password": PASSWORD})
    assert refused.status_code == 400 and b"requires two-factor sign-in" in refused.data


def test_another_consortiums_lead_cannot_change_the_setting(app):
    consortium = ConsortiumFactory()
    member = consortium.memberships[0].authority
    outsiders = {
        "other lead": lead(),
        "partner": partner(member),
        "admin": UserFactory(role="admin"),
        "provider": provider_user(),
    }
    db.session.commit()
    for who, user in outsiders.items():
        client = app.test_client()
        sign_in(client, user)
        for response in (
            client.get(f"/consortia/{consortium.id}/two-factor"),
            client.post(f"/consortia/{consortium.id}/two-factor", data={"required": "yes"}),
        ):
            assert response.status_code in (403, 404), who
    db.session.refresh(consortium)
    assert consortium.two_factor_required is False
    assert not [e for e in events("update", "Consortium") if "two_factor_required" in (e.after or {})]
