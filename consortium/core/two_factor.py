"""Two-factor sign-in with time-based one-time codes (TOTP, RFC 6238) from an authenticator app.

A user turns it on from their account page: the service makes a key, the user enters it in
their app (typed, or scanned from a QR code) and confirms with a current code. From then on,
signing in asks for a code after the password. A lead can require it of the administrators and
leads of their consortium.

The key is stored encrypted (AES-GCM, with a key derived from the app's SECRET_KEY and bound
to the user's id), so a copy of the database alone does not give anyone a user's codes. Each
accepted code's time-step is kept, and a code is accepted only for a later step than the last
one: the same code cannot be used twice.

Services flush, never commit.
"""

from __future__ import annotations

import base64
import hmac
import os
from datetime import datetime, timezone
from xml.sax.saxutils import quoteattr

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from reportlab.graphics.barcode import (
    qrencoder,  # ReportLab (the statements' PDFs) encodes QR codes
)
from sqlalchemy import exists, or_, select, update

from consortium.core.extensions import db
from consortium.core.models import Consortium, User, new_session_token
from consortium.core.passwords import verify_password
from consortium.core.services import RuleBroken

ISSUER = "Manage placement contracts"
WINDOW = 1  # a code of the step before or after the current one is accepted too (clocks drift)
ROLES_IT_CAN_BE_REQUIRED_OF = ("admin", "lead")
_VERSION = "v1"


# ---------------------------------------------------------------- the stored key


def _encryption_keys() -> list[bytes]:
    """The key from SECRET_KEY first, then any from SECRET_KEY_FALLBACKS (a key being rotated out)."""
    secrets = [current_app.config["SECRET_KEY"], *(current_app.config.get("SECRET_KEY_FALLBACKS") or [])]
    return [
        HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"two-factor keys v1").derive(
            secret.encode() if isinstance(secret, str) else secret
        )
        for secret in secrets
        if secret
    ]


def _bound_to(user_id: int) -> bytes:
    # Authenticated with the ciphertext: a key copied onto another user's row does not decrypt.
    return f"users/{user_id}".encode()


def encrypt(user_id: int, secret: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_encryption_keys()[0]).encrypt(nonce, secret.encode(), _bound_to(user_id))
    return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(user_id: int, stored: str) -> str | None:
    """The user's key, or None when it cannot be read (for instance SECRET_KEY changed)."""
    return _decrypt(user_id, stored)[0]


def _decrypt(user_id: int, stored: str) -> tuple[str | None, bool]:
    """The key, and whether it was encrypted under a fallback key (and so wants encrypting anew)."""
    version, _, body = (stored or "").partition(":")
    if version != _VERSION:
        return None, False
    try:
        raw = base64.urlsafe_b64decode(body)
    except ValueError:
        return None, False
    for n, key in enumerate(_encryption_keys()):
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], _bound_to(user_id)).decode(), n > 0
        except InvalidTag:
            continue
    return None, False


def secret_of(user: User) -> str | None:
    return decrypt(user.id, user.totp_secret) if user.totp_secret else None


# ---------------------------------------------------------------- showing the key


def grouped(secret: str) -> str:
    """The key in groups of four, easier to type: "ABCD EFGH ..."."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(text: str) -> str:
    """A QR code of `text` as an SVG document: one path of dark modules, four modules of margin."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(qrencoder.QR8bitByte(text))
    code.make()
    size, margin = code.getModuleCount(), 4
    moves = []
    for row in range(size):
        col = 0
        while col < size:
            if not code.isDark(row, col):
                col += 1
                continue
            run = 1
            while col + run < size and code.isDark(row, col + run):
                run += 1
            moves.append(f"M{col + margin} {row + margin}h{run}v1h-{run}z")  # a run of dark modules
            col += run
    full, path = size + 2 * margin, quoteattr("".join(moves))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {full} {full}" width="{full * 4}" height="{full * 4}"'
        f' shape-rendering="crispEdges"><rect width="{full}" height="{full}" fill="#fff"/>'
        f'<path fill="#000" d={path}/></svg>'
    )


def qr_data_uri(text: str) -> str:
    """The QR code as a data: URI for an <img> (the page's CSP allows data: images, no inline script)."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(text).encode()).decode()


# ---------------------------------------------------------------- codes


def normalise(code: str | None) -> str:
    return "".join(ch for ch in (code or "") if not ch.isspace() and ch != "-")


def matching_step(secret: str, code: str, at: datetime | None = None) -> int | None:
    """The time-step (within one of now) whose code this is, or None."""
    code = normalise(code)
    if len(code) != 6 or not code.isdecimal():
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(at or datetime.now(timezone.utc))
    for step in (now, now - WINDOW, now + WINDOW):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def accept_code(user: User, code: str) -> bool:
    """Whether the code is right and not used before; if so, its step is the last one used.

    The check and the record are one conditional UPDATE, so two requests with the same code
    at the same moment cannot both succeed. A key still encrypted under a former SECRET_KEY is
    encrypted anew under the current one."""
    secret, stale = _decrypt(user.id, user.totp_secret) if user.totp_secret else (None, False)
    if secret is None:
        return False
    step = matching_step(secret, code)
    if step is None:
        return False
    result = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.expire(user, ["totp_last_step"])
    if stale:
        user.totp_secret = encrypt(user.id, secret)
        db.session.flush()
    return True


# ---------------------------------------------------------------- turning it on and off


def is_on(user: User) -> bool:
    return user.two_factor_since is not None


def required_for(user: User) -> bool:
    """A lead whose consortium requires two-factor sign-in must use it; so must an administrator
    as soon as any consortium requires it (administrators manage every consortium)."""
    if user.role == "lead":
        return bool(
            db.session.scalar(select(Consortium.two_factor_required).where(Consortium.id == user.consortium_id))
        )
    if user.role == "admin":
        return bool(db.session.scalar(select(exists().where(Consortium.two_factor_required.is_(True)))))
    return False


def pending_secret(user: User) -> str:
    """The key being set up: made and stored on first asking, the same one until confirmed, so
    reloading the page does not change the key already entered in the app."""
    if is_on(user):
        raise RuleBroken("Two-factor sign-in is already on")
    secret = secret_of(user)
    if secret is None:
        secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
        user.totp_secret = encrypt(user.id, secret)
        user.totp_last_step = None
        db.session.flush()
    return secret


def turn_on(user: User, code: str) -> None:
    """Confirm the key with a current code. Ends the user's other sessions (signed in without it)."""
    if is_on(user):
        raise RuleBroken("Two-factor sign-in is already on")
    if secret_of(user) is None:
        raise RuleBroken("Start again: the key was not found", "code")
    if not accept_code(user, code):
        raise RuleBroken("The code is not right. Check the time on your phone, and enter the newest code", "code")
    user.two_factor_since = datetime.now(timezone.utc)
    user.session_token = new_session_token()
    db.session.flush()


def turn_off(user: User, password: str) -> None:
    if not is_on(user):
        raise RuleBroken("Two-factor sign-in is not on")
    if not verify_password(user.password_hash, password or ""):
        raise RuleBroken("Your password is not right", "password")
    if required_for(user):
        raise RuleBroken(
            "Your consortium requires two-factor sign-in for administrators and leads: it cannot be turned off",
            "password",
        )
    _forget(user)


def reset(user: User, by: User) -> None:
    """An administrator turns it off for someone who lost their phone; they set it up again."""
    if user.id == by.id:
        raise RuleBroken("Turn off your own two-factor sign-in from your account page")
    if not is_on(user) and user.totp_secret is None:
        raise RuleBroken(f"{user.email} does not use two-factor sign-in")
    _forget(user)
    user.session_token = new_session_token()
    db.session.flush()


def _forget(user: User) -> None:
    user.totp_secret = None
    user.totp_last_step = None
    user.two_factor_since = None
    db.session.flush()


def set_required(consortium: Consortium, required: bool) -> None:
    consortium.two_factor_required = bool(required)
    db.session.flush()
