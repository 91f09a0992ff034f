"""Who may use each route, and the one helper through which tenant data is queried.

Every view declares its roles with `@allowed(...)` (or `@public`); a request to a view with no
declaration is refused. Every query on tenant data goes through `scoped(Model)`, which asks the
model (`Model.visible_to(user)`) which rows the signed-in user may see; another tenant's object
is a 404, never a leak.
"""

from __future__ import annotations

from functools import wraps
from typing import NamedTuple

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy import Select, select
from werkzeug.routing import IntegerConverter

from consortium.core import audit
from consortium.core.extensions import db, login_manager
from consortium.core.inputs import MAX_INTEGER, control_character
from consortium.core.models import ROLES
from consortium.core.pagination import Page, paginate

PUBLIC = "public"


def allowed(*roles: str):
    """Only signed-in users with one of these roles may use the view."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"allowed() takes roles from {ROLES}, not {sorted(unknown) or 'nothing'}")

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            audit.set_actor(current_user.id, current_user.email)
            return view(*args, **kwargs)

        guarded.allowed_roles = frozenset(roles)
        return guarded

    return decorate


def public(view):
    """Anyone may use the view, signed in or not (the sign-in page, error pages)."""
    view.allowed_roles = PUBLIC
    return view


def refuse_undeclared_routes() -> None:
    """Before every request: a view that says nothing about who may use it is refused."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if view is not None and request.endpoint != "static" and not hasattr(view, "allowed_roles"):
        current_app.logger.error("route %s declares no roles; refused", request.endpoint)
        abort(403)


# A filter's value is a code, a reference, a date or a few words: never longer than this.
MAX_ARGUMENT_LENGTH = 500


def refuse_unsafe_arguments() -> None:
    """Before every request: a web address whose parameters hold control characters (a NUL byte
    breaks PostgreSQL's queries) or run far past any filter's length is a bad request."""
    for key, value in request.args.items(multi=True):
        if control_character(key) or control_character(value) or len(value) > MAX_ARGUMENT_LENGTH:
            abort(400)


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: an id too large for its column is simply not found (a 404),
    never a database error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INTEGER)
        super().__init__(map, *args, **kwargs)


class Scoped:
    """Rows of one model the current user may see."""

    def __init__(self, model, user):
        if not hasattr(model, "visible_to"):
            raise TypeError(f"{model.__name__} does not say who may see it (visible_to)")
        self.model = model
        self.condition = model.visible_to(user)

    def select(self, *entities) -> Select:
        return select(*(entities or (self.model,))).where(self.condition)

    def get_or_404(self, ident):
        (key,) = self.model.__mapper__.primary_key
        found = db.session.scalar(self.select().where(key == ident))
        if found is None:
            abort(404)
        return found

    def all(self, *order_by) -> list:
        return list(db.session.scalars(self.select().order_by(*order_by)))

    def paginate(self, *order_by, page: int | None = None) -> Page:
        return paginate(self.select().order_by(*order_by), page, scalars=True)


def scoped(model, user=None) -> Scoped:
    return Scoped(model, user if user is not None else current_user)


class Viewer(NamedTuple):
    """What every model's `visible_to` reads of a user: a statement scoped for one viewer serves
    every user with the same, so it can be built once and kept."""

    role: str
    consortium_id: int | None
    authority_code: str | None
    provider_id: int | None


def viewer(user=None) -> Viewer:
    user = user if user is not None else current_user
    return Viewer(user.role, user.consortium_id, user.authority_code, user.provider_id)


# Whether a consortium works with a provider (a contract, an admission or a placement) is the
# contracts layer's to say, but the providers' pages must ask it: the core names the question,
# and consortium.app wires in the answer (contracts.services.works_with) when it builds the app.
def answer_works_with(app, rule) -> None:
    app.extensions["consortium.works_with"] = rule


def lead_works_with(user, provider_id: int) -> bool:
    """Whether the user is a lead whose consortium works with the provider."""
    return user.role == "lead" and bool(
        current_app.extensions["consortium.works_with"](user.consortium_id, provider_id)
    )
