"""The audit trail: who did what to which object, when, before and after.

Changes to `Audited` models are captured when the session flushes and written in the same
transaction, so a change and its record commit or roll back together. Imports record one
event for the whole batch instead (`import_batch`). The table is append-only: database
triggers refuse UPDATE and DELETE on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from flask import g, has_app_context
from sqlalchemy import (
    DDL,
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    cast,
    event,
    insert,
    inspect,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import False_, True_

from consortium.core.extensions import db


class Audited:
    """Mixin: changes to this model are written to the audit trail. `__audit_exclude__` is never
    written (secrets); `__audit_child_level__` is written but shown only to those who may see
    the object itself."""

    __audit_exclude__: frozenset[str] = frozenset()
    __audit_child_level__: frozenset[str] = frozenset()


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(timezone.utc), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(20))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(60))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (db.Index("ix_audit_events_object", "object_type", "object_id"),)

    @classmethod
    def visible_to(cls, user):
        """An event is seen by whoever may see, now, the object it is about (the same
        `visible_to` rules as the pages): so a lead sees what anyone did to their consortium's
        contracts and placements, and nothing of another consortium's, whoever did it. An event
        with no object that still exists (an import, a refusal, a deletion) is seen by the person
        who acted and, for a lead, by the other leads of their consortium. Administrators see
        every event; child-level values are withheld from them (`shown_values`)."""
        if user.role == "admin":
            return true()
        about_objects = [
            (cls.object_type == name) if ids is None else (cls.object_type == name) & cls.object_id.in_(ids)
            for name, ids in _visible_objects(user)
        ]
        by_colleagues = cls.user_id == user.id
        if user.role == "lead":
            users = db.metadata.tables["users"]
            by_colleagues = cls.user_id.in_(select(users.c.id).where(users.c.consortium_id == user.consortium_id))
        objectless = (
            cls.object_id.is_(None) | cls.object_type.not_in(list(_audited_models())) | (cls.action == "delete")
        )
        return or_(*about_objects, objectless & by_colleagues)

    @staticmethod
    def shown_values(events: list[AuditEvent], user) -> dict[int, tuple[dict | None, dict | None]]:
        """Each event's before and after as this user may read them: child-level fields
        (`__audit_child_level__`: a child's reference, age, needs, fee) of an object the user may
        not see are withheld. One query per model of such objects on the page."""
        hidden: dict[str, set[str]] = {}
        for name, model in _audited_models().items():
            fields = getattr(model, "__audit_child_level__", frozenset())
            ids = {e.object_id for e in events if e.object_type == name and e.object_id}
            if not fields or not ids:
                continue
            key = _single_key(model)
            visible = (
                set()
                if user.role == "admin" or key is None
                else {
                    str(i)
                    for i in db.session.scalars(select(key).where(key.in_(_as_keys(key, ids)), model.visible_to(user)))
                }
            )
            hidden[name] = ids - visible
        shown = {}
        for e in events:
            fields = getattr(_audited_models().get(e.object_type), "__audit_child_level__", frozenset())
            if e.object_id in hidden.get(e.object_type, ()):
                shown[e.id] = (_withheld(e.before, fields), _withheld(e.after, fields))
            else:
                shown[e.id] = (e.before, e.after)
        return shown

    @staticmethod
    def object_names(events: list[AuditEvent]) -> dict[tuple[str, str], str]:
        """A readable name for each object the page's events are about ("lee@example.test", "Derby",
        "EM-BLOCK-RES"), one query per model; objects without a name of their own, child-level
        ones among them, keep their type and id."""
        names = {}
        for name, model in _audited_models().items():
            ids = {e.object_id for e in events if e.object_type == name and e.object_id}
            key = _single_key(model)
            if not ids or key is None or "__str__" not in model.__dict__ or model.__audit_child_level__:
                continue
            for obj in db.session.scalars(select(model).where(key.in_(_as_keys(key, ids)))):
                names[(name, str(inspect(obj).identity[0]))] = str(obj)
        return names


WITHHELD = "(withheld)"


def _withheld(values: dict | None, fields: frozenset[str]) -> dict | None:
    if values is None:
        return None
    return {key: (WITHHELD if key in fields and value is not None else value) for key, value in values.items()}


_MODELS: dict[str, type] = {}


def _audited_models() -> dict[str, type]:
    """Every audited model by its name (as events name them), found from the mapped classes: the
    core knows no domain by import."""
    if not _MODELS:
        for mapper in db.Model.registry.mappers:
            model = mapper.class_
            if issubclass(model, Audited) and hasattr(model, "visible_to"):
                _MODELS[model.__name__] = model
    return _MODELS


def _single_key(model):
    keys = inspect(model).primary_key
    return keys[0] if len(keys) == 1 else None


def _as_keys(key, ids: set[str]) -> list:
    if isinstance(key.type, Integer):
        return [int(i) for i in ids if i.isdecimal() and len(i) <= 10]
    return list(ids)


def _visible_objects(user) -> list[tuple[str, object]]:
    """(model name, the ids of its rows the user may see, as events store them: text), with
    None for every row."""
    found = []
    for name, model in _audited_models().items():
        condition = model.visible_to(user)
        if isinstance(condition, False_):
            continue
        if isinstance(condition, True_):
            found.append((name, None))
            continue
        key = _single_key(model)
        if key is not None:
            found.append((name, select(cast(key, String)).where(condition).scalar_subquery()))
    return found


SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
]
POSTGRESQL_APPEND_ONLY = [
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$",
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
]
# Built by create_all (the SQLite test database); migrations carry their own copy.
for _statement in SQLITE_APPEND_ONLY:
    event.listen(AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRESQL_APPEND_ONLY:
    event.listen(AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))


def set_actor(user_id: int | None, actor: str) -> None:
    """Name who is acting for the rest of this request or command."""
    g.audit_actor = (user_id, actor)


def _actor() -> tuple[int | None, str]:
    if has_app_context():
        return g.get("audit_actor", (None, "system"))
    return (None, "system")


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return json.loads(json.dumps(value, default=str))


def _columns(obj: Audited) -> list[str]:
    return [attr.key for attr in inspect(type(obj)).column_attrs if attr.key not in type(obj).__audit_exclude__]


def _identity(obj: Audited) -> str:
    # Read from the columns: a new object has its key by now but no identity until after the flush.
    return "/".join(str(part) for part in inspect(type(obj)).primary_key_from_instance(obj))


def _changes(obj: Audited) -> tuple[dict, dict]:
    state = inspect(obj)
    before, after = {}, {}
    for key in _columns(obj):
        history = state.attrs[key].history
        if history.has_changes():
            before[key] = _plain(history.deleted[0]) if history.deleted else None
            after[key] = _plain(history.added[0]) if history.added else None
    return before, after


def capture_changes(session: Session, _flush_context) -> None:
    if session.info.get("audit_batch"):
        return
    user_id, actor = _actor()
    rows = []

    def row(obj, action, before, after):
        rows.append(
            {
                "occurred_at": datetime.now(timezone.utc),
                "user_id": user_id,
                "actor": actor,
                "action": action,
                "object_type": type(obj).__name__,
                "object_id": _identity(obj),
                "before": before,
                "after": after,
            }
        )

    for obj in session.new:
        if isinstance(obj, Audited):
            row(obj, "create", None, {key: _plain(getattr(obj, key)) for key in _columns(obj)})
    for obj in session.dirty:
        if isinstance(obj, Audited):
            before, after = _changes(obj)
            if after:
                row(obj, "update", before, after)
    for obj in session.deleted:
        if isinstance(obj, Audited):
            row(obj, "delete", {key: _plain(getattr(obj, key)) for key in _columns(obj)}, None)
    if rows:
        session.connection().execute(insert(AuditEvent), rows)


def record(session: Session, action: str, object_type: str, object_id: str | None, details: dict) -> None:
    """Write one event that is not a row change, such as an import of a whole file."""
    user_id, actor = _actor()
    session.add(
        AuditEvent(
            user_id=user_id,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            after=details,
        )
    )


def record_import(session: Session, object_type: str, table, result) -> None:
    """The one event an import writes: the file, its hash and what it changed."""
    record(
        session,
        "import",
        object_type,
        None,
        {
            "file": table.name,
            "sha256": table.sha256,
            "added": result.added,
            "updated": result.updated,
            "unchanged": result.unchanged,
            **result.details,
        },
    )


@contextmanager
def import_batch(session: Session):
    """Capture no per-row events inside: the importer records one event for the batch."""
    session.info["audit_batch"] = True
    try:
        yield
        session.flush()
    finally:
        session.info.pop("audit_batch", None)
