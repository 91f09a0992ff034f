"""The JSON API's conventions, for every domain's endpoints (docs/api.md).

A domain declares its endpoints with `endpoint(...)` on a blueprint from `blueprint(...)`,
beside its views, calling the same services as its forms. This module does the rest the same
way for all of them: the token (`Authorization: Bearer`, never in the address), the roles and
the scope, the throttle, the body read strictly against a pydantic model (unknown fields
refused, by name), one commit per request, `Idempotency-Key` on POST, and every error as
`application/problem+json` (RFC 9457) with the same words as the forms. Every endpoint is
recorded in `OPERATIONS`, which the OpenAPI document is written from.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Annotated, Any

from flask import Blueprint, Response, g, request, url_for
from flask_login import AnonymousUserMixin, current_user
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from consortium.core import audit, tokens, two_factor
from consortium.core.access import PUBLIC
from consortium.core.extensions import db
from consortium.core.models import utcnow
from consortium.core.services import RuleBroken

PREFIX = "/api/v1"
MAX_BODY = 1024 * 1024  # no placement, fee or return needs more than a megabyte of JSON
PAGE_SIZE, MAX_PAGE_SIZE = 50, 500
IDEMPOTENCY_HOURS = 24
PROBLEM = "application/problem+json"


class Schema(BaseModel):
    """A request or response body: camelCase names (as the national standard's JSON spells
    them), and a request with a field the schema does not have is refused, naming it."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


# A list's page size, as every list takes it.
Limit = Annotated[
    int,
    Field(ge=1, le=MAX_PAGE_SIZE, description=f"How many to a page: 1 to {MAX_PAGE_SIZE}, {PAGE_SIZE} if not given"),
]


class Money(Schema):
    """An amount: whole pence, and the pounds as people read them."""

    pence: int
    formatted: str


class Problem(Exception):
    """An answer that is an error, as RFC 9457 writes it."""

    def __init__(self, status: int, title: str, detail: str = "", errors=None, headers=None, **extra):
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> Response:
        body = {"type": "about:blank", "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        answer = Response(json.dumps(body), status=self.status, mimetype=PROBLEM)
        answer.headers.update(self.headers)
        return answer


def is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


# ---------------------------------------------------------------- who is asking


def authenticate() -> Response | None:
    """Before anything else in an API request: the token names the user, and no session cookie
    counts. A request without a token is anonymous (only the public document answers it)."""
    if not is_api_request():
        return None
    g._login_user = AnonymousUserMixin()  # Flask-Login's current user for this request: never the session's
    g.api_token = None
    request.max_content_length = MAX_BODY
    try:
        if {"token", "access_token", "api_key"} & set(request.args):
            raise Problem(400, "Send the token in the Authorization header", "A token in the address ends up in logs.")
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        scheme, _, secret = header.partition(" ")
        token = tokens.find(secret.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise Problem(
                401,
                "The token is not right",
                "Send a token that has not expired or been revoked, as Authorization: Bearer TOKEN.",
                headers={"WWW-Authenticate": 'Bearer realm="api"'},
            )
        if token.user.role in two_factor.ROLES_IT_CAN_BE_REQUIRED_OF and two_factor.required_for(token.user):
            if not two_factor.is_on(token.user):
                raise Problem(
                    403,
                    "Set up two-factor sign-in first",
                    "The consortium requires it of its leads: sign in and set it up, then the token works.",
                )
        now = utcnow()
        made = tokens.count_request(token, now)
        db.session.commit()  # the count stands whatever becomes of the request
        if made > tokens.REQUESTS_A_MINUTE:
            wait = tokens.seconds_to_next_minute(now)
            raise Problem(
                429,
                "Too many requests",
                f"A token may make {tokens.REQUESTS_A_MINUTE} requests a minute. Try again in {wait} seconds.",
                headers={"Retry-After": str(wait)},
            )
    except Problem as problem:
        return problem.response()
    g.api_token = token
    g._login_user = token.user
    audit.set_actor(token.user.id, f"{token.user.email} (API token “{token.name}”)"[:254])
    return None


# ---------------------------------------------------------------- endpoints


@dataclass
class Operation:
    """One endpoint, as the OpenAPI document describes it."""

    method: str
    rule: str
    endpoint: str
    summary: str
    roles: frozenset[str]
    scope: str | None
    body: type[Schema] | None
    response: type[Schema] | None
    status: int
    query: type[Schema] | None = None
    content_type: str = "application/json"
    tag: str = ""
    description: str = ""


OPERATIONS: list[Operation] = []


def blueprint(name: str, import_name: str) -> Blueprint:
    return Blueprint(name, import_name, url_prefix=PREFIX)


def endpoint(
    bp: Blueprint,
    method: str,
    rule: str,
    *,
    summary: str,
    roles: tuple[str, ...] = (),
    body: type[Schema] | None = None,
    query: type[Schema] | None = None,
    response: type[Schema] | None = None,
    status: int = 200,
    content_type: str = "application/json",
    description: str = "",
):
    """Declare an API endpoint. `roles`: who may use it (none: public, no token needed). A GET
    needs a `read` token; anything else a `write` one. The view gets `body=` (the parsed request)
    and `query=` (the parsed parameters) when declared, and returns a JSON-ready value, a
    `(value, status)` or `(value, status, headers)`, or a Response; services flush, and the
    request is committed here, once."""
    scope = None if not roles else ("read" if method == "GET" else "write")

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def run(*args, **kwargs):
            try:
                _check_access(roles, scope)
                if body is not None:
                    kwargs["body"] = _parsed(body)
                if query is not None:
                    kwargs["query"] = _parsed_query(query)
                return _answer(method, lambda: view(*args, **kwargs))
            except Problem as problem:
                db.session.rollback()
                if problem.status == 403:
                    _record_refusal()
                return problem.response()

        run.allowed_roles = frozenset(roles) if roles else PUBLIC
        bp.add_url_rule(rule, view.__name__, run, methods=[method])
        OPERATIONS.append(
            Operation(
                method,
                PREFIX + rule,
                f"{bp.name}.{view.__name__}",
                summary,
                frozenset(roles),
                scope,
                body,
                response,
                status,
                query,
                content_type,
                bp.name.removesuffix("_api"),
                description or (view.__doc__ or "").strip(),
            )
        )
        return run

    return decorate


def _record_refusal() -> None:
    """Refused access goes in the audit trail, as on the pages: who asked for what."""
    audit.record(
        db.session, "access refused", "Route", request.endpoint, {"path": request.path, "method": request.method}
    )
    db.session.commit()


def _check_access(roles, scope) -> None:
    if not roles:
        return
    if g.get("api_token") is None:
        raise Problem(
            401,
            "A token is needed",
            "Send a token as Authorization: Bearer TOKEN. Make one on Your account.",
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )
    if current_user.role not in roles:
        raise Problem(403, "Your role cannot do this", f"This is for {', '.join(sorted(roles))} accounts.")
    if scope == "write" and g.api_token.scope != "write":
        raise Problem(403, "This token can only read", "Make a token that can read and write to change anything.")


def _answer(method: str, call: Callable[[], Any]) -> Response:
    key = request.headers.get("Idempotency-Key") if method == "POST" else None
    fingerprint = hashlib.sha256(request.method.encode() + request.path.encode() + request.get_data()).hexdigest()
    if key is not None:
        if replay := _replay(key, fingerprint):
            return replay
    try:
        result = call()
    except RuleBroken as broken:
        db.session.rollback()
        raise Problem(422, "The change was refused", str(broken), errors=_refusal_errors(broken)) from None
    answer = _response(result)
    if key is not None and answer.status_code < 300:
        _remember(key, fingerprint, answer)
    db.session.commit()
    return answer


def _response(result) -> Response:
    if isinstance(result, Response):
        return result
    headers = {}
    status = 200
    if isinstance(result, tuple):
        result, status, *rest = result
        headers = rest[0] if rest else {}
    answer = Response(json.dumps(result, default=str, ensure_ascii=False), status=status, mimetype="application/json")
    answer.headers.update(headers)
    return answer


# ---------------------------------------------------------------- what the request says


def _parsed(schema: type[Schema]) -> Schema:
    if not request.is_json:
        raise Problem(415, "Send JSON", "The body must be JSON, sent as Content-Type: application/json.")
    try:
        return schema.model_validate_json(request.get_data() or b"")
    except ValidationError as invalid:
        raise _invalid(invalid, schema) from None


def _parsed_query(schema: type[Schema]) -> Schema:
    try:
        return schema.model_validate({name: value for name, value in request.args.items() if name != "cursor"})
    except ValidationError as invalid:
        raise _invalid(invalid, schema, "parameter") from None


def _invalid(invalid: ValidationError, schema: type[Schema], where: str = "pointer") -> Problem:
    errors = []
    for error in invalid.errors():
        path = [str(part) for part in error["loc"]]
        name = path[-1] if path else "body"
        if error["type"] == "json_invalid":
            errors.append({"detail": "The body is not valid JSON", where: ""})
            continue
        if error["type"] == "missing":
            detail = f"{name} is required"
        elif error["type"] == "extra_forbidden":
            detail = f"{name} is not a field of this request"
        else:
            detail = f"{name}: {error['msg']}"
        errors.append({"detail": detail, where: "/" + "/".join(path) if where == "pointer" else name})
    return Problem(422, "The request is not right", "; ".join(e["detail"] for e in errors), errors=errors)


# Fields as the forms and services name them, spelt as the API does.
FIELD_NAMES = {
    "weekly_fee": "weeklyFeePence",
    "effective_from": "effectiveFrom",
    "end_date": "endDate",
    "child_ref": "childRef",
    "home_urn": "homeUrn",
    "contract_ref": "contractRef",
    "fee_reason": "feeReason",
    "from": "firstNight",  # a contribution's form names its nights "from" and "until"
    "until": "lastNight",
    "weekly": "weeklyPence",
}


def _refusal_errors(broken: RuleBroken) -> list[dict]:
    if not broken.field:
        return []
    return [{"detail": str(broken), "pointer": "/" + FIELD_NAMES.get(broken.field, to_camel(broken.field))}]


# ---------------------------------------------------------------- lists, versions


def page(query, item: Callable[[Any], dict], key, size: int | None = None) -> dict:
    """A list as the API answers one: `{"items": [...], "next": url-or-null}`, in the order of
    `key` (a unique column), from the cursor the request carries."""
    rows, following = page_of(query, key, size)
    return {"items": [item(row) for row in rows], "next": following}


def page_of(query, key, size: int | None = None) -> tuple[list, str | None]:
    """A page's rows and the link to the next page (None on the last)."""
    size = min(max(size or PAGE_SIZE, 1), MAX_PAGE_SIZE)
    after = _cursor(request.args.get("cursor"), int if isinstance(key.type, Integer) else str)
    if after is not None:
        query = query.where(key > after)
    rows = db.session.scalars(query.order_by(key).limit(size + 1)).all()
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    arguments = {k: v for k, v in request.args.items() if k != "cursor"}
    cursor = base64.urlsafe_b64encode(json.dumps(getattr(rows[-1], key.key)).encode()).decode().rstrip("=")
    return rows, url_for(request.endpoint, **(request.view_args or {}), **arguments, cursor=cursor, _external=True)


def _cursor(cursor: str | None, kind: type):
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        value = None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise Problem(400, "The cursor is not right", "Use the next link of the list as it is.")
    return value


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(current: int) -> int:
    """The version an update was made against: the request's `If-Match` (one the record no longer
    has is refused with 412, saying the current one), else the current version."""
    sent = request.headers.get("If-Match")
    if sent is None or sent.strip() == "*":
        return current
    if sent.strip().removeprefix("W/") != etag(current):
        raise Problem(
            412,
            "Someone else changed this first",
            f"It is at version {current} now. Read it again, then make the change against that version.",
            currentVersion=current,
            headers={"ETag": etag(current)},
        )
    return current


def money(pence: int | None) -> Money | None:
    """An amount as the API gives one: integer pence, and the pounds as people read them."""
    if pence is None:
        return None
    return Money(pence=pence, formatted=f"-£{-pence / 100:,.2f}" if pence < 0 else f"£{pence / 100:,.2f}")


# ---------------------------------------------------------------- Idempotency-Key


class IdempotentRequest(db.Model):
    """A POST made with an Idempotency-Key, and its answer: the same key again within a day
    gives the same answer and makes nothing new."""

    __tablename__ = "idempotent_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))  # of the method, path and body
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    __table_args__ = (UniqueConstraint("user_id", "key"),)

    @classmethod
    def visible_to(cls, user):
        return cls.user_id == user.id


def _replay(key: str, fingerprint: str) -> Response | None:
    if not key or len(key) > 200:
        raise Problem(400, "The Idempotency-Key is not right", "Send a key of 1 to 200 characters, like a UUID.")
    since = utcnow() - timedelta(hours=IDEMPOTENCY_HOURS)
    db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at < since))
    earlier = db.session.scalar(
        select(IdempotentRequest).where(IdempotentRequest.user_id == current_user.id, IdempotentRequest.key == key)
    )
    if earlier is None:
        return None
    if earlier.fingerprint != fingerprint:
        raise Problem(
            422,
            "The Idempotency-Key was used for another request",
            "Use a new key for a new request: this one was sent with another body.",
        )
    answer = Response(earlier.body, status=earlier.status, mimetype="application/json")
    answer.headers.update(json.loads(earlier.headers))
    answer.headers["Idempotent-Replayed"] = "true"
    return answer


def _remember(key: str, fingerprint: str, answer: Response) -> None:
    kept = {name: value for name, value in answer.headers.items() if name in ("Location", "ETag")}
    db.session.add(
        IdempotentRequest(
            user_id=current_user.id,
            key=key,
            fingerprint=fingerprint,
            status=answer.status_code,
            body=answer.get_data(as_text=True),
            headers=json.dumps(kept),
        )
    )
    db.session.flush()
