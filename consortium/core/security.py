"""Protections on every request: security headers, session lifetimes, sign-in throttling."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from flask import Flask, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import DateTime, Integer, String, delete, false, func, select
from sqlalchemy.orm import Mapped, mapped_column

from consortium.core.extensions import db

INACTIVITY = timedelta(minutes=30)
LIFETIME = timedelta(hours=12)
THROTTLE_WINDOW = timedelta(minutes=1)
THROTTLE_FAILURES = 5  # the sixth failure within a minute is refused


class SignInFailure(db.Model):
    """A failed sign-in, by account and by address: kept in the database so every worker sees it."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "email:" or "address:" and a SHA-256 of the value: fixed length, whatever was typed.
    key: Mapped[str] = mapped_column(String(300), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    @classmethod
    def visible_to(cls, user):
        return false()


def _key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()}"


def _keys(email: str) -> list[str]:
    return [_key("email", (email or "").strip().lower()), _key("address", request.remote_addr or "")]


def throttled(email: str) -> bool:
    since = datetime.now(timezone.utc) - THROTTLE_WINDOW
    failures = db.session.scalar(
        select(func.count())
        .where(SignInFailure.key.in_(_keys(email)), SignInFailure.at > since)
        .group_by(SignInFailure.key)
        .order_by(func.count().desc())
        .limit(1)
    )
    return (failures or 0) >= THROTTLE_FAILURES


def record_failure(email: str) -> None:
    now = datetime.now(timezone.utc)
    db.session.execute(delete(SignInFailure).where(SignInFailure.at < now - timedelta(hours=1)))
    db.session.add_all(SignInFailure(key=key, at=now) for key in _keys(email))


def clear_failures(email: str) -> None:
    db.session.execute(delete(SignInFailure).where(SignInFailure.key == _keys(email)[0]))


def start_session() -> None:
    """The clocks of a new session: its 12 hours and its 30 idle minutes start now."""
    session["signed_in_at"] = session["seen_at"] = datetime.now(timezone.utc).timestamp()


def _nonce() -> None:
    g.csp_nonce = secrets.token_urlsafe(16)


def _session_lifetimes():
    """End a session after 30 minutes without a request, or 12 hours after signing in. An API
    request has no session: its token stands for itself."""
    if g.get("api_token") is not None or not current_user.is_authenticated or request.endpoint == "static":
        return None
    now = datetime.now(timezone.utc).timestamp()
    started, seen = session.get("signed_in_at"), session.get("seen_at")
    if started is None or seen is None:
        session["signed_in_at"] = session["seen_at"] = now
        return None
    if now - seen > INACTIVITY.total_seconds() or now - started > LIFETIME.total_seconds():
        logout_user()
        session.clear()
        flash("You were signed out to keep the service safe. Sign in again to continue.", "info")
        return redirect(url_for("auth.sign_in", next=request.path))
    session["seen_at"] = now
    return None


def _headers(response):
    nonce = g.get("csp_nonce", "")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if current_user.is_authenticated and request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.before_request(_nonce)
    app.before_request(_session_lifetimes)
    app.after_request(_headers)
    app.context_processor(lambda: {"cspNonce": g.get("csp_nonce", "")})
