"""The referrals' 5-minute job: once per slot, all or nothing, nothing sent twice."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from audits import jobs
from consortium.core.extensions import db
from consortium.core.messages import OutboxMessage
from contracts.referrals import vacancies
from contracts.referrals.models import ReferralInvitation
from tests.referral_world import OPENED, opened


def messages():
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_slots_are_five_minutes():
    assert jobs.referrals_slot(datetime(2026, 12, 2, 10, 29, 59, tzinfo=timezone.utc)) == "2026-12-02T10:25Z"
    assert jobs.referrals_slot(datetime(2026, 12, 2, 10, 30, tzinfo=timezone.utc)) == "2026-12-02T10:30Z"


def test_the_job_runs_once_per_slot_and_invites_the_next_tier(world):
    referral = opened(world)
    at = OPENED + timedelta(hours=72, minutes=1)
    run = jobs.run_referrals(at)
    assert (run.period, run.status, run.flags_opened, run.flags_resolved) == ("2026-12-04T09:00Z", "succeeded", 1, 3)
    assert jobs.run_referrals(at + timedelta(minutes=2)) is None  # the same slot: a second scheduler
    db.session.refresh(referral)
    assert [i.stage for i in referral.invitations].count("Reserve") == 1


def test_a_run_killed_midway_keeps_nothing_and_the_rerun_sends_each_message_once(world, monkeypatch):
    referral = opened(world)
    before = messages()
    at = OPENED + timedelta(hours=72, minutes=1)

    def dies(_today):
        raise RuntimeError("the process was killed")

    monkeypatch.setattr(vacancies, "remind_and_lapse", dies)
    assert jobs.run_referrals(at).status == "failed"
    db.session.expire_all()
    # Nothing of the run was kept: the invitations still wait, the next tier was not asked.
    statuses = db.session.scalars(
        select(ReferralInvitation.status).where(ReferralInvitation.referral_id == referral.id)
    )
    assert set(statuses) == {"invited"} and messages() == before
    monkeypatch.undo()
    rerun = jobs.run_referrals(at)
    assert (rerun.status, rerun.attempts) == ("succeeded", 2)
    assert messages() == before + 1  # the Reserve provider's one member of staff, once
    jobs.run_referrals(at + timedelta(minutes=5))
    assert messages() == before + 1
