"""Two leads edit the same contract from the same version of its form, each signed in on a
client of their own: the first save wins, the second is told the contract was changed by
someone else and shown what they typed, and nothing of the first is lost; after reloading, the
second can save on top of it. Both saves are in the audit trail, in order."""

import re

from sqlalchemy import select

from consortium.core.audit import AuditEvent
from consortium.core.extensions import db
from tests.conftest import sign_in
from tests.factories import ConsortiumFactory, ContractFactory, lead


def seen_version(page: str) -> str:
    """The version the form carries, as the browser would send it back."""
    return re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)


def settings(beds: int, version: str) -> dict:
    return {
        "beds": str(beds),
        "underuse_threshold_percent": "80",
        "underuse_window_nights": "28",
        "notice_days": "365",
        "version": version,
    }


def test_two_leads_saving_the_same_form_version_the_second_is_told_and_nothing_is_lost(app):
    consortium = ConsortiumFactory(ref="EMRF")
    block = ContractFactory(ref="EM-BLOCK", consortium=consortium, beds=10)
    first_lead, second_lead = lead(consortium, email="ann@example.test"), lead(consortium, email="bob@example.test")
    ann, bob = sign_in(app.test_client(), first_lead), sign_in(app.test_client(), second_lead)
    url = f"/contracts/{block.id}/settings"

    # Both open the form and see the same version.
    ann_version, bob_version = (
        seen_version(ann.get(url).get_data(as_text=True)),
        seen_version(bob.get(url).get_data(as_text=True)),
    )
    assert ann_version == bob_version

    assert ann.post(url, data=settings(8, ann_version)).status_code == 302
    stale = bob.post(url, data=settings(12, bob_version))
    page = stale.get_data(as_text=True)
    assert stale.status_code == 400
    assert "changed by someone else" in page
    assert 'value="12"' in page  # what Bob typed is still in the form, to enter again
    db.session.refresh(block)
    assert block.beds == 8  # Ann's save stands

    # Bob reloads, sees Ann's value and the new version, and saves on top of it.
    reloaded = bob.get(url).get_data(as_text=True)
    assert 'value="8"' in reloaded and seen_version(reloaded) != bob_version
    assert bob.post(url, data=settings(12, seen_version(reloaded))).status_code == 302
    db.session.refresh(block)
    assert block.beds == 12

    changes = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "Contract", AuditEvent.object_id == str(block.id), AuditEvent.action == "update"
        )
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.actor, e.before.get("beds"), e.after.get("beds")) for e in changes] == [
        ("ann@example.test", 10, 8),
        ("bob@example.test", 8, 12),
    ]
