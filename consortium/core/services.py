"""The core's rules: importing authorities and consortia, memberships, user accounts.

Services flush and never commit: the request or command that calls them commits once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, timedelta

from sqlalchemy import String, Text, func, inspect, select
from sqlalchemy.orm import Session

from consortium.core import audit, messages
from consortium.core.access import scoped
from consortium.core.extensions import db
from consortium.core.inputs import text_problem
from consortium.core.models import (
    COFUNDER_KINDS,
    ROLES,
    Authority,
    Cofunder,
    Consortium,
    Invitation,
    Membership,
    MembershipRequest,
    User,
    new_session_token,
    utcnow,
)
from consortium.core.passwords import (
    dummy_verify,
    hash_password,
    password_problem,
    verify_password,
)
from consortium.core.tabular import (
    ImportResult,
    RowErrors,
    Table,
    parse_date,
    parse_decimal,
    too_long,
)

AUTHORITY_CODE = re.compile(r"^[ENSW]\d{8}$")
INVITATION_DAYS = 7  # an invitation's link works this long
CONSORTIUM_REF = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,19}$")


class RuleBroken(ValueError):
    """A change the rules refuse; the message is written for the person who asked."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------- what is never stored


class ValueRefused(RuleBroken):
    """Text a form or an import should already have refused: too long for its column, or with
    control characters in it."""


_TEXT_COLUMNS: dict[type, list[tuple[str, int | None, bool]]] = {}


def _text_columns(model: type) -> list[tuple[str, int | None, bool]]:
    """(attribute, length, multi-line) of each text column of a model, worked out once."""
    if model not in _TEXT_COLUMNS:
        _TEXT_COLUMNS[model] = [
            (attr.key, getattr(column.type, "length", None), isinstance(column.type, Text))
            for attr in inspect(model).column_attrs
            for column in attr.columns[:1]
            if isinstance(column.type, String)
        ]
    return _TEXT_COLUMNS[model]


def refuse_unstorable_text(session: Session, _flush_context, _instances) -> None:
    """The last guard, whatever the way in: no text longer than its column (SQLite would keep it;
    PostgreSQL would fail the request) and no control characters (a NUL breaks every export)."""
    for obj in (*session.new, *session.dirty):
        for key, length, multiline in _text_columns(type(obj)):
            value = obj.__dict__.get(key)
            if isinstance(value, str):
                problem = text_problem(key.replace("_", " ").capitalize(), value, length, multiline)
                if problem:
                    raise ValueRefused(problem, key)


# ---------------------------------------------------------------- authorities

AUTHORITY_COLUMNS = {"required": ["code", "name"], "optional": ["region", "latitude", "longitude"]}


def import_authorities(table: Table) -> ImportResult:
    errors = RowErrors()
    existing = {a.code: a for a in db.session.scalars(select(Authority))}
    seen: dict[str, int] = {}
    parsed = []
    for row in table.rows:
        code = row["code"].upper()
        if not AUTHORITY_CODE.match(code):
            errors.add(row.line, f"code {row['code']!r} is not an ONS GSS code like E06000018")
            continue
        if code in seen:
            errors.add(row.line, f"authority {code} appears again (first on line {seen[code]})")
            continue
        seen[code] = row.line
        if not row["name"]:
            errors.add(row.line, "name is empty")
            continue
        values = {"code": code, "name": row["name"], "region": row["region"]}
        if overlong := too_long(Authority, values):
            errors.add(row.line, "; ".join(overlong))
            continue
        try:
            for axis, limit in (("latitude", 90), ("longitude", 180)):
                values[axis] = parse_decimal(row[axis], axis) if row[axis] else None
                if values[axis] is not None and abs(values[axis]) > limit:
                    raise ValueError(f"{axis} {row[axis]} is out of range")
        except ValueError as error:
            errors.add(row.line, str(error))
            continue
        parsed.append(values)
    errors.raise_if_any()

    result = ImportResult()
    with audit.import_batch(db.session):
        for values in parsed:
            authority = existing.get(values["code"])
            if authority is None:
                db.session.add(Authority(**values))
                result.added += 1
            elif _assign_changes(authority, values):
                result.updated += 1
            else:
                result.unchanged += 1
    audit.record_import(db.session, "Authority", table, result)
    return result


COFUNDER_COLUMNS = {"required": ["ref", "name", "kind"]}
COFUNDER_REF = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")


def cofunder_problem(ref: str, name: str, kind: str) -> str | None:
    """What is wrong with a co-funder as given, or None."""
    if not COFUNDER_REF.match(ref):
        return f"ref {ref!r} must be letters, digits and hyphens, at most 40 (like NHS-DEVON-ICB)"
    if not name.strip():
        return "name is empty"
    if len(name) > 200:
        return "name is longer than 200 characters"
    if kind not in COFUNDER_KINDS:
        return f"kind {kind!r} must be one of {', '.join(COFUNDER_KINDS)}"
    return None


def import_cofunders(table: Table) -> ImportResult:
    """Co-funders by ref: added, or their name and kind brought up to date."""
    errors = RowErrors()
    seen: dict[str, int] = {}
    parsed = []
    for row in table.rows:
        values = {"ref": row["ref"].upper(), "name": row["name"].strip(), "kind": row["kind"].strip().lower()}
        if problem := cofunder_problem(**values):
            errors.add(row.line, problem)
        elif values["ref"] in seen:
            errors.add(row.line, f"co-funder {values['ref']} appears again (first on line {seen[values['ref']]})")
        else:
            seen[values["ref"]] = row.line
            parsed.append(values)
    errors.raise_if_any()
    existing = {c.ref: c for c in db.session.scalars(select(Cofunder))}
    result = ImportResult()
    with audit.import_batch(db.session):
        for values in parsed:
            if (cofunder := existing.get(values["ref"])) is None:
                db.session.add(Cofunder(**values))
                result.added += 1
            elif _assign_changes(cofunder, values):
                result.updated += 1
            else:
                result.unchanged += 1
    audit.record_import(db.session, "Cofunder", table, result)
    return result


def managed_cofunders(user):
    """The co-funders the user may change."""
    return select(Cofunder).where(Cofunder.managed_by(user))


def save_cofunder(
    cofunder: Cofunder | None, ref: str, name: str, kind: str, consortium_id: int | None = None
) -> Cofunder:
    """Add a co-funder (cofunder None), managed by a consortium's leads (or, with no consortium,
    by administrators), or change one's name and kind (its ref stays)."""
    ref = cofunder.ref if cofunder else (ref or "").strip().upper()
    if problem := cofunder_problem(ref, name or "", kind or ""):
        field = problem.split(" ", 1)[0]
        raise RuleBroken(problem[0].upper() + problem[1:], field if field in ("ref", "name", "kind") else None)
    if cofunder is None:
        if db.session.scalar(select(Cofunder.id).where(Cofunder.ref == ref)):
            raise RuleBroken(f"There is already a co-funder {ref}", "ref")
        cofunder = Cofunder(ref=ref, consortium_id=consortium_id)
        db.session.add(cofunder)
    cofunder.name, cofunder.kind = name.strip(), kind
    db.session.flush()
    return cofunder


def _assign_changes(obj, values: dict) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


# ---------------------------------------------------------------- consortia

CONSORTIUM_COLUMNS = {"required": ["ref", "name", "lead_code", "member_codes"], "optional": ["joined"]}


def import_consortia(table: Table, today: date | None = None) -> ImportResult:
    """Consortia with their members. A member already current is left as it is; members missing
    from the file are not ended (ending a membership is a decision made on the consortium page)."""
    today = today or date.today()
    errors = RowErrors()
    known_codes = set(db.session.scalars(select(Authority.code)))
    seen: dict[str, int] = {}
    parsed = []
    for row in table.rows:
        ref = row["ref"].upper()
        problems = []
        if not CONSORTIUM_REF.match(ref):
            problems.append(f"ref {row['ref']!r} must be up to 20 capital letters, digits or dashes")
        elif ref in seen:
            problems.append(f"consortium {ref} appears again (first on line {seen[ref]})")
        if not row["name"]:
            problems.append("name is empty")
        problems += too_long(Consortium, {"name": row["name"]})
        lead = row["lead_code"].upper()
        members = [code.strip().upper() for code in row["member_codes"].split(";") if code.strip()]
        unknown = [code for code in [lead, *members] if code not in known_codes]
        if unknown:
            problems.append(
                f"unknown authority code{'s' if len(set(unknown)) > 1 else ''}: {', '.join(dict.fromkeys(unknown))}"
            )
        if lead and lead not in members:
            problems.append(f"the lead authority {lead} is not among the members")
        if len(set(members)) != len(members):
            problems.append("an authority is listed twice among the members")
        joined = today
        if row["joined"]:
            try:
                joined = parse_date(row["joined"])
            except ValueError as error:
                problems.append(f"joined: {error}")
        if problems:
            errors.add(row.line, "; ".join(problems))
            continue
        seen[ref] = row.line
        parsed.append((ref, row["name"], lead, members, joined))
    errors.raise_if_any()

    result = ImportResult(details={"memberships_added": 0})
    with audit.import_batch(db.session):
        for ref, name, lead, members, joined in parsed:
            consortium = db.session.scalar(select(Consortium).where(Consortium.ref == ref))
            if consortium is None:
                consortium = Consortium(ref=ref, name=name, lead_code=lead)
                db.session.add(consortium)
                result.added += 1
            elif _assign_changes(consortium, {"name": name, "lead_code": lead}):
                result.updated += 1
            else:
                result.unchanged += 1
            db.session.flush()
            current = {m.authority_code for m in consortium.memberships if m.left is None or m.left >= joined}
            for code in members:
                if code not in current:
                    consortium.memberships.append(Membership(authority_code=code, joined=joined))
                    result.details["memberships_added"] += 1
    audit.record_import(db.session, "Consortium", table, result)
    return result


def authority_names(codes) -> dict[str, str]:
    """Authorities' names by code, for the codes given."""
    return dict(db.session.execute(select(Authority.code, Authority.name).where(Authority.code.in_(list(codes)))).all())


def authority_choices() -> list[tuple[str, str]]:
    """The authorities the signed-in user may filter by (members of the consortia they see), as
    (code, "Name (code)") for a select."""
    codes = scoped(Membership).select(Membership.authority_code)
    return [
        (code, f"{name} ({code})")
        for code, name in db.session.execute(
            select(Authority.code, Authority.name).where(Authority.code.in_(codes)).order_by(Authority.name)
        )
    ]


def all_authority_choices() -> list[tuple[str, str]]:
    """Every authority, as (code, "Name (code)") for a select: for adding a member."""
    return [(code, f"{name} ({code})") for code, name in db.session.execute(_authorities_by_name())]


def _authorities_by_name():
    return select(Authority.code, Authority.name).order_by(Authority.name)


def add_membership(consortium: Consortium, authority_code: str, joined: date, left: date | None = None) -> Membership:
    """A membership from `joined` (an administrator's act, or an accepted request)."""
    authority = _check_membership(consortium, authority_code, joined, left)
    membership = Membership(authority_code=authority.code, joined=joined, left=left)
    consortium.memberships.append(membership)
    db.session.flush()
    return membership


def _check_membership(consortium: Consortium, authority_code: str, joined: date, left: date | None) -> Authority:
    authority = db.session.get(Authority, authority_code)
    if authority is None:
        raise RuleBroken(f"There is no authority with code {authority_code}", "authority_code")
    if left is not None and left < joined:
        raise RuleBroken("The date left must be on or after the date joined", "left")
    for other in consortium.memberships:
        if other.authority_code == authority_code and _overlaps(other, joined, left):
            raise RuleBroken(
                f"{authority.name} is already a member from {other.joined:%-d %b %Y}"
                + (f" to {other.left:%-d %b %Y}" if other.left else ""),
                "authority_code",
            )
    return authority


def request_membership(
    consortium: Consortium, authority_code: str, joined: date, left: date | None, by: User, service_url: str
) -> MembershipRequest:
    """A lead asks an authority to join. Its officers are told at once; until one of them (or an
    administrator) accepts, the authority is not a member and sees nothing of the consortium."""
    authority = _check_membership(consortium, authority_code, joined, left)
    pending = db.session.scalar(
        select(MembershipRequest).where(
            MembershipRequest.consortium_id == consortium.id,
            MembershipRequest.authority_code == authority.code,
            MembershipRequest.status == "pending",
        )
    )
    if pending is not None:
        raise RuleBroken(f"{authority.name} has already been asked to join and has not answered yet", "authority_code")
    request = MembershipRequest(
        consortium=consortium, authority=authority, joined=joined, left=left, requested_by_id=by.id
    )
    db.session.add(request)
    db.session.flush()
    officers = db.session.scalars(
        select(User).where(User.authority_code == authority.code, User.active.is_(True))
    ).all()
    for officer in officers:
        messages.queue(
            "membership",
            f"request-{request.id}",
            f"{consortium.name} asks {authority.name} to join",
            f"{by.email} ({consortium.lead.name}, the lead authority of {consortium.name}) asks {authority.name} "
            f"to become a member from {joined:%-d %B %Y}"
            + (f" to {left:%-d %B %Y}" if left else "")
            + ".\n\nA member's officers record placements under the consortium's contracts, and the consortium's "
            "leads see those placements. Nothing is shared until you accept.\n\n"
            f"Accept or decline: {service_url}/membership-requests/{request.id}",
            user=officer,
        )
    return request


def decide_membership_request(request: MembershipRequest, decision: str, by: User) -> None:
    """Accept or decline (the authority's officers, or an administrator), or withdraw (the lead)."""
    if request.status != "pending":
        raise RuleBroken(f"This request has already been {request.status}")
    allowed = {"accept": ("partner", "admin"), "decline": ("partner", "admin"), "withdraw": ("lead", "admin")}[decision]
    if (
        by.role not in allowed
        or (by.role == "partner" and by.authority_code != request.authority_code)
        or (by.role == "lead" and by.consortium_id != request.consortium_id)
    ):
        raise RuleBroken(
            "Only the authority's own officers or an administrator can accept or decline; only the lead can withdraw"
        )
    if decision == "accept":
        request.membership_id = add_membership(
            request.consortium, request.authority_code, request.joined, request.left
        ).id
    request.status = {"accept": "accepted", "decline": "declined", "withdraw": "withdrawn"}[decision]
    request.decided_by_id, request.decided_at = by.id, utcnow()
    db.session.flush()


def _overlaps(membership: Membership, joined: date, left: date | None) -> bool:
    starts_before_other_ends = membership.left is None or joined <= membership.left
    ends_after_other_starts = left is None or left >= membership.joined
    return starts_before_other_ends and ends_after_other_starts


def end_membership(membership: Membership, left: date) -> None:
    if left < membership.joined:
        raise RuleBroken(f"The date left must be on or after the date joined ({membership.joined:%-d %b %Y})", "left")
    if membership.authority_code == membership.consortium.lead_code:
        raise RuleBroken("The lead authority must stay a member: make another member the lead first", "left")
    membership.left = left
    db.session.flush()


# ---------------------------------------------------------------- users


def provider_model():
    # The core names the providers' table only through the relationship, never by import.
    return User.provider.property.mapper.class_


def organisation_for(role: str, org: str | None):
    """The organisation a CLI caller names: a consortium ref (lead), an authority code
    (partner), a provider name (provider) or a co-funder's ref (cofunder)."""
    org = (org or "").strip()
    if role == "admin":
        return None
    if not org:
        raise RuleBroken(f"A {role} account needs an organisation (--org)", "org")
    if role == "lead":
        found = db.session.scalar(select(Consortium).where(Consortium.ref == org.upper()))
        kind = "consortium with ref"
    elif role == "partner":
        found = db.session.get(Authority, org.upper())
        kind = "authority with code"
    elif role == "cofunder":
        found = db.session.scalar(select(Cofunder).where(Cofunder.ref == org.upper()))
        kind = "co-funder with ref"
    else:
        provider = provider_model()
        found = db.session.scalar(select(provider).where(func.lower(provider.name) == org.lower()))
        kind = "provider named"
    if found is None:
        raise RuleBroken(f"There is no {kind} {org!r}", "org")
    return found


# The account form's field naming the organisation of each role.
ORGANISATION_FIELD = {
    "lead": "consortium_id",
    "partner": "authority_code",
    "provider": "provider_id",
    "cofunder": "cofunder_id",
}


def organisation_choices() -> dict[str, list[tuple[str, str]]]:
    """What a new account can belong to, by the account form's field: consortia (for a lead),
    authorities (for a partner), providers (for provider staff), co-funders (for their staff)."""
    provider = provider_model()
    consortia = db.session.execute(select(Consortium.id, Consortium.name, Consortium.ref).order_by(Consortium.name))
    providers = db.session.execute(select(provider.id, provider.name).order_by(provider.name))
    cofunders = db.session.execute(select(Cofunder.id, Cofunder.name).order_by(Cofunder.name))
    return {
        "consortium_id": [("", "Not a lead")] + [(str(id_), f"{name} ({ref})") for id_, name, ref in consortia],
        "authority_code": [("", "Not a partner")] + [tuple(row) for row in db.session.execute(_authorities_by_name())],
        "provider_id": [("", "Not provider staff")] + [(str(id_), name) for id_, name in providers],
        "cofunder_id": [("", "Not co-funder staff")] + [(str(id_), name) for id_, name in cofunders],
    }


def chosen_organisation(role: str, chosen: dict):
    """The organisation a new account's form chose for its role (`chosen`: the form's data by
    field, as `organisation_choices` names them), or None."""
    field = ORGANISATION_FIELD.get(role)
    key = chosen.get(field) if field else None
    if not key:
        return None
    model = {
        "consortium_id": Consortium,
        "authority_code": Authority,
        "provider_id": provider_model(),
        "cofunder_id": Cofunder,
    }[field]
    return db.session.get(model, key if field == "authority_code" else int(key))


def pending_requests() -> list[MembershipRequest]:
    """The requests to join a consortium that the signed-in partner's authority has not answered."""
    return db.session.scalars(
        scoped(MembershipRequest)
        .select()
        .where(MembershipRequest.status == "pending")
        .order_by(MembershipRequest.requested_at)
    ).all()


def service_counts() -> dict[str, int]:
    """The administrator's figures: authorities, accounts, and accounts switched off."""
    return {
        "authorities": db.session.scalar(select(func.count()).select_from(Authority)),
        "users": db.session.scalar(select(func.count()).select_from(User)),
        "inactive_users": db.session.scalar(select(func.count()).where(User.active.is_(False))),
    }


def create_user(email: str, role: str, password: str, organisation=None, name: str = "") -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise RuleBroken(f"Role must be one of {', '.join(ROLES)}", "role")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise RuleBroken(f"There is already an account for {email}", "email")
    problem = password_problem(password)
    if problem:
        raise RuleBroken(problem, "password")
    expected = {
        "admin": type(None),
        "lead": Consortium,
        "partner": Authority,
        "provider": provider_model(),
        "cofunder": Cofunder,
    }[role]
    if not isinstance(organisation, expected):
        raise RuleBroken(f"Choose the organisation of the {role} account", "organisation")
    user = User(email=email, name=name.strip(), role=role, password_hash=hash_password(password))
    if role == "lead":
        user.consortium = organisation
    elif role == "partner":
        user.authority = organisation
    elif role == "cofunder":
        user.cofunder = organisation
    elif role == "provider":
        user.provider = organisation
        user.account_manager = not _active_staff(organisation)  # a provider's first account manages the others
    db.session.add(user)
    db.session.flush()
    return user


def _active_staff(provider) -> list[User]:
    return db.session.scalars(select(User).where(User.provider_id == provider.id, User.active.is_(True))).all()


def invitation_refusal(user: User, provider, works_with: bool) -> str | None:
    """Why this user may not invite the provider's staff, or None. A provider's accounts are its
    own: its first comes from an administrator, or a lead whose consortium has a contract with
    it (`works_with`); the others from its own account manager. Nobody sets their password."""
    if user.role == "admin":
        return None
    if user.role == "provider":
        if user.provider_id == provider.id and user.account_manager:
            return None
        return "Only your organisation's account manager can invite colleagues"
    if user.role == "lead":
        if not works_with:
            return f"Your consortium has no contract with {provider.name}, so it cannot invite its staff"
        if _active_staff(provider):
            return f"{provider.name} already has accounts: its account manager invites its other staff"
        return None
    return (
        "Only an administrator, a lead with a contract with the provider, or its account manager can invite its staff"
    )


def invite(provider, email: str, name: str, by: User, works_with: bool, service_url: str) -> Invitation:
    """An invitation by e-mail, with a link through which the person sets their own password."""
    refusal = invitation_refusal(by, provider, works_with)
    if refusal:
        raise RuleBroken(refusal, "email")
    email = email.strip().lower()
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise RuleBroken(f"There is already an account for {email}", "email")
    now = utcnow()
    waiting = db.session.scalars(
        select(Invitation).where(func.lower(Invitation.email) == email, Invitation.accepted_at.is_(None))
    ).all()
    if any(i.is_open(now) for i in waiting):
        raise RuleBroken(f"{email} has already been invited and the link still works", "email")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=email,
        name=name.strip(),
        provider_id=provider.id,
        account_manager=not _active_staff(provider),
        token_hash=_token_hash(token),
        invited_by_id=by.id,
        consortium_id=by.consortium_id,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    db.session.add(invitation)
    db.session.flush()
    messages.queue(
        "invitation",
        f"invitation-{invitation.id}",
        f"You are invited to Manage placement contracts for {provider.name}",
        f"{by.email} has invited you to use Manage placement contracts for {provider.name}: its contracts, homes, "
        f"monitoring returns and flags.\n\nSet your password to start: {service_url}/invitations/{token}\n\n"
        f"The link works once, until {invitation.expires_at:%-d %B %Y at %H:%M} (UTC). If you were not expecting this, "
        "ignore it: no account is made until the link is used.",
        address=email,
    )
    return invitation


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_invitation(token: str) -> Invitation:
    """The invitation a link is for, if it still works; otherwise a refusal saying why."""
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token or "")))
    if invitation is None or invitation.accepted_at is not None:
        raise RuleBroken(
            "This link is not right, or has been used already. Ask whoever invited you for a new invitation."
        )
    if not invitation.is_open(utcnow()):
        raise RuleBroken("This invitation has expired. Ask whoever invited you for a new one.")
    return invitation


def accept_invitation(token: str, password: str, name: str) -> User:
    invitation = open_invitation(token)
    user = create_user(invitation.email, "provider", password, invitation.provider, name or invitation.name)
    user.account_manager = invitation.account_manager or not [
        u for u in _active_staff(invitation.provider) if u.id != user.id
    ]
    invitation.accepted_at, invitation.user_id = utcnow(), user.id
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """A new password, which also ends the user's other sessions."""
    problem = password_problem(password)
    if problem:
        raise RuleBroken(problem, "password")
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    db.session.flush()


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise RuleBroken("Your current password is not right", "current_password")
    if current == new:
        raise RuleBroken("Choose a password different from your current one", "new_password")
    if problem := password_problem(new):
        raise RuleBroken(problem, "new_password")
    set_password(user, new)


def end_sessions(user: User) -> None:
    user.session_token = new_session_token()
    db.session.flush()


def deactivate(user: User, by: User) -> None:
    if user.id == by.id:
        raise RuleBroken("You cannot deactivate your own account")
    user.active = False
    end_sessions(user)


def reactivate(user: User) -> None:
    user.active = True
    db.session.flush()


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (for any reason: callers show
    one message so as not to reveal which accounts exist)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        dummy_verify(password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    return user  # the sign-in view records the time once the user is signed in (after any code)
