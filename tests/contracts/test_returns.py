"""Outcomes, RAG, the return schedule, submitting and reviewing, imports, and the return checks."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from audits import checks
from audits.models import Flag
from consortium.core.extensions import db
from consortium.core.services import RuleBroken
from consortium.core.tabular import ImportFailed, read_table
from contracts import imports, returns
from contracts.models import (
    Indicator,
    MonitoringReturn,
    OutcomesFramework,
    ReturnObligation,
)
from providers.models import Home
from tests.factories import (
    AdmissionFactory,
    ContractFactory,
    HomeFactory,
    LotFactory,
    PlacementFactory,
    ProviderFactory,
    UserFactory,
)


def indicator(higher=True, amber=90, red=80, unit="percent"):
    return Indicator(
        code="X",
        name="X",
        unit=unit,
        higher_is_better=higher,
        amber=Decimal(amber),
        red=Decimal(red),
        target=Decimal(95),
    )


@pytest.mark.parametrize(
    "value, colour",
    [
        (Decimal("95"), "green"),
        (Decimal("90"), "green"),
        (Decimal("89.99"), "amber"),
        (Decimal("80"), "amber"),
        (Decimal("79.9"), "red"),
        (None, None),
    ],
)
def test_rag_higher_is_better(value, colour):
    # Red below the red threshold, amber below the amber threshold, otherwise green.
    assert indicator().rag(value) == colour


@pytest.mark.parametrize("value, colour", [(0, "green"), (1, "green"), (2, "amber"), (3, "amber"), (4, "red")])
def test_rag_lower_is_better(value, colour):
    # Missing from care, amber 1, red 3: red above 3, amber above 1, otherwise green.
    assert indicator(higher=False, amber=1, red=3, unit="count").rag(Decimal(value)) == colour


def test_periods_are_financial_quarters():
    assert returns.period_label(date(2024, 4, 1)) == "2024-Q1"
    assert returns.period_label(date(2024, 10, 1)) == "2024-Q3"
    assert returns.period_label(date(2025, 1, 1)) == "2024-Q4"
    assert returns.parse_period("2024-Q4") == (date(2025, 1, 1), date(2025, 3, 31))
    assert returns.parse_period("2024-q1") == (date(2024, 4, 1), date(2024, 6, 30))
    with pytest.raises(ValueError, match="not a quarter like 2024-Q1"):
        returns.parse_period("2024-Q5")


@pytest.fixture
def block():
    contract = ContractFactory(
        ref="BLOCK", start_date=date(2024, 5, 15), end_date=date(2025, 8, 31), max_end_date=date(2026, 8, 31)
    )
    returns.attach(contract, returns.starter_template())
    return contract


def test_a_block_owes_a_return_each_quarter_from_its_provider(block):
    outcomes = returns.outcomes_of(block)
    assert [i.code for i in outcomes.indicators] == [
        "EET",
        "HEALTH",
        "MFC",
        "UNPLANNED",
        "VIEWS",
        "L3",
        "NOTIFIABLE",
        "COMPLAINTS",
    ]
    due = returns.owed(outcomes, date(2025, 12, 1))
    # From the quarter containing 15 May 2024 to the one containing the end, 31 August 2025.
    assert [(e.period, e.provider.id, e.due_date) for e in due] == [
        ("2024-Q1", block.provider_id, date(2024, 7, 30)),
        ("2024-Q2", block.provider_id, date(2024, 10, 30)),
        ("2024-Q3", block.provider_id, date(2025, 1, 30)),
        ("2024-Q4", block.provider_id, date(2025, 4, 30)),
        ("2025-Q1", block.provider_id, date(2025, 7, 30)),
        ("2025-Q2", block.provider_id, date(2025, 10, 30)),
    ]
    assert [e.status(date(2024, 7, 30)) for e in returns.owed(outcomes, date(2024, 7, 30))] == ["due", "in progress"]
    assert returns.owed(outcomes, date(2024, 7, 31))[0].status(date(2024, 7, 31)) == "overdue"


def test_the_schedule_starts_from_the_date_the_framework_applies_from(block):
    outcomes = returns.outcomes_of(block)
    outcomes.applies_from, outcomes.due_days = date(2024, 10, 1), 45
    due = returns.owed(outcomes, date(2025, 2, 1))
    assert [(e.period, e.due_date) for e in due] == [("2024-Q3", date(2025, 2, 14)), ("2024-Q4", date(2025, 5, 15))]


def test_a_framework_is_owed_by_each_provider_with_a_child_placed_in_the_quarter():
    framework = ContractFactory(kind="framework", start_date=date(2024, 4, 1), end_date=date(2026, 3, 31))
    lot = LotFactory(contract=framework)
    oak, elm, ash = ProviderFactory(name="Oak"), ProviderFactory(name="Elm"), ProviderFactory(name="Ash")
    for provider in (oak, elm, ash):
        AdmissionFactory(lot=lot, provider=provider)
    PlacementFactory(
        contract=framework, home=HomeFactory(provider=oak), start_date=date(2024, 5, 1), end_date=date(2024, 7, 1)
    )
    PlacementFactory(contract=framework, home=HomeFactory(provider=elm), start_date=date(2024, 9, 30))
    PlacementFactory(
        contract=framework, home=HomeFactory(provider=ash), start_date=date(2024, 6, 1), end_date=date(2024, 6, 2)
    )
    PlacementFactory(contract=None, home=HomeFactory(provider=ash), start_date=date(2024, 7, 1))  # spot: owes nothing
    returns.attach(framework, returns.starter_template())
    due = returns.owed(returns.outcomes_of(framework), date(2024, 12, 31))
    # Oak's child left on 1 July (the last night was 30 June): Q1 only. Elm's arrived on 30 September.
    assert [(e.period, e.provider.name) for e in due] == [
        ("2024-Q1", "Ash"),
        ("2024-Q1", "Oak"),
        ("2024-Q2", "Elm"),
        ("2024-Q3", "Elm"),
    ]


def _obligations():
    return set(
        db.session.execute(
            select(ReturnObligation.contract_id, ReturnObligation.quarter_start, ReturnObligation.home_id)
        ).all()
    )


def test_return_obligations_follow_every_change_to_placements_and_agree_with_working_them_out_again():
    framework = ContractFactory(kind="framework", start_date=date(2024, 4, 1), end_date=date(2025, 3, 31))
    other = ContractFactory(kind="framework", start_date=date(2024, 4, 1), end_date=date(2025, 3, 31))
    oak, elm = HomeFactory(), HomeFactory()
    first = PlacementFactory(contract=framework, home=oak, start_date=date(2024, 5, 1), end_date=date(2024, 7, 2))
    second = PlacementFactory(contract=framework, home=elm, start_date=date(2025, 1, 10))
    PlacementFactory(contract=None, home=elm, start_date=date(2024, 5, 1))  # spot: owes nothing
    db.session.flush()
    q1, q2, q3, q4 = date(2024, 4, 1), date(2024, 7, 1), date(2024, 10, 1), date(2025, 1, 1)
    # Oak's child stayed the night of 1 July: Q1 and Q2. Elm's is still there: Q4, the term's last quarter.
    assert _obligations() == {(framework.id, q1, oak.id), (framework.id, q2, oak.id), (framework.id, q4, elm.id)}

    first.end_date = date(2024, 7, 1)  # left on 1 July after all: the last night was 30 June
    second.contract = other  # recorded under the wrong framework
    db.session.flush()
    assert _obligations() == {(framework.id, q1, oak.id), (other.id, q4, elm.id)}

    framework.end_date = date(2025, 6, 30)  # extended: Elm's child is not under it, nothing new
    second.contract, second.start_date = framework, date(2024, 10, 5)
    db.session.flush()
    assert _obligations() == {
        (framework.id, q1, oak.id),
        (framework.id, q3, elm.id),
        (framework.id, q4, elm.id),
        (framework.id, date(2025, 4, 1), elm.id),
    }

    db.session.delete(first)
    db.session.flush()
    kept = _obligations()
    returns.refresh_obligations()  # worked out again from nothing: the same
    assert (
        kept
        == _obligations()
        == {(framework.id, q3, elm.id), (framework.id, q4, elm.id), (framework.id, date(2025, 4, 1), elm.id)}
    )


def test_a_home_taken_over_by_another_provider_owes_its_returns_to_the_new_one():
    framework = ContractFactory(kind="framework", start_date=date(2024, 4, 1), end_date=date(2025, 3, 31))
    returns.attach(framework, returns.starter_template())
    oak = HomeFactory(provider=ProviderFactory(name="Oak Care"))
    PlacementFactory(contract=framework, home=oak, start_date=date(2024, 5, 1), end_date=date(2024, 6, 1))
    db.session.flush()
    assert [(e.period, e.provider.name) for e in returns.owed(returns.outcomes_of(framework), date(2024, 12, 31))] == [
        ("2024-Q1", "Oak Care")
    ]
    # The Ofsted import writes a new owner in SQL, past the flush: the database carries it to the obligations.
    ash = ProviderFactory(name="Ash Homes")
    db.session.execute(update(Home).where(Home.id == oak.id).values(provider_id=ash.id))
    assert [(e.period, e.provider.name) for e in returns.owed(returns.outcomes_of(framework), date(2024, 12, 31))] == [
        ("2024-Q1", "Ash Homes")
    ]
    assert returns.count_by_status(OutcomesFramework.contract_id == framework.id, date(2024, 12, 31), ash.id) == {
        "overdue": 1
    }


def test_counts_by_status_agree_with_the_schedule(block):
    framework = ContractFactory(kind="framework", start_date=date(2024, 4, 1), end_date=date(2026, 3, 31))
    returns.attach(framework, returns.starter_template())
    PlacementFactory(contract=framework, start_date=date(2024, 5, 1), end_date=date(2024, 11, 1))
    PlacementFactory(contract=framework, start_date=date(2024, 9, 1))
    outcomes = returns.outcomes_of(block)
    staff = UserFactory(role="provider", provider=block.provider)
    returns.save(outcomes, block.provider, "2024-Q1", values(), {}, staff, date(2024, 7, 20), submit=True)
    db.session.flush()
    as_of = date(2025, 1, 20)
    condition = OutcomesFramework.contract_id.is_not(None)
    entries = returns.owed_many(condition, as_of)
    expected = {}
    for entry in entries:
        expected[entry.status(as_of)] = expected.get(entry.status(as_of), 0) + 1
    assert returns.count_by_status(condition, as_of) == expected
    # Block: Q1 submitted, Q2 overdue, Q3 due (by 30 January), Q4 in progress. Framework: Q1 one
    # provider overdue, Q2 two overdue, Q3 two due, Q4 one in progress.
    assert expected == {"submitted": 1, "overdue": 4, "due": 3, "in progress": 2}


def values(**overrides):
    base = {
        "EET": "96",
        "HEALTH": "100",
        "MFC": "0",
        "UNPLANNED": "0",
        "VIEWS": "100",
        "L3": "85",
        "NOTIFIABLE": "1",
        "COMPLAINTS": "0",
    }
    base.update(overrides)
    return base


def test_submit_review_return_and_resubmit(block):
    outcomes, provider = returns.outcomes_of(block), block.provider
    staff, lead_user = UserFactory(provider=provider), UserFactory(consortium=block.consortium)
    draft = returns.save(outcomes, provider, "2024-Q1", {"EET": "90"}, {}, staff, date(2024, 7, 10), submit=False)
    assert (draft.status, len(draft.versions), draft.current.submitted_on) == ("draft", 1, None)
    with pytest.raises(RuleBroken, match="MFC: enter a value"):
        returns.save(outcomes, provider, "2024-Q1", values(MFC=""), {}, staff, date(2024, 7, 10), submit=True)
    submitted = returns.save(
        outcomes, provider, "2024-Q1", values(), {"EET": "One child excluded"}, staff, date(2024, 8, 2), submit=True
    )
    assert (submitted.status, submitted.late, submitted.submitted_on, len(submitted.versions)) == (
        "submitted",
        True,
        date(2024, 8, 2),
        1,
    )
    assert submitted.current.value_of(outcomes.indicators[0].id).comment == "One child excluded"
    with pytest.raises(RuleBroken, match="it can no longer be changed"):
        returns.save(outcomes, provider, "2024-Q1", values(), {}, staff, date(2024, 8, 3), submit=True)
    with pytest.raises(RuleBroken, match="Say what needs correcting"):
        returns.review(submitted, "return", "", lead_user, submitted.version)
    returns.review(submitted, "return", "HEALTH looks wrong", lead_user, submitted.version)
    assert submitted.status == "returned"
    corrected = returns.save(
        outcomes, provider, "2024-Q1", values(HEALTH="97"), {}, staff, date(2024, 8, 5), submit=True
    )
    assert (corrected.status, [v.number for v in corrected.versions]) == ("submitted", [1, 2])
    assert corrected.versions[0].review_comment == "HEALTH looks wrong"
    assert corrected.submitted_on == date(2024, 8, 5)
    stale = corrected.version - 1
    with pytest.raises(RuleBroken, match="changed by someone else"):
        returns.review(corrected, "accept", "", lead_user, stale)
    returns.review(corrected, "accept", "", lead_user, corrected.version)
    health = outcomes.indicators[1]
    assert returns.results(outcomes)[(provider.id, health.id, "2024-Q1")] == Decimal("97")


@pytest.mark.parametrize(
    "given, message",
    [
        ({"EET": "lots"}, "EET: 'lots' is not a number"),
        ({"EET": "101"}, "EET: a percentage is from 0 to 100, not 101"),
        ({"MFC": "-1"}, "MFC: a count is a whole number of 0 or more, not -1"),
        ({"MFC": "1.5"}, "MFC: a count is a whole number of 0 or more"),
        ({"NOPE": "1"}, "unknown indicator code: NOPE"),
    ],
)
def test_bad_values_are_refused_and_nothing_saved(block, given, message):
    with pytest.raises(RuleBroken, match=message):
        returns.save(
            returns.outcomes_of(block),
            block.provider,
            "2024-Q1",
            values(**given),
            {},
            None,
            date(2024, 7, 10),
            submit=True,
        )
    assert db.session.scalar(select(MonitoringReturn.id)) is None


def test_a_period_not_owed_or_not_ended_is_refused(block):
    outcomes = returns.outcomes_of(block)
    with pytest.raises(RuleBroken, match="owes no return for BLOCK in 2023-Q4"):
        returns.save(outcomes, block.provider, "2023-Q4", values(), {}, None, date(2024, 7, 10), submit=True)
    with pytest.raises(RuleBroken, match="owes no return"):
        returns.save(outcomes, ProviderFactory(), "2024-Q1", values(), {}, None, date(2024, 7, 10), submit=True)
    with pytest.raises(RuleBroken, match="once the quarter has ended"):
        returns.save(outcomes, block.provider, "2024-Q1", values(), {}, None, date(2024, 6, 30), submit=True)


def load(kind, text):
    columns = imports.OUTCOME_COLUMNS if kind == "outcomes" else imports.RETURN_COLUMNS
    importer = imports.import_outcomes if kind == "outcomes" else imports.import_returns
    return importer(read_table(text.encode(), f"{kind}.csv", **columns))


OUTCOMES = """contract_ref,indicator_code,name,unit,higher_is_better,target,amber,red
DEV,EET,Children in education or training,percent,true,95,90,80
DEV,HEALTH,Health assessments up to date,percent,true,100,95,85
DEV,MFC,Missing from care episodes,count,false,0,1,3
"""
RETURNS = """contract_ref,provider,period,indicator_code,value,submitted_on
DEV,Riverbank Care Ltd,2019-Q1,EET,96,2019-07-25
DEV,Riverbank Care Ltd,2019-Q1,HEALTH,100,2019-07-25
DEV,Riverbank Care Ltd,2019-Q1,MFC,0,2019-07-25
DEV,Riverbank Care Ltd,2019-Q2,EET,78,2019-10-29
DEV,Riverbank Care Ltd,2019-Q2,HEALTH,84,2019-10-29
DEV,Riverbank Care Ltd,2019-Q2,MFC,4,2019-11-04
"""


@pytest.fixture
def dev():
    riverbank = ProviderFactory(name="Riverbank Care Ltd")
    return ContractFactory(
        ref="DEV",
        provider=riverbank,
        start_date=date(2019, 4, 1),
        end_date=date(2024, 3, 31),
        max_end_date=date(2026, 3, 31),
    )


def test_outcomes_and_returns_import_idempotently(dev):
    assert load("outcomes", OUTCOMES).added == 3
    assert load("outcomes", OUTCOMES).unchanged == 3
    with pytest.raises(ImportFailed) as failed:
        load("returns", RETURNS)
    assert failed.value.lines() == ["line 7: submitted_on differs from line 5 for the same return"]
    fixed = RETURNS.replace("2019-11-04", "2019-10-29")
    result = load("returns", fixed)
    assert result.added == 2
    q2 = db.session.scalar(select(MonitoringReturn).where(MonitoringReturn.period == "2019-Q2"))
    assert (q2.status, q2.submitted_on, q2.late) == ("accepted", date(2019, 10, 29), False)
    assert load("returns", fixed).unchanged == 2
    with pytest.raises(ImportFailed, match="already recorded \\(accepted\\) with other values"):
        load("returns", fixed.replace(",96,", ",97,"))


@pytest.mark.parametrize(
    "text, message",
    [
        ("DEV,Riverbank Care Ltd,2019-Q3,NOPE,1,2019-10-29\n", "unknown indicator code 'NOPE' for DEV"),
        ("DEV,Riverbank Care Ltd,2019-Q3,EET,ninety,2019-10-29\n", "EET: 'ninety' is not a number"),
        ("DEV,Riverbank Care Ltd,2019-Q3,EET,120,2019-10-29\n", "a percentage is from 0 to 100"),
        ("DEV,Riverbank Care Ltd,2019-Q3,MFC,-2,2019-10-29\n", "a count is a whole number of 0 or more"),
        ("DEV,Nobody Ltd,2019-Q3,EET,90,2019-10-29\n", "unknown provider 'Nobody Ltd'"),
        ("DEV,Riverbank Care Ltd,2019-Q9,EET,90,2019-10-29\n", "period '2019-Q9' is not a quarter"),
        ("DEV,Riverbank Care Ltd,2019-Q1,EET,90,2019-07-25\n", r"EET for 2019-Q1 appears again \(first on line 2\)"),
        ("DEV,Riverbank Care Ltd,2019-Q1,EET,=1+1,2019-07-25\n", "formulas are not accepted"),
    ],
)
def test_bad_return_rows(dev, text, message):
    load("outcomes", OUTCOMES)
    with pytest.raises(ImportFailed, match=message):
        load("returns", RETURNS.replace("2019-11-04", "2019-10-29") + text)
    assert db.session.scalar(select(MonitoringReturn.id)) is None


def test_a_return_missing_an_indicator_or_not_owed(dev):
    load("outcomes", OUTCOMES)
    with pytest.raises(ImportFailed, match="line 2: the 2019-Q1 return has no value for HEALTH, MFC"):
        load(
            "returns",
            "contract_ref,provider,period,indicator_code,value,submitted_on\n"
            "DEV,Riverbank Care Ltd,2019-Q1,EET,96,2019-07-25\n",
        )
    ProviderFactory(name="Other Ltd")
    with pytest.raises(ImportFailed, match="Other Ltd owes no return for DEV in 2019-Q1"):
        load(
            "returns",
            RETURNS.replace("2019-11-04", "2019-10-29").replace("Riverbank Care Ltd,2019-Q1", "Other Ltd,2019-Q1"),
        )
    assert db.session.scalar(select(MonitoringReturn.id)) is None


def test_bad_outcome_rows(dev):
    text = (
        "contract_ref,indicator_code,name,unit,higher_is_better,target,amber,red\n"
        "DEV,EET,E,parsecs,maybe,95,80,90\n"
        "NOPE,X,X,count,false,0,1,3\n"
    )
    with pytest.raises(ImportFailed) as failed:
        load("outcomes", text)
    assert failed.value.lines() == [
        "line 2: unit must be one of percent, count, days, pounds, not 'parsecs'; "
        "higher_is_better must be true or false, not 'maybe'",
        "line 3: unknown contract 'NOPE'",
    ]


def flags(kind):
    return db.session.scalars(select(Flag).where(Flag.kind == kind).order_by(Flag.subject_key)).all()


def test_overdue_returns_one_flag_per_contract_provider_and_quarter(block):
    checks.run(date(2024, 7, 30), ["overdue_return"])
    assert flags("overdue_return") == []  # due that day, not yet overdue
    checks.run(date(2024, 11, 1), ["overdue_return"])
    found = flags("overdue_return")
    assert [(f.subject, f.period, f.event_date) for f in found] == [
        ("BLOCK", "2024-Q1", date(2024, 7, 30)),
        ("BLOCK", "2024-Q2", date(2024, 10, 30)),
    ]
    assert found[0].detail.endswith("due on 30 Jul 2024: 94 days overdue")
    checks.run(date(2024, 11, 1), ["overdue_return"])
    assert len(flags("overdue_return")) == 2
    returns.save(
        returns.outcomes_of(block), block.provider, "2024-Q1", values(), {}, None, date(2024, 11, 2), submit=True
    )
    # Submitting resolves its flag at once, in the same transaction; the next check agrees.
    assert [f.status for f in flags("overdue_return")] == ["resolved", "open"]
    checks.run(date(2024, 11, 2), ["overdue_return"])
    assert [f.status for f in flags("overdue_return")] == ["resolved", "open"]


def test_kpi_red_in_two_consecutive_quarters(dev):
    load("outcomes", OUTCOMES)
    text = RETURNS.replace("2019-11-04", "2019-10-29") + (
        "DEV,Riverbank Care Ltd,2019-Q3,EET,70,2020-01-20\n"
        "DEV,Riverbank Care Ltd,2019-Q3,HEALTH,100,2020-01-20\n"
        "DEV,Riverbank Care Ltd,2019-Q3,MFC,1,2020-01-20\n"
    )
    load("returns", text)
    checks.run(date(2019, 12, 31), ["kpi_red"])
    assert flags("kpi_red") == []  # Q2 alone is red
    checks.run(date(2020, 1, 20), ["kpi_red"])
    (flag,) = flags("kpi_red")
    assert (flag.subject, flag.period, flag.indicators, flag.severity) == ("DEV", "2019-Q3", "EET", "medium")
    assert flag.detail == (
        "Riverbank Care Ltd: red in 2019-Q2 (Jul to Sep 2019) and 2019-Q3 (Oct to Dec 2019): "
        "Children in education or training (78 then 70)"
    )
    checks.run(date(2020, 1, 20), ["kpi_red"])
    assert len(flags("kpi_red")) == 1
