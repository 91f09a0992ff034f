"""The forecast of DESIGN §4b with hand-worked examples: Kaplan-Meier survival with censoring,
the forecast's sum, its steady state, the block beds beside it and the back-test."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consortium.core.extensions import db
from consortium.core.models import Authority
from consortium.sufficiency import forecast as fc
from tests.factories import (
    AuthorityFactory,
    BlockPriceFactory,
    ConsortiumFactory,
    ContractFactory,
    HomeFactory,
    PlacementFactory,
)

AS_OF = date(2026, 12, 1)

# Three placements ended after 3, 5 and 5 nights; two are still open, aged 4 and 8 days.
ROWS = [(3, 1, 0), (5, 2, 0), (4, 0, 1), (8, 0, 1)]


def test_survival_counts_a_censored_placement_at_risk_up_to_its_age_and_never_as_ending():
    survival = fc.Survival(ROWS)
    curve = survival.curve(10)
    # At 3: 1 ends of 5 at risk: 4/5. At 4 one open placement leaves the risk set. At 5: 2 of 3 end.
    assert curve[:3] == [1.0, 1.0, 1.0]
    assert curve[3] == curve[4] == pytest.approx(0.8)
    assert curve[5] == pytest.approx(0.8 * (1 - 2 / 3))  # 0.2667, flat after the last ending
    assert curve[10] == pytest.approx(0.8 / 3)
    assert survival.median_days() == 5 and survival.total == 5


def test_the_forecast_adds_the_open_placements_still_open_and_the_starts_still_open():
    survival = fc.Survival(ROWS)
    # Two days on: the one aged 4 is open with S(6)/S(4) = 0.2667/0.8, the one aged 8 with
    # S(10)/S(8) = 1; 0.2 starts a day, each open with S(1) and S(0): 0.2 x 2.
    [value] = fc.project(survival, [(4, 1), (8, 1)], 0.2, AS_OF, [AS_OF + timedelta(days=2)])
    assert value == pytest.approx(1 / 3 + 1 + 0.4)


@settings(max_examples=60, deadline=None)
@given(
    per_day=st.integers(min_value=1, max_value=5),
    lasting=st.integers(min_value=1, max_value=400),
    ahead=st.integers(min_value=1, max_value=730),
)
def test_a_constant_start_rate_and_one_duration_hold_a_steady_state_of_rate_times_duration(per_day, lasting, ahead):
    """Every placement lasts `lasting` nights and `per_day` start each day: those open now are
    `per_day` of each age below `lasting`; those that ended, many, all lasted `lasting`."""
    ended = per_day * 5 * 365
    survival = fc.Survival([(lasting, ended, 0)] + [(age, 0, per_day) for age in range(lasting)])
    open_ages = [(age, per_day) for age in range(lasting)]
    [value] = fc.project(survival, open_ages, per_day, AS_OF, [AS_OF + timedelta(days=ahead)])
    assert value == pytest.approx(per_day * lasting)


def test_month_ends_start_after_the_day():
    assert fc.month_ends(date(2026, 11, 30), 3) == [date(2026, 12, 31), date(2027, 1, 31), date(2027, 2, 28)]
    assert fc.month_ends(date(2027, 12, 15), 2) == [date(2027, 12, 31), date(2028, 1, 31)]


@pytest.fixture
def scope():
    authority = AuthorityFactory(code="E06000018", name="Nottingham")
    # The five placements of ROWS, as dates, and one of another type and one of another authority.
    for start, end in (
        (date(2026, 11, 1), date(2026, 11, 4)),
        (date(2026, 11, 1), date(2026, 11, 6)),
        (date(2026, 11, 10), date(2026, 11, 15)),
        (date(2026, 11, 27), None),  # aged 4 on 1 December
        (date(2026, 11, 23), None),  # aged 8
    ):
        PlacementFactory(authority=authority, start_date=start, end_date=end)
    PlacementFactory(authority=authority, start_date=date(2026, 11, 2), placement_type="kinship")
    PlacementFactory(start_date=date(2026, 11, 2))
    return fc.authority_scope(authority)


def test_the_forecast_reads_the_placements_as_the_worked_example(scope):
    made = fc.forecast(scope, "residential", AS_OF)
    assert sorted(fc.survival_rows(scope, "residential", AS_OF)) == sorted(ROWS)
    assert (made.open_now, made.starts_last_year, made.median_days, made.history) == (2, 5, 5, 5)
    # 31 December, 30 days on: the open ones 0.2667/0.8 + 1; the starts (5 a year) each open with
    # S(0..29) = 3 x 1 + 2 x 0.8 + 25 x 0.2667 = 11.2667 days: 5/365 x 11.2667 = 0.1543. 1.4877 in all.
    first = made.points[0]
    assert (first.month_end, first.forecast) == (date(2026, 12, 31), Decimal("1.5"))
    assert len(made.points) == 24 and made.points[-1].month_end == date(2028, 11, 30)
    assert made.starts_a_month == Decimal("0.4") and made.median_months == Decimal("0.2")


def test_block_beds_step_down_when_a_block_term_ends(scope):
    home = HomeFactory(provision_type="Children's home")
    block = ContractFactory(
        consortium=ConsortiumFactory(),
        owner_code=scope.authority_code,
        beds=4,
        start_date=date(2025, 4, 1),
        end_date=date(2027, 3, 31),
    )
    block.homes.append(home)
    BlockPriceFactory(contract=block, effective_from=date(2025, 4, 1))
    beds = fc.block_beds(scope, "residential", [date(2027, 3, 31), date(2027, 4, 30)])
    assert beds == [4, 0]
    assert fc.block_beds(scope, "supported_accommodation", [date(2027, 3, 31)]) == [0]


def test_the_back_test_sets_the_forecast_of_a_year_ago_beside_what_happened(scope):
    tested = fc.back_test(scope, "residential", date(2027, 12, 1))
    assert tested.made_on == date(2026, 12, 1) and len(tested.rows) == 12  # December 2026 to November 2027
    first_end, then, actual = tested.rows[0]
    assert (first_end, then, actual) == (date(2026, 12, 31), Decimal("1.5"), 2)  # both still open
    # The errors, by hand: |1.5 - 2|, |2.5 - 2|, |3 - 0| average 1.3; of the two with any open, 25% each.
    worked = fc.BackTest(AS_OF, [(AS_OF, Decimal("1.5"), 2), (AS_OF, Decimal("2.5"), 2), (AS_OF, Decimal("3.0"), 0)])
    assert (worked.mean_error, worked.mean_percent_error) == (Decimal("1.3"), Decimal("25.0"))


def test_the_command_prints_the_24_month_ends_as_csv(runner, scope):
    result = runner.invoke(
        args=["sufficiency", "forecast", "--authority", "E06000018", "--type", "residential", "--as-of", "2026-12-01"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:2] == ["month_end,forecast,block_beds", "2026-12-31,1.5,0"] and len(lines) == 25
    both = runner.invoke(
        args=["sufficiency", "forecast", "--authority", "E06000018", "--consortium", "X", "--type", "residential"]
    )
    assert both.exit_code != 0 and "either --authority or --consortium" in both.output
    unknown = runner.invoke(args=["sufficiency", "forecast", "--consortium", "NOPE", "--type", "residential"])
    assert unknown.exit_code != 0 and "there is no consortium 'NOPE'" in unknown.output
    bad_day = runner.invoke(
        args=["sufficiency", "forecast", "--authority", "E06000018", "--type", "residential", "--as-of", "2026-13-01"]
    )
    assert bad_day.exit_code != 0 and "Traceback" not in bad_day.output


def test_the_nightly_job_keeps_what_working_it_out_again_gives(scope):
    from audits import jobs
    from consortium.sufficiency import demand as dm
    from consortium.sufficiency import snapshots
    from tests.factories import MembershipFactory

    MembershipFactory(consortium=ConsortiumFactory(), authority=db.session.get(Authority, scope.authority_code))
    jobs.run_checks(AS_OF)  # the checks, then the forecasts after them
    kept = snapshots.read(scope, "residential", AS_OF)
    again, again_test = fc.forecast(scope, "residential", AS_OF), fc.back_test(scope, "residential", AS_OF)
    assert kept.forecast.points == again.points and kept.back_test.rows == again_test.rows
    assert (kept.forecast.open_now, kept.forecast.starts_last_year, kept.forecast.median_days) == (2, 5, 5)
    assert kept.stability == dm.stability(scope, 2026)
    first, last = snapshots.default_period(AS_OF)
    assert kept.as_of == AS_OF and kept.demand == dm.demand(scope, first, last)
    assert snapshots.read(scope, "residential", AS_OF - timedelta(days=1)) == snapshots.Kept()  # none before
    assert snapshots.read(scope, "kinship", AS_OF).forecast.open_now == 1
