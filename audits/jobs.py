"""Scheduled jobs that run once per period, however many processes try.

A run is claimed by inserting its row (job, period): the unique key lets only one process in.
The claimer holds a lease it renews while working; a run whose lease went stale (its process
died) or that failed may be claimed again. The work and the run's success commit together, so a
process that dies mid-run leaves nothing half-done behind, and the next claimer does it all.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from audits import checks
from audits.models import Flag, JobRun
from consortium.core import hooks, uploads
from consortium.core.extensions import db
from consortium.core.messages import send_pending
from contracts.referrals import services as referral_services
from contracts.referrals import vacancies

log = logging.getLogger("audits.jobs")
LEASE_SECONDS = 300


@dataclass
class Outcome:
    opened: int = 0
    resolved: int = 0
    errors: list[str] = field(default_factory=list)


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def claim(job: str, period: str, owner: str, lease_seconds: int = LEASE_SECONDS) -> JobRun | None:
    """Take the run of `job` for `period`, or None if it is done or another process holds it."""
    now = _now()
    expires = now + timedelta(seconds=lease_seconds)
    savepoint = db.session.begin_nested()
    try:
        db.session.add(JobRun(job=job, period=period, owner=owner, lease_expires_at=expires, started_at=now))
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()
        taken = db.session.execute(
            update(JobRun.__table__)
            .where(
                JobRun.job == job,
                JobRun.period == period,
                or_(JobRun.status == "failed", and_(JobRun.status == "running", JobRun.lease_expires_at < now)),
            )
            .values(
                owner=owner,
                lease_expires_at=expires,
                status="running",
                attempts=JobRun.attempts + 1,
                error=None,
                started_at=now,
                finished_at=None,
            )
        )
        db.session.commit()
        if taken.rowcount != 1:
            return None
    else:
        savepoint.commit()
        db.session.commit()
    run = db.session.scalar(select(JobRun).where(JobRun.job == job, JobRun.period == period))
    db.session.refresh(run)
    return run


def _renew(run_id: int, owner: str, lease_seconds: int, stop: threading.Event) -> None:
    """Keep the lease fresh from a connection of its own while the run works."""
    while not stop.wait(lease_seconds / 3):
        try:
            with db.engine.begin() as connection:
                connection.execute(
                    update(JobRun.__table__)
                    .where(JobRun.id == run_id, JobRun.owner == owner)
                    .values(lease_expires_at=_now() + timedelta(seconds=lease_seconds))
                )
        except Exception:  # the run itself will notice a lost database; keep trying until stopped
            log.exception("could not renew the lease of job run %s", run_id)


def run_job(job: str, period: str, work: Callable[[], Outcome], lease_seconds: int = LEASE_SECONDS) -> JobRun | None:
    """Run `work` once for the period. Its changes and the run's outcome commit together; if it
    raises, nothing of it is kept and the run is recorded as failed, to be retried."""
    owner = owner_name()
    run = claim(job, period, owner, lease_seconds)
    if run is None:
        log.info("%s for %s is done or in hand elsewhere", job, period)
        return None
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(run.id, owner, lease_seconds, stop), daemon=True)
    renewer.start()
    try:
        outcome = work()
    except Exception as error:
        db.session.rollback()
        log.exception("%s for %s failed", job, period)
        outcome = Outcome(errors=[f"{type(error).__name__}: {error}"])
    finally:
        stop.set()
    run = db.session.get(JobRun, run.id)
    run.status = "failed" if outcome.errors else "succeeded"
    run.error = "; ".join(outcome.errors) or None
    run.flags_opened, run.flags_resolved, run.finished_at = outcome.opened, outcome.resolved, _now()
    db.session.commit()
    return run


def checks_work(as_of: date) -> Outcome:
    """Every check as of a date. A check that raises keeps nothing of its own; the others run.
    Uploads left waiting more than a day are forgotten too."""
    uploads.forget_expired()
    before = set(db.session.scalars(select(Flag.id).where(Flag.status != "resolved")))
    last_id = db.session.scalar(select(func.max(Flag.id))) or 0
    outcome = Outcome()
    for kind, check in checks.CHECKS.items():
        savepoint = db.session.begin_nested()
        try:
            check(as_of)
            db.session.flush()
        except Exception as error:
            savepoint.rollback()
            log.exception("check %s failed", kind)
            outcome.errors.append(f"{kind}: {type(error).__name__}: {error}")
        else:
            savepoint.commit()
    outcome.opened = db.session.scalar(select(func.count()).where(Flag.id > last_id))
    still_open = set(db.session.scalars(select(Flag.id).where(Flag.status != "resolved")))
    outcome.resolved = len(before - still_open)
    return outcome


def run_checks(as_of: date, lease_seconds: int = LEASE_SECONDS) -> JobRun | None:
    """The checks, then what higher layers do each night after them (the sufficiency
    forecasts), each its own job under the same guard."""
    run = run_job("checks", as_of.isoformat(), lambda: checks_work(as_of), lease_seconds)
    hooks.run("after_checks", as_of=as_of, lease_seconds=lease_seconds)
    return run


REFERRALS_SLOT_MINUTES = 5


def referrals_slot(at: datetime) -> str:
    """The 5-minute slot a moment falls in, as the run's period: 2026-12-02T10:25Z."""
    at = at.astimezone(timezone.utc)
    return at.replace(minute=at.minute - at.minute % REFERRALS_SLOT_MINUTES, second=0, microsecond=0).strftime(
        "%Y-%m-%dT%H:%MZ"
    )


def referrals_work(at: datetime) -> Outcome:
    """The referrals' clock (DESIGN §4a): deadlines, the next tier, lapsed offers, vacancies'
    reminders and lapses. Its messages go out once the run has committed (`run_referrals`)."""
    done = referral_services.tick(at)
    vacancies.remind_and_lapse(at.date())
    log.info("referrals at %s: %s", at.isoformat(timespec="minutes"), done)
    return Outcome(opened=done.invited, resolved=done.expired + done.lapsed)


def run_referrals(at: datetime | None = None, lease_seconds: int = LEASE_SECONDS) -> JobRun | None:
    """The 5-minute job, once per slot however many schedulers run. An invitation cannot wait for
    the daily digest: its e-mails are sent as soon as the run has committed; any not sent then
    (no mail server reachable) go with the next run."""
    at = at or _now()
    run = run_job("referrals", referrals_slot(at), lambda: referrals_work(at), lease_seconds)
    for error in send_pending():
        log.warning("message not sent: %s", error)
    db.session.commit()
    return run
