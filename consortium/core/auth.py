"""Signing in and out (with a code from an authenticator app for those who turned two-factor
sign-in on), one's own account: password and two-factor sign-in."""

import hashlib
from datetime import datetime, timedelta, timezone
from functools import partial
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from consortium.core import audit, security, services, tokens, two_factor
from consortium.core.access import PUBLIC, allowed, public, scoped
from consortium.core.extensions import db, login_manager
from consortium.core.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ConfirmForm,
    SetUpTwoFactorForm,
    SignInForm,
    TokenForm,
    TurnOffTwoFactorForm,
    TwoFactorCodeForm,
    act,
    form_page,
    handle,
)
from consortium.core.inputs import control_character
from consortium.core.models import ROLES, User, utcnow

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to continue"
login_manager.login_message_category = "info"

# Between the password and the code, the signed session holds who is half signed in; it is no
# sign-in (no page but the code page treats it as one) and it lapses after five minutes.
PENDING = "two_factor_pending"
PENDING_LIFETIME = timedelta(minutes=5)
# What a user whose consortium requires two-factor sign-in may use before setting it up.
BEFORE_SET_UP = {"auth.set_up_two_factor", "auth.sign_out"}


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    # The cookie carries the session token, not the id: rotating the token ends the session.
    return db.session.scalar(select(User).where(User.session_token == session_token, User.active.is_(True)))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never send someone on to another site after signing in."""
    if target and not control_character(target) and "\\" not in target:
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
    if not form.validate_on_submit():
        return form_page("consortium/sign_in.html", form)
    if security.throttled(form.email.data):
        form.email.errors.append("Too many attempts to sign in. Wait a minute, then try again.")
        return render_template("consortium/sign_in.html", form=form), 429
    user = services.authenticate(form.email.data, form.password.data)
    if user is not None and two_factor.is_on(user):
        _await_code(user, request.args.get("next"))
        return redirect(url_for(".sign_in_code"))
    if user is not None:
        return _complete_sign_in(user, request.args.get("next"))
    _record_failed_sign_in(form.email.data, None, {"email": (form.email.data or "").strip().lower()[:254]})
    form.email.errors.append("Enter a correct email address and password")
    return form_page("consortium/sign_in.html", form)


def _await_code(user: User, next_url: str | None) -> None:
    """Half signed in: the password was right, the code from the app is still to come."""
    session.clear()
    session[PENDING] = {
        "user_id": user.id,
        "token": _fingerprint(user),
        "at": datetime.now(timezone.utc).timestamp(),
        "next": next_url,
    }


def _record_failed_sign_in(email: str, user_id: int | None, detail: dict) -> None:
    """A failed attempt is audited and counts towards throttling, whatever else the request does."""
    audit.set_actor(None, "anonymous")
    audit.record(
        db.session, "sign-in failed", "User", user_id and str(user_id), detail | {"address": request.remote_addr}
    )
    security.record_failure(email)
    db.session.commit()


def _complete_sign_in(user: User, next_url: str | None):
    session.clear()  # a fresh session at sign-in, so one planted earlier is worth nothing
    login_user(user)
    security.start_session()
    user.last_signed_in_at = datetime.now(timezone.utc)
    audit.set_actor(user.id, user.email)
    audit.record(
        db.session,
        "sign-in",
        "User",
        str(user.id),
        {"address": request.remote_addr, "two_factor": two_factor.is_on(user)},
    )
    security.clear_failures(user.email)
    db.session.commit()
    return redirect(_safe_next(next_url))


def _fingerprint(user: User) -> str:
    # Ties the half sign-in to the user's current session token without putting the token in
    # the cookie: signing out everywhere or a new password while it waits cancels it.
    return hashlib.sha256(user.session_token.encode()).hexdigest()[:32]


def _pending_user() -> tuple[User | None, dict]:
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None, {}
    age = datetime.now(timezone.utc).timestamp() - float(pending.get("at") or 0)
    if not 0 <= age <= PENDING_LIFETIME.total_seconds():
        session.pop(PENDING, None)
        flash("You took too long to enter the code. Sign in again.", "info")
        return None, {}
    user = db.session.get(User, pending.get("user_id"))
    if user is None or not user.active or not two_factor.is_on(user) or _fingerprint(user) != pending.get("token"):
        session.pop(PENDING, None)
        return None, {}
    return user, pending


@bp.route("/sign-in/code", methods=["GET", "POST"])
@public
def sign_in_code():
    """The second step for a user with two-factor sign-in: the code from their app."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    user, pending = _pending_user()
    if user is None:
        return redirect(url_for(".sign_in"))
    form = TwoFactorCodeForm()
    if not form.validate_on_submit():
        return form_page("consortium/sign_in_code.html", form)
    if security.throttled(user.email):
        form.code.errors.append("Too many attempts to sign in. Wait a minute, then try again.")
        return render_template("consortium/sign_in_code.html", form=form), 429
    if two_factor.accept_code(user, form.code.data):
        return _complete_sign_in(user, pending.get("next"))
    _record_failed_sign_in(user.email, user.id, {"email": user.email, "reason": "wrong two-factor code"})
    form.code.errors.append("The code is not right. Enter the newest code your app shows: each code works once.")
    return form_page("consortium/sign_in_code.html", form)


@bp.before_app_request
def _set_up_two_factor_first():
    """Where a consortium requires two-factor sign-in, its leads (and administrators) without it
    set it up before they can use any other signed-in page."""
    if not current_user.is_authenticated or request.endpoint in BEFORE_SET_UP or g.get("api_token") is not None:
        return None
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if view is None or getattr(view, "allowed_roles", PUBLIC) == PUBLIC:
        return None
    if current_user.role not in two_factor.ROLES_IT_CAN_BE_REQUIRED_OF or two_factor.is_on(current_user):
        return None
    if two_factor.required_for(current_user):
        return redirect(url_for("auth.set_up_two_factor"))
    return None


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token):
    """Someone invited to a provider's account sets their own password through the e-mailed link."""
    try:
        invitation = services.open_invitation(token)
    except services.RuleBroken as broken:
        return _error_page(404, "This invitation cannot be used", str(broken))
    if current_user.is_authenticated:
        advice = f"You are signed in as {current_user.email}. Sign out, then open the link again."
        return _error_page(403, "You are signed in already", advice)
    form = AcceptInvitationForm(data={"name": invitation.name} if request.method == "GET" else None)

    def change():
        audit.set_actor(None, invitation.email)
        return services.accept_invitation(token, form.password.data, form.name.data or "")

    if handle(form, change, "password").saved:
        flash("Your account is ready. Sign in with your email address and the password you chose.", "success")
        return redirect(url_for(".sign_in"))
    return form_page("consortium/accept_invitation.html", form, invitation=invitation)


def _error_page(code: int, title: str, advice: str):
    return render_template("consortium/error.html", code=code, title=title, advice=advice), code


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
    change = partial(services.change_password, current_user, form.current_password.data, form.new_password.data)
    if handle(form, change, "new_password").saved:
        login_user(current_user._get_current_object())  # this session carries the new token
        flash("Your password has been changed. You have been signed out everywhere else.", "success")
        return redirect(url_for(".account"))
    return form_page("consortium/change_password.html", form)


@bp.get("/account")
@allowed(*ROLES)
def account():
    return render_template(
        "consortium/account.html",
        two_factor_on=two_factor.is_on(current_user),
        two_factor_required=two_factor.required_for(current_user),
    )


@bp.route("/account/two-factor", methods=["GET", "POST"])
@allowed(*ROLES)
def set_up_two_factor():
    user = current_user._get_current_object()
    if two_factor.is_on(user):
        flash("Two-factor sign-in is already on", "info")
        return redirect(url_for(".account"))
    secret = two_factor.pending_secret(user)
    db.session.commit()  # the key made for this set-up stays the same until it is confirmed, whatever the code
    form = SetUpTwoFactorForm()
    if handle(form, lambda: two_factor.turn_on(user, form.code.data), "code").saved:
        login_user(user)  # this session carries the new token; the others have ended
        flash("Two-factor sign-in is on. You will need a code from your app each time you sign in.", "success")
        return redirect(url_for(".account"))
    uri = two_factor.provisioning_uri(user, secret)
    return form_page(
        "consortium/set_up_two_factor.html",
        form,
        grouped_key=two_factor.grouped(secret),
        uri=uri,
        qr=two_factor.qr_data_uri(uri),
        required=two_factor.required_for(user),
    )


@bp.route("/account/two-factor/turn-off", methods=["GET", "POST"])
@allowed(*ROLES)
def turn_off_two_factor():
    user = current_user._get_current_object()
    if not two_factor.is_on(user):
        return redirect(url_for(".account"))
    form = TurnOffTwoFactorForm()
    if handle(form, lambda: two_factor.turn_off(user, form.password.data), "password").saved:
        flash("Two-factor sign-in is off. You will sign in with your password alone.", "success")
        return redirect(url_for(".account"))
    return form_page("consortium/turn_off_two_factor.html", form)


# ---------------------------------------------------------------- API tokens


@bp.get("/account/tokens")
@allowed(*ROLES)
def api_tokens():
    """The user's API tokens: what each may do, until when, when last used; revoke any."""
    return render_template(
        "consortium/api_tokens.html", tokens=tokens.of_user(current_user), now=utcnow(), form=ConfirmForm()
    )


@bp.route("/account/tokens/new", methods=["GET", "POST"])
@allowed(*ROLES)
def new_api_token():
    form = TokenForm()
    change = partial(tokens.create, current_user, form.name.data, form.scope.data, form.days.data)
    if (done := handle(form, change, "name")).saved:
        token, secret = done.result
        return render_template("consortium/api_token_made.html", token=token, secret=secret)
    return form_page("consortium/api_token_new.html", form)


@bp.post("/account/tokens/<int:token_id>/revoke")
@allowed(*ROLES)
def revoke_api_token(token_id):
    token = scoped(tokens.ApiToken).get_or_404(token_id)
    if act(lambda: tokens.revoke(token)).saved:
        flash(f"The token “{token.name}” is revoked: it no longer works", "success")
    return redirect(url_for(".api_tokens"))
