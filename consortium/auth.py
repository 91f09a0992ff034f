"""Signing in and out, and changing one's own password."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from consortium import audit, security, services
from consortium.access import allowed, public
from consortium.extensions import db, login_manager
from consortium.forms import ChangePasswordForm, SignInForm, show_error
from consortium.models import ROLES, User

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to continue"
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    # The cookie carries the session token, not the id: rotating the token ends the session.
    return db.session.scalar(select(User).where(User.session_token == session_token, User.active.is_(True)))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never send someone on to another site after signing in."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("core.home")


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = SignInForm()
    if form.validate_on_submit():
        if security.throttled(form.email.data):
            form.email.errors.append("Too many attempts to sign in. Wait a minute, then try again.")
            return render_template("consortium/sign_in.html", form=form), 429
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            session.clear()  # a fresh session at sign-in, so one planted earlier is worth nothing
            login_user(user)
            security.start_session()
            audit.set_actor(user.id, user.email)
            audit.record(db.session, "sign-in", "User", str(user.id), {"address": request.remote_addr})
            security.clear_failures(form.email.data)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        audit.set_actor(None, "anonymous")
        audit.record(db.session, "sign-in failed", "User", None,
                     {"email": (form.email.data or "").strip().lower()[:254], "address": request.remote_addr})
        security.record_failure(form.email.data)
        db.session.commit()
        form.email.errors.append("Enter a correct email address and password")
        return render_template("consortium/sign_in.html", form=form), 400
    return render_template("consortium/sign_in.html", form=form), 400 if form.errors else 200


@bp.post("/sign-out")
@allowed(*ROLES)
def sign_out():
    services.end_sessions(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out", "success")
    return redirect(url_for(".sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
@allowed(*ROLES)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.new_password.data)
        except services.RuleBroken as broken:
            show_error(form, broken, "new_password")
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # this session carries the new token
            flash("Your password has been changed. You have been signed out everywhere else.", "success")
            return redirect(url_for("core.home"))
    return render_template("consortium/change_password.html", form=form), 400 if form.errors else 200
