"""Error pages in the service's own style."""

from flask import current_app, render_template, request
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import Conflict, HTTPException, InternalServerError

from consortium.core import api, audit
from consortium.core.extensions import db

MESSAGES = {
    400: ("Sorry, there is a problem with the request", "Go back and try again."),
    403: ("You do not have permission to see this page", "If you think you should, ask your administrator."),
    404: ("Page not found", "If you typed the web address, check it is correct."),
    405: ("Sorry, that cannot be done here", "Go back and try again."),
    409: (
        "Someone else changed this at the same time",
        "Nothing you entered was saved. Go back, reload the page and try again.",
    ),
    413: ("The file is too large", "Files can be at most 10 MB. Split it and try again."),
    429: ("Too many attempts", "Wait a minute and try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. Nothing you entered was saved."),
}


def render_error(error: HTTPException):
    code = error.code or 500
    if code >= 500 or code == 409:
        db.session.rollback()  # nothing half-written survives a failed request
    if code == 403:
        _record_refusal()
    title, advice = MESSAGES.get(code, (error.name, error.description))
    if api.is_api_request():
        return _api_problem(code, error)
    return render_template("consortium/error.html", code=code, title=title, advice=advice), code


API_MESSAGES = {
    404: ("Not found", "There is nothing here that the token's user can see."),
    405: ("That cannot be done here", "See the API's document for what each path takes."),
    409: ("Someone else changed this at the same time", "Nothing was saved. Read it again and retry."),
    413: ("The body is too large", f"Send at most {api.MAX_BODY // 1024} KB."),
}


def _api_problem(code: int, error: HTTPException):
    title, detail = API_MESSAGES.get(code, (error.name, error.description or ""))
    headers = {"Allow": ", ".join(error.valid_methods)} if getattr(error, "valid_methods", None) else None
    return api.Problem(code, title, detail, headers=headers).response()


def _record_refusal() -> None:
    """Refused access goes in the audit trail: who asked for what."""
    db.session.rollback()
    if current_user.is_authenticated:
        audit.set_actor(current_user.id, current_user.email)
    audit.record(
        db.session, "access refused", "Route", request.endpoint, {"path": request.path, "method": request.method}
    )
    db.session.commit()


def render_conflict(error: StaleDataError):
    """Two people saved the same record at once: the later save is refused, never merged."""
    return render_error(Conflict())


def render_refused(error: Exception):
    """A value no form caught (too long, or with a control character): nothing is saved, and the
    person is told why instead of seeing a failure."""
    db.session.rollback()
    if api.is_api_request():
        return api.Problem(422, "The change was refused", f"{error}. Nothing was saved.").response()
    return render_template(
        "consortium/error.html",
        code=400,
        title="Sorry, that cannot be saved",
        advice=f"{error}. Nothing you entered was saved. Go back and try again.",
    ), 400


def render_unexpected(error: Exception):
    current_app.logger.exception("unhandled error", exc_info=error)
    return render_error(InternalServerError(original_exception=error))
