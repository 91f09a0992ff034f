"""Outcomes frameworks and monitoring returns: who owes a return when, submitting, reviewing.

Who owes a return (DESIGN §4): for each quarter from the one containing the date the outcomes
framework applies from to the one containing the contract's end, a block's provider, and each
provider with a child placed under a framework during the quarter. A return is due a number of
days (default 30) after its quarter ends. Quarters are financial: 2024-Q1 is April to June 2024.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, selectinload

from consortium.core import hooks
from consortium.core.dates import financial_year_start
from consortium.core.extensions import db
from consortium.core.formatting import day
from consortium.core.inputs import MAX_DECIMAL, text_problem
from consortium.core.services import RuleBroken
from consortium.core.sql import CalendarDay, days_between, least, quarter_of, serialise
from consortium.core.tabular import ImportFailed, read_table
from contracts.models import (
    Contract,
    Indicator,
    MonitoringReturn,
    OutcomesFramework,
    Placement,
    ReturnObligation,
    ReturnValue,
    ReturnVersion,
)
from providers.models import Home, Provider

PERIOD = re.compile(r"^(\d{4})-Q([1-4])$")
COMMENT_LENGTH = 1000  # a provider's comment on one value
STARTER_TEMPLATE = "Children's homes: starter outcomes framework"
# (code, name, unit, higher is better, target, amber, red, guidance)
STARTER_INDICATORS = [
    (
        "EET",
        "Children in education, employment or training",
        "percent",
        True,
        95,
        90,
        80,
        "Children of statutory school age on roll and attending, and young people over 16 in education, "
        "employment or training, on the last day of the quarter.",
    ),
    (
        "HEALTH",
        "Health assessments up to date",
        "percent",
        True,
        100,
        95,
        85,
        "Children whose statutory health assessment is in date on the last day of the quarter.",
    ),
    ("MFC", "Missing-from-care episodes", "count", False, 0, 2, 5, "Episodes in the quarter, each counted once."),
    (
        "UNPLANNED",
        "Placement endings not planned",
        "count",
        False,
        0,
        1,
        2,
        "Placements that ended in the quarter without following the care plan.",
    ),
    (
        "VIEWS",
        "Children whose views were sought at review",
        "percent",
        True,
        100,
        95,
        85,
        "Looked-after reviews in the quarter at which the child's views were sought and recorded.",
    ),
    (
        "L3",
        "Staff with the Level 3 diploma",
        "percent",
        True,
        100,
        80,
        60,
        "Care staff holding, or registered for, the Level 3 diploma for residential childcare.",
    ),
    (
        "NOTIFIABLE",
        "Notifiable incidents",
        "count",
        False,
        0,
        2,
        4,
        "Regulation 40 notifications to Ofsted in the quarter.",
    ),
    ("COMPLAINTS", "Complaints", "count", False, 0, 1, 3, "Complaints received in the quarter, from anyone."),
]


def period_label(quarter_start: date) -> str:
    year = financial_year_start(quarter_start).year
    return f"{year}-Q{(quarter_start.month - 4) % 12 // 3 + 1}"


def parse_period(label: str) -> tuple[date, date]:
    """`2024-Q1` as its first and last day."""
    match = PERIOD.match(label.strip().upper())
    if not match:
        raise ValueError(f"period {label!r} is not a quarter like 2024-Q1")
    year, quarter = int(match.group(1)), int(match.group(2))
    month = 3 * quarter + 1
    return quarter_of(date(year + (month > 12), (month - 1) % 12 + 1, 1))


def starter_template() -> OutcomesFramework:
    """The shipped starter template, made on first use."""
    template = db.session.scalar(
        select(OutcomesFramework).where(
            OutcomesFramework.name == STARTER_TEMPLATE, OutcomesFramework.contract_id.is_(None)
        )
    )
    if template is None:
        template = OutcomesFramework(name=STARTER_TEMPLATE)
        for position, (code, name, unit, higher, target, amber, red, guidance) in enumerate(STARTER_INDICATORS):
            template.indicators.append(
                Indicator(
                    code=code,
                    name=name,
                    unit=unit,
                    higher_is_better=higher,
                    target=target,
                    amber=amber,
                    red=red,
                    guidance=guidance,
                    position=position,
                )
            )
        db.session.add(template)
        db.session.flush()
    return template


def attach(
    contract: Contract, template: OutcomesFramework, applies_from: date | None = None, due_days: int = 30
) -> OutcomesFramework:
    """Give a contract its own copy of a template; its thresholds can then be changed for it alone."""
    if db.session.scalar(select(OutcomesFramework.id).where(OutcomesFramework.contract_id == contract.id)):
        raise RuleBroken(f"{contract.ref} already has an outcomes framework")
    copy = OutcomesFramework(
        name=f"{contract.ref}: {template.name}", contract=contract, applies_from=applies_from, due_days=due_days
    )
    for indicator in template.indicators:
        copy.indicators.append(
            Indicator(
                code=indicator.code,
                name=indicator.name,
                unit=indicator.unit,
                higher_is_better=indicator.higher_is_better,
                target=indicator.target,
                amber=indicator.amber,
                red=indicator.red,
                guidance=indicator.guidance,
                position=indicator.position,
            )
        )
    db.session.add(copy)
    db.session.flush()
    return copy


# ---------------------------------------------------------------- the schedule


@dataclass
class Owed:
    contract: Contract
    provider: Provider
    period: str
    quarter_start: date
    quarter_end: date
    due_date: date
    monitoring_return: MonitoringReturn | None

    def status(self, today: date) -> str:
        """due / overdue / submitted / accepted / returned (and "in progress" before the quarter ends)."""
        current = self.monitoring_return
        if current is not None and current.status != "draft":
            return current.status
        if today <= self.quarter_end:
            return "in progress"
        return "overdue" if today > self.due_date else "due"


def _owed_pairs(condition, as_of, provider_id: int | None = None):
    """(outcomes framework, contract, quarter, provider) for every return the outcomes frameworks
    matching `condition` expect for the quarters begun by `as_of` (a date, or a date in SQL):
    one query for all of them."""
    as_of = as_of if isinstance(as_of, ColumnElement) else literal(as_of, Date)
    quarter = (
        select(CalendarDay.quarter_start, CalendarDay.quarter_end)
        .where(CalendarDay.day == CalendarDay.quarter_start)
        .subquery("quarter")
    )

    def owed_in(quarter_start, quarter_end):
        # From the quarter containing the day the framework applies from (the contract's start by default).
        return and_(
            quarter_end >= func.coalesce(OutcomesFramework.applies_from, Contract.start_date),
            quarter_start <= least(Contract.end_date, as_of),
        )

    frameworks = (
        select(OutcomesFramework.id.label("outcomes_id"), Contract.id.label("contract_id"))
        .join(Contract, Contract.id == OutcomesFramework.contract_id)
        .where(condition)
    )
    blocks = (
        frameworks.add_columns(
            quarter.c.quarter_start,
            quarter.c.quarter_end,
            OutcomesFramework.due_days,
            Contract.provider_id.label("provider_id"),
        )
        .join(quarter, owed_in(quarter.c.quarter_start, quarter.c.quarter_end))
        .where(Contract.kind == "block", Contract.provider_id.is_not(None))
    )
    # The obligations carry their quarters and providers: no calendar or homes to join.
    placed = (
        frameworks.add_columns(
            ReturnObligation.quarter_start,
            ReturnObligation.quarter_end,
            OutcomesFramework.due_days,
            ReturnObligation.provider_id,
        )
        .join(
            ReturnObligation,
            and_(
                ReturnObligation.contract_id == Contract.id,
                owed_in(ReturnObligation.quarter_start, ReturnObligation.quarter_end),
            ),
        )
        .where(Contract.kind != "block")
        .distinct()
    )
    if provider_id is not None:
        blocks, placed = (
            blocks.where(Contract.provider_id == provider_id),
            placed.where(ReturnObligation.provider_id == provider_id),
        )
    return union_all(blocks, placed).subquery("owed")


def refresh_obligations(contract_ids=None, session: Session | None = None, since: date | None = None) -> None:
    """Work out again from their placements which homes owe returns under framework contracts,
    for some contracts (all when None), for every quarter of their terms or (given `since`) for
    the quarters ending on or after it; flushes nothing, so it may run inside a flush."""
    ids = None if contract_ids is None else sorted(set(contract_ids))
    if ids == []:
        return
    connection = (session or db.session).connection()
    serialise(connection, "return obligations", ids)
    # A placement that ended before the quarter containing `since` began owes none of these quarters.
    params = {"ids": ids, "since": since, "quarter_start": quarter_of(since)[0] if since else None}
    for statement in _obligation_statements(ids is not None, since is not None):
        connection.execute(statement, params)


@lru_cache(maxsize=4)
def _obligation_statements(some: bool, from_day: bool) -> tuple:
    """`refresh_obligations`' two statements, for some contracts (the bind parameter `ids`) or
    all, for every quarter or those ending from a day (`since`): built once and kept."""
    quarters = (
        select(CalendarDay.quarter_start, CalendarDay.quarter_end)
        .where(CalendarDay.day == CalendarDay.quarter_start)
        .cte("quarters")
        .prefix_with("MATERIALIZED")
    )
    # The quarters of each contract's term first: then each quarter reads only that contract's placements.
    terms = (
        select(Contract.id.label("contract_id"), quarters.c.quarter_start, quarters.c.quarter_end)
        .join(
            quarters, and_(quarters.c.quarter_start <= Contract.end_date, quarters.c.quarter_end >= Contract.start_date)
        )
        .where(Contract.kind == "framework")
    )
    stale = delete(ReturnObligation)
    placed_since = true()
    if some:
        ids = bindparam("ids", expanding=True)
        terms = terms.where(Contract.id.in_(ids))
        stale = stale.where(ReturnObligation.contract_id.in_(ids))
    if from_day:
        since = bindparam("since", type_=Date)
        terms = terms.where(quarters.c.quarter_end >= since)
        stale = stale.where(ReturnObligation.quarter_end >= since)
        placed_since = or_(Placement.end_date.is_(None), Placement.end_date > bindparam("quarter_start", type_=Date))
    terms = terms.cte("terms").prefix_with("MATERIALIZED")
    placed = (
        select(terms.c.contract_id, terms.c.quarter_start, Placement.home_id, Home.provider_id, terms.c.quarter_end)
        .join(
            Placement,
            and_(
                Placement.contract_id == terms.c.contract_id,
                Placement.start_date <= terms.c.quarter_end,
                or_(Placement.end_date.is_(None), Placement.end_date > terms.c.quarter_start),
                placed_since,
            ),
        )
        .join(Home, Home.id == Placement.home_id)
        .distinct()
    )
    return stale, insert(ReturnObligation).from_select(
        ["contract_id", "quarter_start", "home_id", "provider_id", "quarter_end"], placed
    )


def owed_many(condition, as_of: date, provider_id: int | None = None) -> list[Owed]:
    """The returns the outcomes frameworks matching `condition` expect for the quarters that
    have begun by `as_of`, by contract, oldest first: a fixed number of queries however many."""
    pairs = _owed_pairs(condition, as_of, provider_id)
    rows = db.session.execute(select(pairs)).all()
    if not rows:
        return []
    frameworks = {
        o.id: o
        for o in db.session.scalars(
            select(OutcomesFramework)
            .where(OutcomesFramework.id.in_({r.outcomes_id for r in rows}))
            .options(selectinload(OutcomesFramework.contract))
        )
    }
    providers = {
        p.id: p for p in db.session.scalars(select(Provider).where(Provider.id.in_({r.provider_id for r in rows})))
    }
    found_returns = {
        (r.contract_id, r.provider_id, r.quarter_start): r
        for r in db.session.scalars(
            select(MonitoringReturn).join(
                pairs,
                and_(
                    pairs.c.contract_id == MonitoringReturn.contract_id,
                    pairs.c.provider_id == MonitoringReturn.provider_id,
                    pairs.c.quarter_start == MonitoringReturn.quarter_start,
                ),
            )
        )
    }
    rows.sort(key=lambda r: (frameworks[r.outcomes_id].contract.ref, r.quarter_start, providers[r.provider_id].name))
    return [
        Owed(
            frameworks[r.outcomes_id].contract,
            providers[r.provider_id],
            period_label(r.quarter_start),
            r.quarter_start,
            r.quarter_end,
            r.quarter_end + timedelta(days=r.due_days),
            found_returns.get((r.contract_id, r.provider_id, r.quarter_start)),
        )
        for r in rows
    ]


def owed(outcomes: OutcomesFramework, as_of: date, provider_id: int | None = None) -> list[Owed]:
    """The returns a contract expects for the quarters that have begun by `as_of`, oldest first."""
    return owed_many(OutcomesFramework.id == outcomes.id, as_of, provider_id)


def count_by_status(condition, as_of: date, provider_id: int | None = None) -> dict[str, int]:
    """How many of the returns `owed_many` would list are in each status (see `Owed.status`), counted in SQL."""
    return dict(db.session.execute(count_by_status_query(condition, provider_id), {"as_of": as_of}).all())


def count_by_status_query(condition, provider_id: int | None = None):
    """`count_by_status`'s statement, with the day as the bind parameter `as_of` (so that it can
    be built once and kept)."""
    today = bindparam("as_of", type_=Date)
    pairs = _owed_pairs(condition, today, provider_id)
    status = case(
        (and_(MonitoringReturn.status.is_not(None), MonitoringReturn.status != "draft"), MonitoringReturn.status),
        (today <= pairs.c.quarter_end, "in progress"),
        (days_between(pairs.c.quarter_end, today) > pairs.c.due_days, "overdue"),
        else_="due",
    )
    query = (
        select(status, func.count())
        .select_from(pairs)
        .outerjoin(
            MonitoringReturn,
            and_(
                MonitoringReturn.contract_id == pairs.c.contract_id,
                MonitoringReturn.provider_id == pairs.c.provider_id,
                MonitoringReturn.quarter_start == pairs.c.quarter_start,
            ),
        )
        .group_by(status)
    )
    return query


def outcomes_of(contract: Contract) -> OutcomesFramework | None:
    return db.session.scalar(select(OutcomesFramework).where(OutcomesFramework.contract_id == contract.id))


# ---------------------------------------------------------------- values


def check_value(indicator: Indicator, text: str) -> Decimal | None:
    """A value as typed, checked against its indicator's unit; empty is None."""
    text = (text or "").strip()
    if not text:
        return None
    shown = text if len(text) <= 20 else text[:20] + "…"
    try:
        value = Decimal(text.replace(",", "").lstrip("£"))
    except InvalidOperation:
        raise ValueError(f"{indicator.code}: {shown!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{indicator.code}: {shown!r} is not a number")
    if abs(value) >= MAX_DECIMAL:
        raise ValueError(f"{indicator.code}: {shown!r} is too large")
    if indicator.unit == "percent" and not 0 <= value <= 100:
        raise ValueError(f"{indicator.code}: a percentage is from 0 to 100, not {text}")
    if indicator.unit in ("count", "days") and (value < 0 or value != value.to_integral_value()):
        raise ValueError(f"{indicator.code}: a {indicator.unit} is a whole number of 0 or more, not {text}")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{indicator.code}: at most two decimal places, not {text}")
    return value


def _entry(outcomes: OutcomesFramework, provider: Provider, period: str, as_of: date) -> Owed:
    for entry in owed(outcomes, as_of, provider.id):
        if entry.period == period:
            return entry
    raise RuleBroken(f"{provider.name} owes no return for {outcomes.contract.ref} in {period}")


def _return_for(entry: Owed) -> MonitoringReturn:
    if entry.monitoring_return is None:
        entry.monitoring_return = MonitoringReturn(
            contract=entry.contract,
            provider=entry.provider,
            period=entry.period,
            quarter_start=entry.quarter_start,
            due_date=entry.due_date,
        )
        db.session.add(entry.monitoring_return)
    return entry.monitoring_return


class ReturnProblems(RuleBroken):
    """Every problem with a return's values, each with the field it is about (`value-EET`)."""

    def __init__(self, problems: list[tuple[str | None, str]]):
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


def submittable_from(entry: Owed) -> date:
    """A quarter's return can be submitted once the quarter has ended."""
    return entry.quarter_end + timedelta(days=1)


def save(
    outcomes: OutcomesFramework,
    provider: Provider,
    period: str,
    values: dict[str, str],
    comments: dict[str, str],
    user,
    today: date,
    submit: bool,
    seen_version: int | None = None,
    complete: bool = False,
) -> MonitoringReturn:
    """Save a provider's values as a draft, or submit them. Every indicator needs a value to
    submit, or to save a draft `complete` (the step before the provider confirms submitting it)."""
    entry = _entry(outcomes, provider, period, today)
    monitoring_return = entry.monitoring_return
    if monitoring_return is not None:
        if seen_version is not None and monitoring_return.version != seen_version:
            raise RuleBroken(
                "This return was changed by someone else while you were editing it. Check it and try again."
            )
        if monitoring_return.status in ("submitted", "accepted"):
            raise RuleBroken(f"The return for {period} is {monitoring_return.status}: it can no longer be changed")
    if submit and today <= entry.quarter_end:
        raise RuleBroken(
            f"The return for {period} can be submitted once the quarter has ended, after {day(entry.quarter_end)}"
        )
    problems: list[tuple[str | None, str]] = []
    checked = {}
    for indicator in outcomes.indicators:
        try:
            checked[indicator.id] = check_value(indicator, values.get(indicator.code, ""))
        except ValueError as error:
            problems.append((f"value-{indicator.code}", str(error)))
        else:
            if (submit or complete) and checked[indicator.id] is None:
                problems.append(
                    (f"value-{indicator.code}", f"{indicator.code}: enter a value for {indicator.name.lower()}")
                )
        problem = text_problem(f"{indicator.code}: the comment", comments.get(indicator.code), COMMENT_LENGTH)
        if problem:
            problems.append((f"comment-{indicator.code}", problem))
    unknown = set(values) - {i.code for i in outcomes.indicators}
    if unknown:
        problems.append(
            (None, f"unknown indicator code{'s' if len(unknown) > 1 else ''}: {', '.join(sorted(unknown))}")
        )
    if problems:
        raise ReturnProblems(problems)
    monitoring_return = _return_for(entry)
    version = monitoring_return.current
    if version is None or version.submitted_on is not None:
        version = ReturnVersion(number=len(monitoring_return.versions) + 1)
        monitoring_return.versions.append(version)
    for indicator in outcomes.indicators:
        comment = (comments.get(indicator.code) or "").strip() or None
        existing = version.value_of(indicator.id)
        if existing is None:
            version.values.append(ReturnValue(indicator_id=indicator.id, value=checked[indicator.id], comment=comment))
        else:
            existing.value, existing.comment = checked[indicator.id], comment
    if submit:
        version.submitted_on, version.submitted_by = today, user
        monitoring_return.status, monitoring_return.submitted_on = "submitted", today
        monitoring_return.late = today > entry.due_date
        hooks.run("return_submitted", monitoring_return=monitoring_return, on=today)
    else:
        monitoring_return.status = "draft" if monitoring_return.status != "returned" else "returned"
    db.session.flush()
    return monitoring_return


# The columns of a return's template, as downloaded and filled in.
TEMPLATE_COLUMNS = {"required": ["indicator_code", "value"], "optional": ["comment"]}


def save_upload(
    outcomes: OutcomesFramework, provider: Provider, period: str, content: bytes, filename: str, user, today: date
) -> MonitoringReturn:
    """A filled-in template saved as the return's draft, to be checked before it is submitted:
    every indicator once, no line twice; the file is refused whole, saying why."""
    try:
        table = read_table(content, filename, **TEMPLATE_COLUMNS)
    except ImportFailed as failed:
        raise RuleBroken(str(failed)) from None
    given, comments, problems = {}, {}, []
    for row in table.rows:
        code = row["indicator_code"].strip().upper()
        if code in given:
            problems.append(f"line {row.line}: {code} appears twice")
        given[code], comments[code] = row["value"], row["comment"]
    missing = [i.code for i in outcomes.indicators if i.code not in given]
    if missing:
        problems.append(f"no line for {', '.join(missing)}")
    if problems:
        raise RuleBroken("; ".join(problems))
    return save(outcomes, provider, period, given, comments, user, today, submit=False, complete=True)


def submit_draft(
    outcomes: OutcomesFramework, provider: Provider, period: str, user, today: date, seen_version: int | None
) -> MonitoringReturn:
    """Submit the values the provider saved and checked: the last step, after which they are locked."""
    entry = _entry(outcomes, provider, period, today)
    current = entry.monitoring_return.current if entry.monitoring_return else None
    if current is None or current.submitted_on is not None:
        raise RuleBroken(f"There is no draft of the {period} return to submit: enter its values first")
    values = {v.indicator.code: (f"{v.value.normalize():f}" if v.value is not None else "") for v in current.values}
    comments = {v.indicator.code: v.comment or "" for v in current.values}
    return save(outcomes, provider, period, values, comments, user, today, submit=True, seen_version=seen_version)


def review(monitoring_return: MonitoringReturn, decision: str, comment: str, user, seen_version: int | None) -> None:
    """A lead accepts a submitted return, or returns it to the provider with comments."""
    if seen_version is not None and monitoring_return.version != seen_version:
        raise RuleBroken("This return was changed by someone else while you were reviewing it. Check it and try again.")
    if monitoring_return.status != "submitted":
        raise RuleBroken(f"Only a submitted return can be reviewed; this one is {monitoring_return.status}")
    if decision == "return" and not (comment or "").strip():
        raise RuleBroken("Say what needs correcting", "comment")
    if decision not in ("accept", "return"):
        raise RuleBroken("Accept the return or return it for correction", "decision")
    monitoring_return.status = "accepted" if decision == "accept" else "returned"
    monitoring_return.reviewed_by, monitoring_return.reviewed_at = user, datetime.now(UTC)
    monitoring_return.review_comment = (comment or "").strip() or None
    monitoring_return.current.review_comment = monitoring_return.review_comment if decision == "return" else None
    db.session.flush()


# ---------------------------------------------------------------- results


def results(outcomes: OutcomesFramework, provider_id: int | None = None, submitted_by: date | None = None) -> dict:
    """The values of accepted returns, from each one's latest submission (made by a date, when
    given): {(provider_id, indicator_id, period): value}."""
    submitted = ReturnVersion.submitted_on.is_not(None)
    if submitted_by is not None:
        submitted = and_(submitted, ReturnVersion.submitted_on <= submitted_by)
    theirs = and_(MonitoringReturn.contract_id == outcomes.contract_id, MonitoringReturn.status == "accepted")
    if provider_id is not None:
        theirs = and_(theirs, MonitoringReturn.provider_id == provider_id)
    # The latest submission of these returns alone, not of every return in the country.
    latest = (
        select(ReturnVersion.return_id, func.max(ReturnVersion.number).label("number"))
        .join(MonitoringReturn, MonitoringReturn.id == ReturnVersion.return_id)
        .where(submitted, theirs)
        .group_by(ReturnVersion.return_id)
        .subquery()
    )
    query = (
        select(MonitoringReturn.provider_id, ReturnValue.indicator_id, MonitoringReturn.period, ReturnValue.value)
        .join(ReturnVersion, ReturnVersion.return_id == MonitoringReturn.id)
        .join(latest, and_(latest.c.return_id == ReturnVersion.return_id, latest.c.number == ReturnVersion.number))
        .join(ReturnValue, ReturnValue.version_id == ReturnVersion.id)
        .where(theirs)
    )
    return {(pid, iid, period): value for pid, iid, period, value in db.session.execute(query)}


def set_thresholds(indicator: Indicator, target, amber, red) -> None:
    """Change an indicator's thresholds for this contract alone (templates are copied, not shared)."""
    if indicator.outcomes_framework.contract_id is None:
        raise RuleBroken("Templates are changed by copying them to a contract")
    worse_red = red > amber if indicator.higher_is_better else red < amber
    if worse_red:
        side = "at or below" if indicator.higher_is_better else "at or above"
        raise RuleBroken(f"The red threshold must be {side} the amber one", "red")
    indicator.target, indicator.amber, indicator.red = target, amber, red
    db.session.flush()


def red_values(as_of: date):
    """Values that are red, from accepted returns submitted by a date, across every contract:
    (contract_id, provider_id, indicator_id, period, value), each from its return's latest submission."""
    latest = (
        select(ReturnVersion.return_id, func.max(ReturnVersion.number).label("number"))
        .where(ReturnVersion.submitted_on.is_not(None), ReturnVersion.submitted_on <= as_of)
        .group_by(ReturnVersion.return_id)
        .subquery()
    )
    red = case((Indicator.higher_is_better, ReturnValue.value < Indicator.red), else_=ReturnValue.value > Indicator.red)
    return (
        select(
            MonitoringReturn.contract_id,
            MonitoringReturn.provider_id,
            ReturnValue.indicator_id,
            MonitoringReturn.period,
            ReturnValue.value,
        )
        .join(ReturnVersion, ReturnVersion.return_id == MonitoringReturn.id)
        .join(latest, and_(latest.c.return_id == ReturnVersion.return_id, latest.c.number == ReturnVersion.number))
        .join(ReturnValue, ReturnValue.version_id == ReturnVersion.id)
        .join(Indicator, Indicator.id == ReturnValue.indicator_id)
        .where(MonitoringReturn.status == "accepted", ReturnValue.value.is_not(None), red)
    )


def results_table(outcomes: OutcomesFramework, today: date, provider_id: int | None = None) -> dict:
    """A contract's returns as its page shows them: what is owed (latest first), the accepted
    values, the last eight periods with any, and the providers with a value in them (by name).
    `provider_id`: one provider's alone."""
    entries = owed(outcomes, today, provider_id)
    values = results(outcomes, provider_id)
    periods = sorted({period for (_, _, period) in values})[-8:]
    providers = sorted(
        {
            e.provider
            for e in entries
            if any((e.provider.id, i.id, p) in values for i in outcomes.indicators for p in periods)
        },
        key=lambda p: p.name,
    )
    return {"entries": entries[::-1], "values": values, "periods": periods, "providers": providers}
