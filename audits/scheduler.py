"""The scheduler process (`flask scheduler run`): APScheduler, never inside web workers.

All checks run daily at 02:00 and the digest at 07:00, Europe/London; the referrals' clock
(deadlines, the next tier, lapsed offers and vacancies) every 5 minutes. Each run goes through
`audits.jobs`, so two schedulers, a restart or a manual run never run a job twice for a day. A
failed run, or one that could not start because the database was down, is retried later; the
process writes what happens to its own log.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from logging.handlers import RotatingFileHandler
from pathlib import Path

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import OperationalError

from audits import jobs, notifications
from consortium.core.extensions import db

TIMEZONE = "Europe/London"
RETRY_MINUTES = 10
log = logging.getLogger("audits.scheduler")

JOBS = {
    "checks": lambda as_of, lease=jobs.LEASE_SECONDS: jobs.run_checks(as_of, lease),
    "digest": lambda as_of, lease=jobs.LEASE_SECONDS: notifications.run_digest(as_of, lease),
    # Every 5 minutes, for the slot it is now (the date is not its period).
    "referrals": lambda _as_of, lease=jobs.LEASE_SECONDS: jobs.run_referrals(None, lease),
}


def _attempt(app, scheduler: BlockingScheduler, name: str) -> None:
    """Run a job for today; if it fails or the database is down, try again in a while."""
    with app.app_context():
        try:
            run = JOBS[name](date.today())
            failed = run is not None and run.status == "failed"
        except OperationalError:
            db.session.rollback()
            log.exception("the database is unavailable: %s will be tried again in %s minutes", name, RETRY_MINUTES)
            failed = True
        finally:
            db.session.remove()
    if failed:
        scheduler.add_job(
            _attempt,
            "date",
            run_date=datetime.now(scheduler.timezone) + timedelta(minutes=RETRY_MINUTES),
            args=[app, scheduler, name],
            id=f"retry-{name}",
            replace_existing=True,
        )


def build(app) -> BlockingScheduler:
    """The scheduler with its two daily jobs and the referrals' 5-minute job, not yet started."""
    scheduler = BlockingScheduler(timezone=TIMEZONE)
    scheduler.add_job(
        _attempt,
        CronTrigger(hour=2, minute=0, timezone=TIMEZONE),
        args=[app, scheduler, "checks"],
        id="checks",
        coalesce=True,
        misfire_grace_time=6 * 3600,
    )
    scheduler.add_job(
        _attempt,
        CronTrigger(hour=7, minute=0, timezone=TIMEZONE),
        args=[app, scheduler, "digest"],
        id="digest",
        coalesce=True,
        misfire_grace_time=6 * 3600,
    )
    scheduler.add_job(
        _attempt,
        CronTrigger(minute="*/5", timezone=TIMEZONE),
        args=[app, scheduler, "referrals"],
        id="referrals",
        coalesce=True,
        misfire_grace_time=240,
    )
    return scheduler


def serve(app) -> None:
    logfile = Path(app.instance_path) / "scheduler.log"
    logfile.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(logfile, maxBytes=5_000_000, backupCount=3)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("audits", "apscheduler"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.INFO)
    scheduler = build(app)
    log.info(
        "scheduler started: checks at 02:00, digest at 07:00, referrals every 5 minutes (%s); log in %s",
        TIMEZONE,
        logfile,
    )
    scheduler.start()
