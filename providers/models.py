"""Provider organisations: the organisations that run homes (Ofsted's "Organisation which
owns the provider")."""

from __future__ import annotations

from sqlalchemy import String, true
from sqlalchemy.orm import Mapped, mapped_column

from consortium.audit import Audited
from consortium.extensions import db


class Provider(Audited, db.Model):
    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)

    @classmethod
    def visible_to(cls, user):
        # Provider quality is shared data: every commissioner sees every provider; a provider's
        # staff see their own organisation only.
        if user.role == "provider":
            return cls.id == user.provider_id
        return true()

    def __str__(self) -> str:
        return self.name
