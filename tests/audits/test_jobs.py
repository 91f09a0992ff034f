"""Jobs run once per period: claims, leases, failures, retries; the manual run; the digest by SMTP."""

import socket
import time
from datetime import date, datetime, timedelta, timezone

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from audits import checks, jobs, notifications
from audits.models import Flag, JobRun
from consortium.core.extensions import db
from consortium.core.messages import OutboxMessage
from tests.conftest import sign_in
from tests.factories import (
    BlockPriceFactory,
    ContractFactory,
    PlacementFactory,
    lead,
    partner,
)

AS_OF = date(2024, 6, 30)


def underused():
    contract = ContractFactory(ref="EM-BLOCK", beds=10, start_date=date(2024, 4, 1))
    BlockPriceFactory(contract=contract, weekly_pence=350000)
    for _ in range(6):
        PlacementFactory(contract=contract, home=None, start_date=date(2024, 5, 1))
    return contract


def test_a_job_runs_once_per_period():
    underused()
    first = jobs.run_checks(AS_OF)
    assert (first.status, first.attempts, first.flags_opened) == ("succeeded", 1, 1)
    assert jobs.run_checks(AS_OF) is None  # a second scheduler, a restart, a manual run
    assert jobs.run_checks(AS_OF + timedelta(days=1)).status == "succeeded"  # the next day is its own run


def test_a_held_lease_keeps_others_out_and_a_stale_one_is_taken_over():
    held = jobs.claim("checks", "2024-06-30", "another-process", lease_seconds=300)
    assert held is not None and jobs.claim("checks", "2024-06-30", "me") is None
    # The other process died: its lease runs out and the next claimer takes the run over.
    db.session.execute(
        update(JobRun.__table__)
        .where(JobRun.id == held.id)
        .values(lease_expires_at=datetime.now(timezone.utc) - timedelta(seconds=1))
    )
    underused()
    run = jobs.run_checks(AS_OF)
    assert (run.status, run.attempts) == ("succeeded", 2)
    assert len(db.session.scalars(select(Flag)).all()) == 1


def test_a_check_that_raises_keeps_nothing_of_its_own_and_the_run_is_failed_then_retried(monkeypatch):
    underused()

    def broken(as_of):
        db.session.add(
            Flag(
                kind="quality_drop",
                subject="HALF",
                subject_key="HALF",
                severity="low",
                opened_on=as_of,
                detail="half-written",
            )
        )
        db.session.flush()
        raise RuntimeError("the data was not as expected")

    monkeypatch.setitem(checks.CHECKS, "quality_drop", broken)
    run = jobs.run_checks(AS_OF)
    assert run.status == "failed" and "quality_drop: RuntimeError: the data was not as expected" in run.error
    subjects = set(db.session.scalars(select(Flag.subject)))
    assert "HALF" not in subjects and "EM-BLOCK" in subjects  # the other checks' work is kept
    monkeypatch.undo()
    retried = jobs.run_checks(AS_OF)
    assert (retried.status, retried.attempts, retried.error) == ("succeeded", 2, None)
    assert len(db.session.scalars(select(Flag).where(Flag.subject == "EM-BLOCK")).all()) == 1


def test_a_job_whose_work_raises_keeps_nothing():
    def work():
        db.session.add(
            Flag(kind="quality_drop", subject="X", subject_key="X", severity="low", opened_on=AS_OF, detail="x")
        )
        db.session.flush()
        raise ConnectionError("lost the database")

    run = jobs.run_job("checks", "2024-06-30", work)
    assert run.status == "failed" and "ConnectionError: lost the database" in run.error
    assert db.session.scalar(select(Flag.id)) is None


def test_the_manual_run_goes_through_the_same_guard(runner):
    underused()
    db.session.commit()
    first = runner.invoke(args=["audits", "run", "--as-of", "2024-06-30"])
    assert first.exit_code == 0 and "EM-BLOCK" in first.stdout
    again = runner.invoke(args=["audits", "run", "--as-of", "2024-06-30"])
    assert "already run" in again.stderr and "EM-BLOCK" in again.stdout
    assert db.session.scalar(select(JobRun.attempts).where(JobRun.job == "checks")) == 1
    bad = runner.invoke(args=["audits", "run", "--as-of", "30-06-2024"])
    assert bad.exit_code == 2 and "is not a date" in bad.output
    once = runner.invoke(args=["scheduler", "once", "checks", "--as-of", "2024-06-30"])
    assert "already done or in hand elsewhere" in once.output


def test_job_history_page(client):
    underused()
    jobs.run_checks(AS_OF)
    sign_in(client, lead())
    page = client.get("/jobs").get_data(as_text=True)
    assert "checks" in page and "2024-06-30" in page and "Succeeded" in page
    sign_in(client, partner())
    assert client.get("/jobs").status_code == 403


@pytest.fixture
def smtp_server():
    """A real SMTP server on this machine, keeping what it receives."""
    received = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:  # a free port on this machine
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


def test_the_digest_reaches_a_real_smtp_server(app, smtp_server):
    port, received = smtp_server
    contract = underused()
    checks.run(AS_OF)
    user = lead(contract.consortium, email="lee@example.test")
    lead(contract.consortium, email="quiet@example.test", wants_digest=False)
    partner(email="elsewhere@example.test")  # no flag concerns them
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        run = notifications.run_digest(AS_OF)
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    assert run.status == "succeeded"
    deadline = time.time() + 5
    while not received and time.time() < deadline:
        time.sleep(0.05)
    assert [envelope.rcpt_tos for envelope in received] == [["lee@example.test"]]
    body = received[0].content.decode()
    assert "1 new flag and 0 still open on 30 Jun 2024" in body and "Utilisation 60.0%" in body
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.user_id == user.id))
    assert message.sent_at is not None
    assert notifications.run_digest(AS_OF) is None  # once a day


def test_without_a_mail_server_the_digest_is_kept_in_the_service(client):
    contract = underused()
    checks.run(AS_OF)
    user = lead(contract.consortium)
    run = notifications.run_digest(AS_OF)
    assert run.status == "succeeded"
    sign_in(client, user)
    page = client.get("/messages").get_data(as_text=True)
    assert "kept here" in page and "Utilisation 60.0%" in page
    client.post("/messages/digest")
    db.session.refresh(user)
    assert user.wants_digest is False


def test_an_unreachable_mail_server_fails_the_run_and_keeps_the_message(app):
    contract = underused()
    checks.run(AS_OF)
    lead(contract.consortium)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1)
    try:
        run = notifications.run_digest(AS_OF)
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    assert run.status == "failed" and "mail server 127.0.0.1:1" in run.error
    assert db.session.scalar(select(OutboxMessage.sent_at)) is None


def test_the_scheduler_runs_the_checks_at_two_the_digest_at_seven_and_referrals_every_five_minutes(app):
    from audits import scheduler

    built = scheduler.build(app)
    triggers = {job.id: job.trigger for job in built.get_jobs()}
    assert set(triggers) == {"checks", "digest", "referrals"}
    assert {f.name: str(f) for f in triggers["referrals"].fields}["minute"] == "*/5"
    for job_id, hour in (("checks", 2), ("digest", 7)):
        trigger = triggers[job_id]
        assert str(trigger.timezone) == "Europe/London"
        assert {f.name: str(f) for f in trigger.fields}["hour"] == str(hour)
        assert {f.name: str(f) for f in trigger.fields}["minute"] == "0"


def test_when_the_database_is_down_the_job_is_retried_later(tmp_path):
    from audits import scheduler
    from config import Testing
    from consortium.app import create_app

    class Down(Testing):
        SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://postgres@127.0.0.1:1/nothing"  # nothing listens there

    unreachable = create_app(Down)
    original = db.session
    db.session = db._make_scoped_session({})  # the unreachable app's own sessions
    try:
        built = scheduler.build(unreachable)
        scheduler._attempt(unreachable, built, "checks")
        retry = built.get_job("retry-checks")
        assert retry is not None and retry.args[2] == "checks"
    finally:
        db.session = original
