"""A consortium to refer within (DESIGN §4a's tests): a 2-bed block and a framework with three
providers, and the helpers that open referrals and make offers in it."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from consortium.core.extensions import db
from contracts.referrals import services
from contracts.referrals.models import Referral
from tests.factories import (
    AdmissionFactory,
    AuthorityFactory,
    BlockPriceFactory,
    ConsortiumFactory,
    ContractFactory,
    HomeFactory,
    InspectionFactory,
    JudgementFactory,
    LotFactory,
    PriceFactory,
    ProviderFactory,
    provider_user,
)

OPENED = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
TODAY = OPENED.date()


def judged(home, name, rank):
    InspectionFactory(home=home, inspection_date=date(2025, 5, 1), judgement=JudgementFactory(name=name, rank=rank))


def build_world():
    """A consortium with a 2-bed block (home Good) and a framework: two Preferred providers
    (Outstanding and Good homes) and one Reserve (not yet inspected), at £4,000 a week standard."""
    nottingham = AuthorityFactory(
        code="E06000018", name="Nottingham", latitude=Decimal("52.9548"), longitude=Decimal("-1.1581")
    )
    derby = AuthorityFactory(code="E06000015", name="Derby", latitude=Decimal("52.9225"), longitude=Decimal("-1.4746"))
    consortium = ConsortiumFactory(ref="EMRF", lead=derby, members=[nottingham])
    block_provider = ProviderFactory(name="Block Homes Ltd")
    block_home = HomeFactory(provider=block_provider, local_authority="Derby")
    judged(block_home, "Good", 2)
    block = ContractFactory(
        ref="EM-BLOCK", consortium=consortium, provider=block_provider, beds=2, start_date=date(2025, 4, 1)
    )
    block.homes.append(block_home)
    BlockPriceFactory(contract=block, weekly_pence=350000, effective_from=date(2025, 4, 1))
    framework = ContractFactory(ref="EM-FW", kind="framework", consortium=consortium, start_date=date(2025, 4, 1))
    lot = LotFactory(contract=framework, name="Residential")
    homes = {}
    for name, tier, judgement in (
        ("One", "Preferred", ("Outstanding", 1)),
        ("Two", "Preferred", ("Good", 2)),
        ("Three", "Reserve", None),
    ):
        provider = ProviderFactory(name=f"Provider {name} Ltd")
        home = HomeFactory(provider=provider, local_authority="Nottingham")
        if judgement:
            judged(home, *judgement)
        admission = AdmissionFactory(lot=lot, provider=provider, tier=tier)
        PriceFactory(admission=admission, need_level="standard", weekly_pence=400000, effective_from=date(2025, 4, 1))
        provider_user(provider)
        homes[name] = home
    provider_user(block_provider)
    db.session.flush()
    return {
        "consortium": consortium,
        "nottingham": nottingham,
        "block": block,
        "block_home": block_home,
        "framework": framework,
        "homes": homes,
    }


def referral_for(world, needed_by=TODAY + timedelta(days=7), **values) -> Referral:
    defaults = {
        "child_ref": "NOT-0042",
        "age_in_years": 14,
        "needed_by": needed_by,
        "residential_suitability": "Preferred",
    }
    return services.new_draft(None, "E06000018", world["consortium"], **{**defaults, **values})


def opened(world, **values) -> Referral:
    referral = referral_for(world, **values)
    services.open_referral(referral, OPENED)
    return referral


def invitation_of(referral, provider):
    return next(i for i in referral.invitations if i.provider_id == provider.id)


def offer(invitation, home, core=400000, at=OPENED + timedelta(hours=1), **parts):
    values = services.OfferValues(
        home_urn=home.urn, start_date=TODAY + timedelta(days=7), need_level="standard", core_pence=core, **parts
    )
    return services.make_offer(invitation, None, values, at)
