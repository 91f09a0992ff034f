"""Usage kept as running totals (`contracts.summaries`): placements open, started and active,
distances, paid nights and spend per group, read from `usage_series` and `usage_days`.

First worked by hand (DESIGN §4: nights from the start date up to, not including, the end date;
money in pence, rounded half up once); then who sees which series; then `usage_by` against a
count night by night over the placements read back from the database, and against the live
`usage.spend_and_nights`: for a varied set of placements, after each of a run of ORM changes,
after working everything out again from nothing, and after the placements import.
"""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select

from consortium.core.extensions import db
from consortium.core.tabular import read_table
from contracts import imports, usage
from contracts.models import Contract, Placement, PlacementFee, UsageDay, UsageSeries
from contracts.summaries import Usage, refresh_usage, usage_by
from tests.factories import (
    AuthorityFactory,
    ConsortiumFactory,
    ContractFactory,
    HomeFactory,
    PlacementFactory,
    PlacementFeeFactory,
    ProviderFactory,
    UserFactory,
    lead,
    partner,
)

AUTHORITY, TYPE = UsageSeries.authority_code, UsageSeries.placement_type
RES, EDU, SUPPORTED = "residential", "residential_education", "supported_accommodation"
APRIL, APRIL_LAST = date(2024, 4, 1), date(2024, 4, 30)


def place(contract, authority, start, end=None, fees=(), placement_type=RES, distance=None):
    """A placement and its fees, each (effective from, pence a week)."""
    placement = PlacementFactory(
        contract=contract,
        authority=authority,
        home=None,
        start_date=start,
        end_date=end,
        placement_type=placement_type,
        distance_miles=None if distance is None else Decimal(distance),
    )
    for effective_from, weekly_pence in fees:
        PlacementFeeFactory(placement=placement, effective_from=effective_from, weekly_pence=weekly_pence)
    return placement


def live(first, last, user, *by):
    """The live computation of spend and paid nights over the placements the user may see."""
    return usage.spend_and_nights(
        first, last, by=by or (Placement.authority_code, Placement.placement_type), condition=Placement.visible_to(user)
    )


# ---------------------------------------------------------------- worked by hand


def april():
    """One authority of one consortium, with placements around April 2024 (30 nights)."""
    consortium = ConsortiumFactory()
    authority = consortium.lead
    framework = ContractFactory(kind="framework", consortium=consortium)
    block = ContractFactory(kind="block", consortium=consortium)
    # p1: £700 a week (£100 a night) from 1 April, £1,400 (£200 a night) from 16 April; left
    # on 1 May, so its last night is 30 April. 20.0 miles: within 20.
    place(
        framework,
        authority,
        date(2024, 4, 1),
        date(2024, 5, 1),
        [(date(2024, 4, 1), 70000), (date(2024, 4, 16), 140000)],
        distance="20.0",
    )
    # p2: a block bed from 10 April, still open; its fee is never spend. 20.1 miles: not within.
    place(block, authority, date(2024, 4, 10), None, [(date(2024, 4, 10), 350000)], distance="20.1")
    # p3: spot, 25 March to 5 April at £350 a week (£50 a night); no distance recorded.
    place(None, authority, date(2024, 3, 25), date(2024, 4, 5), [(date(2024, 3, 25), 35000)])
    # p4: framework, 1 March to 1 April: left on the period's first day, so not in April at all.
    place(framework, authority, date(2024, 3, 1), date(2024, 4, 1), [(date(2024, 3, 1), 70000)], distance="3.0")
    # p5: framework from 30 April, the period's last day, at £100 a night; 0.5 miles.
    place(framework, authority, date(2024, 4, 30), None, [(date(2024, 4, 30), 70000)], distance="0.5")
    # p6: spot supported accommodation from 1 May at £70 a night, £80 a night from 1 January 2025.
    place(
        None,
        authority,
        date(2024, 5, 1),
        None,
        [(date(2024, 5, 1), 49000), (date(2025, 1, 1), 56000)],
        placement_type=SUPPORTED,
    )
    # p7: a block bed of another type from 1 April with a fee: counted, but never spend.
    place(block, authority, date(2024, 4, 1), None, [(date(2024, 4, 1), 420000)], placement_type=EDU)
    return authority.code, lead(consortium), partner(authority)


def test_april_worked_by_hand():
    code, lead_user, partner_user = april()
    # The partner sees all of the authority's placements, spot included.
    # Residential: open on 30 April p1 (left 1 May), p2, p5; started p1, p2, p5; active also p3
    # (p4 left on 1 April); distances known 20.0, 20.1, 0.5, within 20.0 and 0.5.
    # Paid: p1 15 nights x £100 + 15 x £200 (= 15 x 70000 + 15 x 140000 = 3,150,000 pence-nights),
    # p3 the 4 nights 1-4 April x £50 (4 x 35000 = 140,000), p5 1 night x £100 (70,000); p2 is a
    # block bed, never spend: 30 + 4 + 1 = 35 nights, 3,360,000 / 7 = 480,000 pence = £4,800.00.
    assert usage_by(APRIL, APRIL_LAST, AUTHORITY, TYPE, user=partner_user) == {
        (code, RES): Usage(open=3, started=3, active=4, known=3, within=2, paid_nights=35, spend_pence=480000),
        (code, EDU): Usage(open=1, started=1, active=1, known=0, within=0, paid_nights=0, spend_pence=0),
        # p6 (supported accommodation) starts in May: not active in April, left out.
    }
    # The lead sees the consortium's contracts only, not the spot p3: p1 (alone 3,150,000 / 7 =
    # £4,500.00) and p5, 31 nights, (3,150,000 + 70,000) / 7 = 460,000 pence.
    assert usage_by(APRIL, APRIL_LAST, AUTHORITY, TYPE, user=lead_user) == {
        (code, RES): Usage(open=3, started=3, active=3, known=3, within=2, paid_nights=31, spend_pence=460000),
        (code, EDU): Usage(open=1, started=1, active=1, known=0, within=0, paid_nights=0, spend_pence=0),
    }
    # The live computation agrees (it leaves out groups without spend).
    assert live(APRIL, APRIL_LAST, partner_user) == {(code, RES): (480000, 35)}
    assert live(APRIL, APRIL_LAST, lead_user) == {(code, RES): (460000, 31)}
    # By authority alone the two types add up; by nothing, one group keyed ().
    assert usage_by(APRIL, APRIL_LAST, AUTHORITY, user=lead_user) == {
        (code,): Usage(open=4, started=4, active=4, known=3, within=2, paid_nights=31, spend_pence=460000)
    }
    assert usage_by(APRIL, APRIL_LAST, user=partner_user) == {
        (): Usage(open=4, started=4, active=5, known=3, within=2, paid_nights=35, spend_pence=480000)
    }


def test_may_the_first_day_of_the_period_is_a_leaving_day():
    code, lead_user, partner_user = april()
    first, last = date(2024, 5, 1), date(2024, 5, 31)  # 31 nights
    # p1 left on 1 May: not active. p2 and p5 open all month; p5 31 nights x £100 = £3,100.
    # p6 started on 1 May: 31 nights x £70 = £2,170.00.
    assert usage_by(first, last, AUTHORITY, TYPE, user=partner_user) == {
        (code, RES): Usage(open=2, started=0, active=2, known=2, within=1, paid_nights=31, spend_pence=310000),
        (code, EDU): Usage(open=1, started=0, active=1, known=0, within=0, paid_nights=0, spend_pence=0),
        (code, SUPPORTED): Usage(open=1, started=1, active=1, known=0, within=0, paid_nights=31, spend_pence=217000),
    }
    assert live(first, last, partner_user) == {(code, RES): (310000, 31), (code, SUPPORTED): (217000, 31)}
    # The one night of 1 May: p1 is not there (it left that day).
    assert usage_by(first, first, TYPE, user=lead_user)[(RES,)] == Usage(
        open=2, started=0, active=2, known=2, within=1, paid_nights=1, spend_pence=10000
    )


def test_one_night_periods():
    code, lead_user, partner_user = april()
    # 16 April, the day p1's fee rose: p1 (£200) and p2 open; 1 night paid, £200.00.
    night = date(2024, 4, 16)
    assert usage_by(night, night, AUTHORITY, TYPE, user=lead_user)[(code, RES)] == Usage(
        open=2, started=0, active=2, known=2, within=1, paid_nights=1, spend_pence=20000
    )
    # 1 April: p1 (its first night, £100) and the spot p3 (£50) are there; p4 left that day.
    night = APRIL
    assert usage_by(night, night, AUTHORITY, TYPE, user=partner_user)[(code, RES)] == Usage(
        open=2, started=1, active=2, known=1, within=1, paid_nights=2, spend_pence=15000
    )
    # 31 March: p3 (£50) and p4 (£100, its last night; 3.0 miles).
    night = date(2024, 3, 31)
    assert usage_by(night, night, AUTHORITY, TYPE, user=partner_user) == {
        (code, RES): Usage(open=2, started=0, active=2, known=1, within=1, paid_nights=2, spend_pence=15000)
    }
    # 30 April, the last night of p1 and the first of p5: £200 + £100.
    night = APRIL_LAST
    assert usage_by(night, night, AUTHORITY, TYPE, user=lead_user)[(code, RES)] == Usage(
        open=3, started=1, active=3, known=3, within=2, paid_nights=2, spend_pence=30000
    )
    assert live(night, night, lead_user) == {(code, RES): (30000, 2)}


def test_periods_before_any_placement_and_in_the_future():
    code, lead_user, partner_user = april()
    # The first placement (p4) starts on 1 March 2024: nothing in January or February.
    for user in (lead_user, partner_user):
        assert usage_by(date(2024, 1, 1), date(2024, 1, 31), AUTHORITY, TYPE, user=user) == {}
        assert usage_by(date(2024, 2, 1), date(2024, 2, 29), user=user) == {}
        assert live(date(2024, 2, 1), date(2024, 2, 29), user) == {}
    # A week in January 2026: the placements still open are projected at their current fees:
    # p5 7 x £100, p6 7 x £80 (its fee from 1 January 2025); the blocks p2 and p7 are counted
    # but never spend.
    first, last = date(2026, 1, 1), date(2026, 1, 7)
    assert usage_by(first, last, AUTHORITY, TYPE, user=partner_user) == {
        (code, RES): Usage(open=2, started=0, active=2, known=2, within=1, paid_nights=7, spend_pence=70000),
        (code, EDU): Usage(open=1, started=0, active=1, known=0, within=0, paid_nights=0, spend_pence=0),
        (code, SUPPORTED): Usage(open=1, started=0, active=1, known=0, within=0, paid_nights=7, spend_pence=56000),
    }
    assert live(first, last, partner_user) == {(code, RES): (70000, 7), (code, SUPPORTED): (56000, 7)}


def test_spend_is_rounded_to_the_penny_once_per_group():
    consortium = ConsortiumFactory()
    authority = AuthorityFactory()
    code = authority.code
    framework = ContractFactory(kind="framework", consortium=consortium)
    june = date(2024, 6, 1)
    # Three placements at £1.00 a week each from 1 June: a night of each is 100 / 7 = 14.29 pence.
    place(None, authority, june, fees=[(june, 100)])  # spot, residential
    place(framework, authority, june, fees=[(june, 100)])  # the consortium's, residential: another series
    place(None, authority, june, fees=[(june, 100)], placement_type=SUPPORTED)
    user, lead_user = partner(authority), lead(consortium)
    # One night. Residential, over two series: 200 / 7 = 28.57 -> 29 (each rounded: 14 + 14 = 28).
    assert {k: (u.paid_nights, u.spend_pence) for k, u in usage_by(june, june, AUTHORITY, TYPE, user=user).items()} == {
        (code, RES): (2, 29),
        (code, SUPPORTED): (1, 14),
    }
    # The authority, over three series: 300 / 7 = 42.86 -> 43 (each rounded: 42).
    assert usage_by(june, june, AUTHORITY, user=user)[(code,)].spend_pence == 43
    assert usage_by(june, june, user=user)[()].spend_pence == 43
    assert live(june, june, user, Placement.authority_code) == {(code,): (43, 3)}
    # The lead sees the framework placement alone: 14.
    assert usage_by(june, june, AUTHORITY, user=lead_user)[(code,)].spend_pence == 14
    # Three nights of one placement: 300 / 7 = 42.86 -> 43 (each night rounded: 42); the two
    # residential placements: 600 / 7 = 85.71 -> 86.
    third = date(2024, 6, 3)
    assert {k: (u.paid_nights, u.spend_pence) for k, u in usage_by(june, third, TYPE, user=user).items()} == {
        (SUPPORTED,): (3, 43),
        (RES,): (6, 86),
    }
    assert live(june, third, user, Placement.placement_type) == {(SUPPORTED,): (43, 3), (RES,): (86, 6)}


def test_a_long_period_at_a_high_fee():
    consortium = ConsortiumFactory()
    framework = ContractFactory(kind="framework", consortium=consortium)
    code, user = consortium.lead.code, lead(consortium)
    place(framework, consortium.lead, date(2024, 1, 1), None, [(date(2024, 1, 1), 1500000)])  # £15,000 a week
    first, last = date(2024, 1, 1), date(2030, 12, 31)  # 366 + 365 + 365 + 365 + 366 + 365 + 365 = 2,557 nights
    # 2,557 x 1,500,000 = 3,835,500,000 pence-nights, more than a 32-bit integer holds; / 7 =
    # 547,928,571.43 -> £5,479,285.71.
    assert usage_by(first, last, AUTHORITY, user=user) == {
        (code,): Usage(open=1, started=1, active=1, known=0, within=0, paid_nights=2557, spend_pence=547928571)
    }
    assert live(first, last, user, Placement.authority_code) == {(code,): (547928571, 2557)}


# ---------------------------------------------------------------- who sees which series


def test_a_lead_sees_its_consortium_and_a_partner_its_authority():
    ours, theirs = ConsortiumFactory(), ConsortiumFactory()
    our_lead, their_lead = ours.lead, theirs.lead
    shared = AuthorityFactory()  # a member of both
    outsider = AuthorityFactory()  # of neither
    our_framework = ContractFactory(kind="framework", consortium=ours)
    their_framework = ContractFactory(kind="framework", consortium=theirs)
    their_block = ContractFactory(kind="block", consortium=theirs)
    start, fee = APRIL, [(APRIL, 70000)]  # £100 a night from 1 April 2024
    place(our_framework, our_lead, start, fees=fee)
    place(our_framework, shared, start, fees=fee)
    for _ in range(2):
        place(their_block, shared, start)
    place(their_framework, shared, start, fees=fee, placement_type=EDU)
    for _ in range(3):
        place(None, shared, start, fees=fee)
    place(their_framework, their_lead, start, fees=fee)
    place(None, outsider, start, fees=fee)
    first, last = APRIL, date(2024, 6, 30)  # a quarter: 30 + 31 + 30 = 91 nights

    def seen(user):
        return {
            key: (u.active, u.paid_nights, u.spend_pence)
            for key, u in usage_by(first, last, AUTHORITY, TYPE, user=user).items()
        }

    quarter = (1, 91, 91 * 10000)  # one placement for the quarter at £100 a night
    assert seen(lead(ours)) == {(our_lead.code, RES): quarter, (shared.code, RES): quarter}
    # Their lead: the two block placements (no spend) and the framework's, not the shared
    # authority's spot placements or its placement under our framework.
    assert seen(lead(theirs)) == {
        (shared.code, RES): (2, 0, 0),
        (shared.code, EDU): quarter,
        (their_lead.code, RES): quarter,
    }
    # The shared authority's partner: everything it placed, under either consortium or spot:
    # residential 1 (ours) + 2 (their block) + 3 (spot), paid 4 x 91 nights.
    assert seen(partner(shared)) == {(shared.code, RES): (6, 4 * 91, 4 * 91 * 10000), (shared.code, EDU): quarter}
    assert seen(partner(our_lead)) == {(our_lead.code, RES): quarter}
    assert seen(partner(outsider)) == {(outsider.code, RES): quarter}
    # Administrators and providers see no child-level figures.
    assert seen(UserFactory(role="admin")) == {} and seen(UserFactory(provider=ProviderFactory())) == {}


def test_a_user_who_sees_no_series_gets_no_groups():
    april()  # another consortium's placements
    for nobody in (lead(ConsortiumFactory()), partner(AuthorityFactory())):
        assert usage_by(APRIL, APRIL_LAST, AUTHORITY, TYPE, user=nobody) == {}
        # Not grouped at all: the one group, (), has no placement active, so it is left out too.
        assert usage_by(APRIL, APRIL_LAST, user=nobody) == {}


# ---------------------------------------------------------------- against a count night by night


@dataclass
class Recorded:
    """A placement as read back from the database."""

    authority: str
    type: str
    consortium_id: int | None
    paid: bool  # spot or under a framework
    start: date
    end: date | None
    distance: Decimal | None
    fees: list  # (effective from, pence a week), in date order

    def open_on(self, night: date) -> bool:
        return self.start <= night and (self.end is None or night < self.end)

    def fee_on(self, night: date) -> int | None:
        """The fee in force on a night: the last one effective on or before it."""
        found = None
        for effective_from, weekly_pence in self.fees:
            if effective_from <= night:
                found = weekly_pence
        return found


def recorded() -> list[Recorded]:
    fees = {}
    for placement_id, effective_from, weekly_pence in db.session.execute(
        select(PlacementFee.placement_id, PlacementFee.effective_from, PlacementFee.weekly_pence)
    ):
        fees.setdefault(placement_id, []).append((effective_from, weekly_pence))
    query = select(
        Placement.id,
        Placement.authority_code,
        Placement.placement_type,
        Contract.consortium_id,
        Placement.contract_id,
        Contract.kind,
        Placement.start_date,
        Placement.end_date,
        Placement.distance_miles,
    ).outerjoin(Contract, Contract.id == Placement.contract_id)
    return [
        Recorded(
            code,
            kind_of,
            consortium_id,
            contract_id is None or kind == "framework",
            start,
            end,
            None if distance is None else Decimal(str(distance)),
            sorted(fees.get(placement_id, [])),
        )
        for placement_id, code, kind_of, consortium_id, contract_id, kind, start, end, distance in db.session.execute(
            query
        )
    ]


def contribution(p: Recorded, first: date, last: date):
    """One placement's figures over [first, last], night by night: (open, started, active,
    known, within, paid nights, pence-nights), or None if it was there on none of the nights."""
    there = paid_nights = pence_nights = 0
    night = max(first, p.start)  # the nights before it started or after it left would count nothing
    stop = last if p.end is None else min(last, p.end)
    while night <= stop:
        if p.open_on(night):
            there += 1
            fee = p.fee_on(night) if p.paid else None
            if fee is not None:
                paid_nights += 1
                pence_nights += fee
        night += timedelta(days=1)
    if not there:
        return None
    known = p.distance is not None
    return (
        int(p.open_on(last)),
        int(first <= p.start <= last),
        1,
        int(known),
        int(known and p.distance <= 20),
        paid_nights,
        pence_nights,
    )


def pence(pence_nights: int) -> int:
    """Pence-nights at weekly fees to pence: divided by 7, rounded half up."""
    return int((Decimal(pence_nights) / 7).quantize(Decimal(1), rounding=ROUND_HALF_UP))


GROUPINGS = {(): (), ("authority",): (AUTHORITY,), ("type",): (TYPE,), ("authority", "type"): (AUTHORITY, TYPE)}


def worked_out(figures, sees, names) -> dict[tuple, Usage]:
    groups = {}
    for p, figure in figures:
        if figure is not None and sees(p):
            key = tuple(getattr(p, name) for name in names)
            groups[key] = [a + b for a, b in zip(groups.get(key, [0] * 7), figure)]
    return {key: Usage(*g[:6], spend_pence=pence(g[6])) for key, g in groups.items()}


def viewers(consortia, authorities):
    """Users and, for the oracle, which placements each may see."""
    found = [(f"lead of consortium {c.id}", lead(c), lambda p, c=c.id: p.consortium_id == c) for c in consortia]
    found += [(f"partner of {a.code}", partner(a), lambda p, a=a.code: p.authority == a) for a in authorities]
    return found


def disagreements(periods, people, groupings=GROUPINGS, live_too=True) -> list[str]:
    """Where `usage_by` (or, with `live_too`, `spend_and_nights`) differ from the count night by night."""
    placements = recorded()
    problems = []
    for first, last in periods:
        figures = [(p, contribution(p, first, last)) for p in placements]
        for name, user, sees in people:
            for names in groupings:
                expected = worked_out(figures, sees, names)
                actual = usage_by(first, last, *GROUPINGS[names], user=user)
                if actual != expected:
                    wrong = {
                        k: (actual.get(k), expected.get(k))
                        for k in set(actual) | set(expected)
                        if actual.get(k) != expected.get(k)
                    }
                    problems.append(f"usage_by {first}..{last} {name} by {names}: (actual, expected) {wrong}")
            if not live_too:
                continue
            expected = {
                k: (u.spend_pence, u.paid_nights)
                for k, u in worked_out(figures, sees, ("authority", "type")).items()
                if u.paid_nights
            }
            actual = live(first, last, user)
            if actual != expected:
                problems.append(f"spend_and_nights {first}..{last} {name}: actual {actual}, expected {expected}")
    return problems


def periods_around(rng: random.Random, count: int) -> list[tuple[date, date]]:
    """Periods starting and ending on the days something changes, one-night periods, periods
    crossing all the data, a financial year, and some at random."""
    days = sorted({d for p in recorded() for d in (p.start, p.end, *(f for f, _ in p.fees)) if d is not None})
    periods = [
        (date(2022, 1, 1), date(2028, 12, 31)),
        (date(2024, 4, 1), date(2025, 3, 31)),
        (days[0], days[-1]),
        (days[0] - timedelta(days=30), days[0] - timedelta(days=1)),
        (days[-1] + timedelta(days=1), days[-1] + timedelta(days=9)),
    ]
    for day in rng.sample(days, min(count, len(days))):
        length = timedelta(days=rng.randrange(1, 90))
        periods += rng.choice(
            [
                [(day, day), (day - timedelta(days=1), day - timedelta(days=1))],
                [(day, day + length)],
                [(day - length, day)],
                [(day - length, day - timedelta(days=1)), (day + timedelta(days=1), day + length)],
            ]
        )
    for _ in range(count // 2):
        first = date(2022, 6, 1) + timedelta(days=rng.randrange(6 * 365))
        periods.append((first, first + timedelta(days=rng.choice([0, 6, 27, 90, 364, rng.randrange(900)]))))
    return periods


TYPES = (RES, RES, EDU, SUPPORTED)
DISTANCES = (None, None, "0", "5.5", "19.9", "20", "20.0", "20.1", "35.2")
WEEKLY = (1, 3, 99, 100, 70000, 123457, 350000, 420001, 649999)


def varied(rng: random.Random, count: int):
    """Four authorities, two consortia, two frameworks and a block of the first, a framework and
    a block of the second, spot placements; open and ended, with 0 to 3 fees (some from before
    the start or after the end), distances unknown, within and beyond 20 miles. One flush."""
    first, second = ConsortiumFactory(), ConsortiumFactory()
    authorities = [first.lead, second.lead, AuthorityFactory(), AuthorityFactory()]
    contracts = {
        "F1": ContractFactory(kind="framework", consortium=first),
        "F1b": ContractFactory(kind="framework", consortium=first),
        "B1": ContractFactory(kind="block", consortium=first),
        "F2": ContractFactory(kind="framework", consortium=second),
        "B2": ContractFactory(kind="block", consortium=second),
    }
    choices = [None, None, *contracts.values()]
    for n in range(count):
        start = date(2023, 1, 1) + timedelta(days=rng.randrange(3 * 365))
        end = None if rng.random() < 0.3 else start + timedelta(days=rng.choice([1, 2, 7, 31, rng.randrange(1, 500)]))
        distance = rng.choice(DISTANCES)
        placement = Placement(
            authority_code=rng.choice(authorities).code,
            child_ref=f"V-{n:04d}",
            contract=rng.choice(choices),
            start_date=start,
            end_date=end,
            placement_type=rng.choice(TYPES),
            distance_miles=None if distance is None else Decimal(distance),
        )
        day = start + timedelta(days=rng.choice([0, 0, 0, -10, 4]))
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            placement.fees.append(PlacementFee(effective_from=day, weekly_pence=rng.choice(WEEKLY)))
            day += timedelta(days=rng.randrange(1, 200))
        db.session.add(placement)
    db.session.flush()
    return [first, second], authorities, contracts


def test_usage_by_agrees_with_counting_night_by_night():
    rng = random.Random(20240401)
    consortia, authorities, _ = varied(rng, 50)
    periods = periods_around(rng, 16)
    assert len(periods) > 30
    problems = disagreements(periods, viewers(consortia, authorities[2:3]))
    assert not problems, "\n".join(problems[:10])
    # The comparison has something to compare: spend, distances and open placements were seen.
    lead_user = viewers(consortia, [])[0][1]
    everything = usage_by(date(2022, 1, 1), date(2028, 12, 31), user=lead_user)[()]
    assert (
        everything.spend_pence > 0
        and everything.within > 0
        and everything.known > everything.within
        and everything.open > 0
    )


def kept_rows():
    """usage_series by key, and usage_days with their series' keys (ids change when worked out again)."""
    keys = {
        id_: (consortium_id, code, type_)
        for id_, consortium_id, code, type_ in db.session.execute(
            select(UsageSeries.id, UsageSeries.consortium_id, UsageSeries.authority_code, UsageSeries.placement_type)
        )
    }
    columns = [
        UsageDay.series_id,
        UsageDay.day,
        UsageDay.placed,
        UsageDay.known,
        UsageDay.within,
        UsageDay.started,
        UsageDay.started_known,
        UsageDay.started_within,
        UsageDay.paying,
        UsageDay.paying_days,
        UsageDay.rate,
        UsageDay.rate_days,
    ]
    days = Counter((keys[row[0]], *row[1:]) for row in db.session.execute(select(*columns)))
    return Counter(keys.values()), days


def test_usage_follows_every_change_and_agrees_with_working_it_out_again():
    rng = random.Random(7)
    consortia, authorities, contracts = varied(rng, 20)
    a0, a1, a2, a3 = authorities
    f1, f1b, f2 = contracts["F1"], contracts["F1b"], contracts["F2"]
    # The placements the changes are made to, beside the varied ones.
    ending = place(
        f1, a0, date(2024, 2, 10), None, [(date(2024, 2, 10), 70000), (date(2024, 9, 1), 84000)], distance="12"
    )
    ended = place(None, a1, date(2024, 1, 5), date(2024, 3, 5), [(date(2024, 1, 5), 91000)], distance="20")
    deleted = place(None, a1, date(2024, 3, 1), None, [(date(2024, 3, 1), 56000), (date(2024, 6, 1), 63000)])
    moving = place(f1, a2, date(2024, 5, 1), date(2025, 2, 1), [(date(2024, 5, 1), 140000)], distance="20.1")
    moved_away = place(f1b, a0, date(2023, 11, 1), None, [(date(2023, 11, 1), 77000)], placement_type=EDU)
    retyped = place(f1b, a3, date(2024, 7, 7), None, [(date(2024, 7, 7), 35000)])
    people = viewers(consortia, [a1])  # the leads see every change to the consortia's; a1's partner, the spot ones

    def check(what, thoroughly=False):
        if thoroughly:
            problems = disagreements(periods_around(rng, 4), people)
        else:
            problems = disagreements(periods_around(rng, 2), people, [("authority", "type")], live_too=False)
        assert not problems, f"after {what}:\n" + "\n".join(problems[:10])

    check("the first flush", thoroughly=True)
    changes = [
        ("an end date set", lambda: setattr(ending, "end_date", date(2024, 10, 15))),
        ("an end date brought forward", lambda: setattr(ending, "end_date", date(2024, 9, 20))),
        ("an end date put back", lambda: setattr(ending, "end_date", date(2024, 11, 30))),
        ("an end date cleared", lambda: setattr(ended, "end_date", None)),
        ("a fee added", lambda: ending.fees.append(PlacementFee(effective_from=date(2024, 10, 1), weekly_pence=98000))),
        (
            "a fee changed",
            lambda: (
                setattr(ending.fees[1], "weekly_pence", 88200),
                setattr(ending.fees[1], "effective_from", date(2024, 8, 15)),
            ),
        ),
        ("a fee deleted", lambda: ending.fees.remove(ending.fees[0])),
        ("a fee deleted by session.delete", lambda: db.session.delete(ended.fees[0])),
        ("a placement deleted", lambda: db.session.delete(deleted)),
        ("a placement moved to another consortium's framework", lambda: setattr(moving, "contract", f2)),
        ("the authority changed", lambda: setattr(moved_away, "authority", a3)),
        ("the placement type changed", lambda: setattr(retyped, "placement_type", SUPPORTED)),
        (
            "the distance and start changed",
            lambda: (
                setattr(retyped, "distance_miles", Decimal("20.0")),
                setattr(retyped, "start_date", date(2024, 6, 30)),
            ),
        ),
        (
            "a framework made a block",
            lambda: (
                setattr(f1b, "provider", ProviderFactory()),
                setattr(f1b, "beds", 4),
                setattr(f1b, "kind", "block"),
            ),
        ),
        ("a contract moved to the other consortium", lambda: setattr(f1, "consortium", consortia[1])),
    ]
    for what, change in changes:
        before = kept_rows()
        change()
        db.session.flush()
        assert kept_rows() != before, f"{what} changed no usage rows"
        check(what)
    assert moved_away.authority_code == a3.code and f1b.kind == "block"
    kept = kept_rows()
    refresh_usage()  # every series worked out again from nothing
    again = kept_rows()
    assert again == kept
    assert sum(kept[0].values()) == len(kept[0]) > 5 and len(kept[1]) > 50  # one row per key, and plenty of days
    check("working everything out again", thoroughly=True)


def two_placements():
    """Derby's placement at £100 a night from 1 April 2024 and Leicester's at £50 a night from 16
    April, under one consortium's framework."""
    consortium = ConsortiumFactory()
    derby, leicester = consortium.lead, AuthorityFactory()
    framework = ContractFactory(kind="framework", consortium=consortium)
    moving = place(framework, derby, APRIL, None, [(APRIL, 70000)])
    staying = place(framework, leicester, APRIL, None, [(date(2024, 4, 16), 35000)])
    user = lead(consortium)

    def seen():
        return {
            key: (u.active, u.paid_nights, u.spend_pence)
            for key, u in usage_by(APRIL, APRIL_LAST, AUTHORITY, user=user).items()
        }

    # April: Derby 30 nights x £100; Leicester 15 nights (16-30 April) x £50.
    assert seen() == {(derby.code,): (1, 30, 300000), (leicester.code,): (1, 15, 75000)}
    return derby, leicester, moving, staying, user, seen


def live_agrees(user, expected):
    """The live computation, over the placements and fees as they now are, agrees with the hand."""
    assert live(APRIL, APRIL_LAST, user, Placement.authority_code) == {
        key: (spend, nights) for key, (_, nights, spend) in expected.items() if nights
    }


@pytest.mark.parametrize("through", ["authority_code", "authority"])
def test_an_authority_changed_on_a_placement_not_read_since_a_commit(through):
    """A commit expires every object; an attribute set before the object is read again is still a
    change through the ORM, and the authority the placement left must lose it."""
    derby, leicester, moving, staying, user, seen = two_placements()
    code = leicester.code
    db.session.commit()  # the test's savepoint; every object is expired
    if through == "authority_code":
        moving.authority_code = code
    else:
        moving.authority = leicester
    db.session.flush()
    # Both placements are Leicester's: 30 + 15 paid nights, £3,000 + £750; Derby has none.
    expected = {(code,): (2, 45, 375000)}
    live_agrees(user, expected)
    assert seen() == expected


def test_a_fee_moved_to_another_placement():
    derby, leicester, moving, staying, user, seen = two_placements()
    moving.fees[0].placement_id = staying.id  # Derby's fee was recorded on the wrong placement
    db.session.flush()
    # Derby's placement has no fee left; Leicester's: 15 nights x £100, then 15 x £50.
    expected = {(derby.code,): (1, 0, 0), (leicester.code,): (1, 30, 150000 + 75000)}
    live_agrees(user, expected)
    assert seen() == expected


# ---------------------------------------------------------------- the placements import

CONTRACTS = (
    "ref,kind,title,consortium_ref,owner_code,start_date,end_date,max_end_date,beds,bed_week_price,home_urns\n"
    "UT-FW,framework,Regional framework,UTRF,,2023-04-01,2027-03-31,2029-03-31,,,SC100003\n"
    "UT-BLOCK,block,Residential block,UTRF,E06000015,2024-04-01,2026-03-31,2028-03-31,2,3500.00,SC100001;SC100002\n"
)
PLACEMENTS = (
    "authority_code,child_ref,contract_ref,home_urn,start_date,end_date,weekly_fee,placement_type,distance_miles,age_at_start\n"
    "E06000015,DER-001,UT-BLOCK,SC100001,2024-04-01,2024-06-30,,residential,5.0,14\n"
    "E06000018,NOT-001,UT-BLOCK,SC100002,2024-05-01,,3500.00,residential,20.1,15\n"
    "E06000018,NOT-002,UT-FW,SC100003,2024-05-01,,4120.50,residential,20.0,13\n"
    "E06000018,NOT-004,UT-FW,SC100003,2024-04-10,2024-05-20,3000,residential_education,,13\n"
    "E06000017,RUT-001,,SC100004,2024-05-01,,5100,residential,3.3,12\n"
    "E06000018,NOT-003,,,2024-05-01,,450,in_house_fostering,2.0,9\n"
    "E06000015,DER-002,,SC100004,2024-03-15,2024-05-01,2800.00,supported_accommodation,40,17\n"
)


def load_contracts(text):
    return imports.import_contracts(read_table(text.encode(), "c.csv", **imports.CONTRACT_COLUMNS))


def load_placements(text):
    return imports.import_placements(read_table(text.encode(), "p.csv", **imports.PLACEMENT_COLUMNS))


def test_imported_placements_are_counted():
    derby, nottingham, rutland = (AuthorityFactory(code=code) for code in ("E06000015", "E06000018", "E06000017"))
    consortium = ConsortiumFactory(ref="UTRF", lead=derby, members=[nottingham])
    oak, elm = ProviderFactory(name="Oak Ltd"), ProviderFactory(name="Elm Ltd")
    for urn, provider in (("SC100001", oak), ("SC100002", oak), ("SC100003", elm), ("SC100004", elm)):
        HomeFactory(urn=urn, provider=provider)
    load_contracts(CONTRACTS)
    # Recorded before the import, through the ORM: the import's refresh must keep it.
    place(None, nottingham, date(2024, 1, 1), None, [(date(2024, 1, 1), 70000)], distance="8")
    result = load_placements(PLACEMENTS)
    assert result.added == 7
    lead_user, first, last = lead(consortium), date(2024, 5, 1), date(2024, 5, 31)  # 31 nights
    # Derby: DER-001 in the block all May (5.0 miles), no spend. Nottingham residential: NOT-001
    # (block, 20.1 miles, its fee dropped by the import) and NOT-002 (framework, 20.0 miles) both
    # from 1 May; NOT-002 31 nights x £4,120.50 / 7 = £18,247.93 (12,773,550 / 7 = 1,824,792.86).
    # Nottingham residential with education: NOT-004 left on 20 May: 19 nights x £3,000 / 7 =
    # £8,142.86 (5,700,000 / 7 = 814,285.71).
    assert usage_by(first, last, AUTHORITY, TYPE, user=lead_user) == {
        ("E06000015", RES): Usage(open=1, started=0, active=1, known=1, within=1, paid_nights=0, spend_pence=0),
        ("E06000018", RES): Usage(open=2, started=2, active=2, known=2, within=1, paid_nights=31, spend_pence=1824793),
        ("E06000018", EDU): Usage(open=0, started=0, active=1, known=0, within=0, paid_nights=19, spend_pence=814286),
    }
    # Derby's partner: DER-002 (spot) left on 1 May, not in May. Rutland's spot placement: 31
    # nights x £5,100 / 7 = £22,585.71 (15,810,000 / 7 = 2,258,571.43).
    assert usage_by(first, last, AUTHORITY, TYPE, user=partner(derby)) == {
        ("E06000015", RES): Usage(open=1, started=0, active=1, known=1, within=1, paid_nights=0, spend_pence=0)
    }
    assert usage_by(first, last, AUTHORITY, TYPE, user=partner(rutland)) == {
        ("E06000017", RES): Usage(open=1, started=1, active=1, known=1, within=1, paid_nights=31, spend_pence=2258571)
    }
    people = [("lead", lead_user, lambda p: p.consortium_id == consortium.id)]
    people += [
        (f"partner of {a.code}", partner(a), lambda p, a=a.code: p.authority == a) for a in (derby, nottingham, rutland)
    ]
    groupings = [("authority", "type"), ("type",)]
    rng = random.Random(3)
    problems = disagreements(periods_around(rng, 8), people, groupings)
    assert not problems, "\n".join(problems[:10])
    # Again, with NOT-002's end date now known (16 May) and its fee £4,300: the rows it matches are
    # updated through the ORM. May: 15 nights x £4,300 / 7 = £9,214.29 (6,450,000 / 7 = 921,428.57).
    again = load_placements(PLACEMENTS.replace("2024-05-01,,4120.50", "2024-05-01,2024-05-16,4300"))
    assert (again.added, again.updated) == (0, 1)
    assert usage_by(first, last, AUTHORITY, TYPE, user=lead_user)[("E06000018", RES)] == Usage(
        open=1, started=2, active=2, known=2, within=1, paid_nights=15, spend_pence=921429
    )
    problems = disagreements(periods_around(rng, 8), people, groupings)
    assert not problems, "\n".join(problems[:10])


def test_flask_summaries_refresh_works_everything_out_again_after_a_change_made_in_sql(runner):
    rng = random.Random(11)
    consortia, authorities, _ = varied(rng, 12)
    kept = kept_rows()
    # An operator's fix in SQL, past the flush that keeps the summaries current: every placement open.
    db.session.execute(Placement.__table__.update().values(end_date=None))
    assert kept_rows() == kept  # stale until worked out again
    result = runner.invoke(args=["summaries", "refresh"])
    assert result.exit_code == 0, result.output
    assert "worked out again" in result.output
    assert kept_rows()[1] != kept[1]
    problems = disagreements(periods_around(rng, 3), viewers(consortia, authorities[:1]))
    assert not problems, "\n".join(problems[:10])
