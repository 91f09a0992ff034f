"""Files uploaded for an import, kept until the person confirms the preview.

Kept in the database, not on a worker's disk, so the confirming request may land on any worker.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String, delete
from sqlalchemy.orm import Mapped, mapped_column

from consortium.extensions import db
from consortium.models import utcnow

KEEP_FOR = timedelta(days=1)


class Upload(db.Model):
    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @classmethod
    def visible_to(cls, user):
        return cls.user_id == user.id


def keep(user, kind: str, filename: str, content: bytes) -> Upload:
    """Store an upload for its preview; forget the user's uploads older than a day."""
    db.session.execute(delete(Upload).where(Upload.user_id == user.id, Upload.created_at < utcnow() - KEEP_FOR))
    upload = Upload(
        user_id=user.id, kind=kind, filename=filename, sha256=hashlib.sha256(content).hexdigest(), content=content
    )
    db.session.add(upload)
    db.session.flush()
    return upload
