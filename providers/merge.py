"""Renamed providers: two records of one organisation become one (DESIGN §2, Provider).

Everything that refers to a provider (homes, admissions, contracts, returns, accounts, flags,
aliases) is found from the schema's foreign keys, so the domains above need not be named here."""

from __future__ import annotations

from sqlalchemy import (
    UniqueConstraint,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import aliased

from consortium.core import audit
from consortium.core.extensions import db
from consortium.core.services import RuleBroken
from providers.models import Provider, ProviderAlias

# What a clash means, in words, for the tables a merge could break a uniqueness rule of.
CLASHES = {
    "admissions": "admissions to the same lot",
    "monitoring_returns": "returns for the same contract and quarter",
    "return_obligations": "returns owed for the same contract, quarter and home",
}


def _referring_columns():
    for table in db.Model.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name == "providers" and key.column.name == "id":
                yield table, key.parent


def _clashes(keep_id: int, other_id: int) -> list[str]:
    """The uniqueness rules the merge would break: rows of both providers alike in every other
    column of a unique constraint."""
    found = []
    for table, column in _referring_columns():
        for constraint in table.constraints:
            columns = list(constraint.columns) if isinstance(constraint, UniqueConstraint) else []
            if column not in columns:
                continue
            mine, theirs = table.alias(), table.alias()
            alike = [mine.c[c.name] == theirs.c[c.name] for c in columns if c is not column]
            clash = exists().where(mine.c[column.name] == keep_id, theirs.c[column.name] == other_id, and_(*alike))
            if db.session.scalar(select(clash)):
                found.append(CLASHES.get(table.name, table.name.replace("_", " ")))
    return found


def merge(keep: Provider, other: Provider) -> dict[str, int]:
    """A rename: `other` becomes one with `keep`, its name one of `keep`'s aliases; one audit
    event. Returns how many rows of each table now refer to `keep` instead."""
    if keep.id == other.id:
        raise RuleBroken("Choose another provider: a provider cannot be merged with itself", "other")
    clashes = _clashes(keep.id, other.id)
    if clashes:
        raise RuleBroken(
            f"{other.name} and {keep.name} cannot be merged: both have {' and '.join(clashes)}. "
            "Withdraw or remove one of each first",
            "other",
        )
    moved = {}
    for table, column in _referring_columns():
        result = db.session.execute(update(table).where(column == other.id).values({column.name: keep.id}))
        if result.rowcount:
            moved[table.name] = result.rowcount
    name = other.name
    db.session.execute(delete(Provider).where(Provider.id == other.id))
    db.session.execute(insert(ProviderAlias).values(provider_id=keep.id, name=name))
    audit.record(db.session, "merge", "Provider", str(keep.id), {"kept": keep.name, "alias": name, "moved": moved})
    db.session.flush()
    db.session.expire_all()  # the bulk statements bypassed the identity map
    return moved


def by_name(name: str) -> Provider:
    """The provider a name (or a former name) names, for the command line."""
    wanted = " ".join(name.split()).lower()
    found = db.session.scalar(select(Provider).where(func.lower(Provider.name) == wanted))
    if found is None:
        other = aliased(ProviderAlias)
        found = db.session.scalar(
            select(Provider).join(other, other.provider_id == Provider.id).where(func.lower(other.name) == wanted)
        )
    if found is None:
        raise RuleBroken(f"No provider is named {name!r}", "name")
    return found
