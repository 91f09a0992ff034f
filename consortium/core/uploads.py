"""Files uploaded for an import, kept until the person confirms or cancels the preview, and
for 24 hours at most.

Kept in the database, not on a worker's disk, so the confirming request may land on any worker.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String, delete
from sqlalchemy.orm import Mapped, mapped_column

from consortium.core.extensions import db
from consortium.core.inputs import strip_control_characters
from consortium.core.models import utcnow

KEEP_FOR = timedelta(days=1)
FILENAME_LENGTH = 255


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


def short_name(filename: str) -> str:
    """The file name cut to fit its column, keeping a short extension such as ".xlsx"."""
    if len(filename) <= FILENAME_LENGTH:
        return filename
    stem, dot, extension = filename.rpartition(".")
    if not dot or not stem or len(extension) > 10:
        return filename[:FILENAME_LENGTH]
    return stem[: FILENAME_LENGTH - len(extension) - 1] + "." + extension


def forget_expired() -> int:
    """Every upload older than a day is gone, whoever made it; returns how many."""
    expired = (
        delete(Upload).where(Upload.created_at < utcnow() - KEEP_FOR).execution_options(synchronize_session="fetch")
    )
    return db.session.execute(expired).rowcount


def is_expired(upload: Upload) -> bool:
    created = upload.created_at if upload.created_at.tzinfo else upload.created_at.replace(tzinfo=timezone.utc)
    return created < utcnow() - KEEP_FOR


def keep(user, kind: str, filename: str, content: bytes) -> Upload:
    """Store an upload for its preview; forget every upload older than a day."""
    filename = short_name(strip_control_characters(filename))
    forget_expired()
    upload = Upload(
        user_id=user.id, kind=kind, filename=filename, sha256=hashlib.sha256(content).hexdigest(), content=content
    )
    db.session.add(upload)
    db.session.flush()
    return upload


def discard(upload: Upload) -> None:
    """A previewed file no longer kept: imported, cancelled, or too old."""
    db.session.delete(upload)
    db.session.flush()
