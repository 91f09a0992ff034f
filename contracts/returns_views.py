"""Monitoring returns: the schedule, a provider's submission (form or template), a lead's review,
and the results coloured by RAG."""

from __future__ import annotations

from datetime import date
from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consortium.core import panels
from consortium.core.access import allowed, scoped
from consortium.core.exports import export
from consortium.core.extensions import db
from consortium.core.formatting import day
from consortium.core.forms import ConfirmForm, act, form_page, handle, made
from consortium.core.inputs import STALE, parse_id
from consortium.core.models import CONSORTIUM_ROLES
from consortium.core.pagination import paginate_list
from consortium.core.services import RuleBroken
from contracts import returns
from contracts.charts import trend_svg
from contracts.forms import IndicatorForm, ReturnUploadForm, ReviewForm
from contracts.models import Contract, Indicator, MonitoringReturn, OutcomesFramework

bp = Blueprint("returns", __name__, template_folder="templates")


def register_panels(app) -> None:
    panels.add(app, "provider", provider_results)


def provider_results(provider) -> str:
    """A provider's latest accepted results on each contract, counted by colour."""
    summaries = []
    theirs = select(MonitoringReturn.contract_id).where(MonitoringReturn.provider_id == provider.id)
    for outcomes in _visible_outcomes(OutcomesFramework.contract_id.in_(theirs)):
        values = returns.results(outcomes, provider.id)
        if not values:
            continue
        latest = max(period for (_, _, period) in values)
        colours = [i.rag(values.get((provider.id, i.id, latest))) for i in outcomes.indicators]
        summaries.append((outcomes.contract, latest, {c: colours.count(c) for c in ("red", "amber", "green")}))
    return render_template("contracts/_provider_results.html", summaries=summaries)


def _visible_outcomes(*conditions) -> list[OutcomesFramework]:
    return list(
        db.session.scalars(
            select(OutcomesFramework)
            .where(OutcomesFramework.contract_id.in_(scoped(Contract).select(Contract.id)), *conditions)
            .options(selectinload(OutcomesFramework.contract), selectinload(OutcomesFramework.indicators))
        )
    )


def _entries_for_user(today: date) -> list[returns.Owed]:
    provider_id = current_user.provider_id if current_user.role == "provider" else None
    return returns.owed_many(
        OutcomesFramework.contract_id.in_(scoped(Contract).select(Contract.id)), today, provider_id
    )


@bp.get("/returns")
@allowed("lead", "partner", "provider")
def schedule():
    today = date.today()
    # What needs doing first (overdue, due, returned, waiting for review), newest first; then the rest, newest first.
    entries = sorted(
        _entries_for_user(today),
        key=lambda e: (e.status(today) not in ("overdue", "due", "returned", "submitted"), -e.due_date.toordinal()),
    )
    status = request.args.get("status", "")
    if status:
        entries = [e for e in entries if e.status(today) == status]
    page = paginate_list(entries, request.args.get("page", type=int))
    return render_template("contracts/returns.html", entries=page.items, page=page, today=today, status=status)


@bp.get("/returns/export.<fmt>")
@allowed("lead", "partner", "provider")
def export_schedule(fmt):
    today = date.today()
    rows = (
        [
            e.period,
            e.contract.ref,
            e.provider.name,
            e.due_date.isoformat(),
            e.status(today),
            "yes" if e.monitoring_return and e.monitoring_return.late else "",
        ]
        for e in _entries_for_user(today)
    )
    return export("returns", fmt, ["period", "contract", "provider", "due", "status", "late"], rows)


def _contract_outcomes(contract_id) -> tuple[Contract, OutcomesFramework | None]:
    contract = scoped(Contract).get_or_404(contract_id)
    return contract, returns.outcomes_of(contract)


@bp.get("/contracts/<int:contract_id>/returns")
@allowed(*CONSORTIUM_ROLES)
def contract_returns(contract_id):
    contract, outcomes = _contract_outcomes(contract_id)
    today = date.today()
    context = {"contract": contract, "outcomes": outcomes, "today": today}
    if outcomes is not None:
        provider_id = current_user.provider_id if current_user.role == "provider" else None
        table = returns.results_table(outcomes, today, provider_id)
        context.update(table, charts=_trend_charts(outcomes, table["providers"], table["periods"], table["values"]))
    return render_template("contracts/contract_returns.html", **context)


def _trend_charts(outcomes: OutcomesFramework, providers, periods, values) -> dict:
    """Each provider's trend on each indicator over the periods shown."""
    return {
        (p.id, i.id): trend_svg(i, [(period, values.get((p.id, i.id, period))) for period in periods])
        for p in providers
        for i in outcomes.indicators
    }


@bp.post("/contracts/<int:contract_id>/outcomes")
@allowed("lead")
def attach_starter(contract_id):
    contract, outcomes = _contract_outcomes(contract_id)
    if act(lambda: returns.attach(contract, returns.starter_template())).saved:
        flash("The starter outcomes framework now applies to this contract; change its thresholds as agreed", "success")
    return redirect(url_for(".contract_returns", contract_id=contract.id))


@bp.route("/indicators/<int:indicator_id>", methods=["GET", "POST"])
@allowed("lead")
def indicator(indicator_id):
    indicator = scoped(Indicator).get_or_404(indicator_id)
    outcomes = indicator.outcomes_framework
    if outcomes.contract_id is None:
        abort(404)
    form = IndicatorForm(obj=indicator if request.method == "GET" else None)
    change = partial(returns.set_thresholds, indicator, form.target.data, form.amber.data, form.red.data)
    if handle(form, change, "red").saved:
        flash(f"Thresholds of {indicator.code} saved for {outcomes.contract.ref}", "success")
        return redirect(url_for(".contract_returns", contract_id=outcomes.contract_id))
    direction = "higher is better" if indicator.higher_is_better else "lower is better"
    return form_page(
        "form.html",
        form,
        title=f"Thresholds of {indicator.name}",
        caption=f"{outcomes.contract.ref} · {indicator.unit}, {direction}",
        back=url_for(".contract_returns", contract_id=outcomes.contract_id),
    )


# ---------------------------------------------------------------- one return


def _entry(contract_id, provider_id, period) -> tuple[OutcomesFramework, returns.Owed]:
    contract, outcomes = _contract_outcomes(contract_id)
    if outcomes is None:
        abort(404)
    if current_user.role == "provider" and provider_id != current_user.provider_id:
        abort(404)  # never another provider's return
    entry = next((e for e in returns.owed(outcomes, date.today(), provider_id) if e.period == period), None)
    if entry is None:
        abort(404)
    return outcomes, entry


def _can_edit(entry: returns.Owed) -> bool:
    current = entry.monitoring_return
    return current_user.role == "provider" and (current is None or current.status in ("draft", "returned"))


@bp.route("/contracts/<int:contract_id>/returns/<int:provider_id>/<period>", methods=["GET", "POST"])
@allowed(*CONSORTIUM_ROLES)
def monitoring_return(contract_id, provider_id, period):
    """A provider fills in a return: *Save as draft*, or *Continue* to check it before submitting
    (once the quarter has ended)."""
    outcomes, entry = _entry(contract_id, provider_id, period)
    today = date.today()
    if request.method != "POST":
        stored = entry.monitoring_return.current if entry.monitoring_return else None
        return _return_page(outcomes, entry, today, *_stored_values(outcomes, stored), [])
    if not _can_edit(entry):
        abort(403)
    typed = {i.code: request.form.get(f"value-{i.code}", "") for i in outcomes.indicators}
    comments = {i.code: request.form.get(f"comment-{i.code}", "") for i in outcomes.indicators}
    to_check = request.form.get("action") == "submit"
    errors = _save_return(outcomes, entry, typed, comments, today, to_check)
    if errors:
        return _return_page(outcomes, entry, today, typed, comments, errors)
    if not to_check:
        flash("Draft saved", "success")
    page = ".check_return" if to_check else ".monitoring_return"
    return redirect(url_for(page, contract_id=contract_id, provider_id=provider_id, period=period))


def _save_return(
    outcomes, entry, typed: dict, comments: dict, today: date, to_check: bool
) -> list[tuple[str | None, str]]:
    """Save the return as typed (a draft; complete when it is to be checked): what was wrong, by field."""
    problems = []

    def refused(broken: RuleBroken) -> None:
        problems.extend(broken.problems if isinstance(broken, returns.ReturnProblems) else [(None, str(broken))])

    version = parse_id(request.form.get("version", "")) or STALE
    save = partial(returns.save, outcomes, entry.provider, entry.period, typed, comments, current_user, today)
    made(partial(save, submit=False, seen_version=version, complete=to_check), refused)
    return problems


def _stored_values(outcomes, current) -> tuple[dict, dict]:
    """A return's values and comments as stored, to fill the form in."""
    typed, comments = {}, {}
    if current is not None:
        for indicator in outcomes.indicators:
            stored = current.value_of(indicator.id)
            typed[indicator.code] = "" if stored is None or stored.value is None else f"{stored.value.normalize():f}"
            comments[indicator.code] = (stored.comment or "") if stored else ""
    return typed, comments


def _return_page(outcomes, entry, today: date, typed: dict, comments: dict, errors: list):
    review_form = ReviewForm()
    if entry.monitoring_return is not None:
        review_form.version.data = entry.monitoring_return.version
    return render_template(
        "contracts/monitoring_return.html",
        outcomes=outcomes,
        entry=entry,
        today=today,
        editable=_can_edit(entry),
        typed=typed,
        comments=comments,
        errors=errors,
        field_errors={field: message for field, message in errors if field},
        upload_form=ReturnUploadForm(),
        review_form=review_form,
        submittable_from=returns.submittable_from(entry),
    ), 400 if errors else 200


@bp.route("/contracts/<int:contract_id>/returns/<int:provider_id>/<period>/check", methods=["GET", "POST"])
@allowed("provider")
def check_return(contract_id, provider_id, period):
    """Check your answers before submitting: a submitted return is locked."""
    outcomes, entry = _entry(contract_id, provider_id, period)
    back = url_for(".monitoring_return", contract_id=contract_id, provider_id=provider_id, period=period)
    current = entry.monitoring_return.current if entry.monitoring_return else None
    if not _can_edit(entry) or current is None:
        return redirect(back)
    if date.today() < (opens := returns.submittable_from(entry)):
        flash(f"You can submit this return from {day(opens)}: your values are saved as a draft", "info")
        return redirect(back)
    if request.method == "POST":
        version = parse_id(request.form.get("version")) or STALE
        submit = partial(returns.submit_draft, outcomes, entry.provider, period, current_user, date.today(), version)
        if act(submit).saved:
            flash("Return submitted: the contract manager will review it", "success")
        return redirect(back)
    return render_template(
        "contracts/check_return.html", outcomes=outcomes, entry=entry, current=current, form=ConfirmForm(), back=back
    )


@bp.get("/contracts/<int:contract_id>/returns/<int:provider_id>/<period>/template.<fmt>")
@allowed("provider", "lead")
def return_template(contract_id, provider_id, period, fmt):
    outcomes, entry = _entry(contract_id, provider_id, period)
    rows = ([i.code, "", "", i.name, i.unit] for i in outcomes.indicators)
    return export(
        f"{entry.contract.ref}-{period}-return", fmt, ["indicator_code", "value", "comment", "name", "unit"], rows
    )


@bp.post("/contracts/<int:contract_id>/returns/<int:provider_id>/<period>/upload")
@allowed("provider")
def upload_return(contract_id, provider_id, period):
    outcomes, entry = _entry(contract_id, provider_id, period)
    form = ReturnUploadForm()

    def change():
        file = form.file.data
        return returns.save_upload(
            outcomes, entry.provider, period, file.read(), file.filename or "upload", current_user, date.today()
        )

    def refused(broken):
        flash(f"Nothing was saved: {broken}", "error")

    saved = act(change, form, "Choose the completed template", refused).saved
    if saved:
        flash("Your file's values are saved: check them, then submit the return", "success")
    page = ".check_return" if saved else ".monitoring_return"
    return redirect(url_for(page, contract_id=contract_id, provider_id=provider_id, period=period))


@bp.post("/returns/<int:return_id>/review")
@allowed("lead")
def review(return_id):
    monitoring_return = scoped(MonitoringReturn).get_or_404(return_id)
    form = ReviewForm()
    target = url_for(
        ".monitoring_return",
        contract_id=monitoring_return.contract_id,
        provider_id=monitoring_return.provider_id,
        period=monitoring_return.period,
    )

    def change():
        return returns.review(monitoring_return, form.decision.data, form.comment.data, current_user, form.seen_version)

    if act(change, form, "Choose a decision").saved:
        flash(
            "Return accepted" if form.decision.data == "accept" else "Return sent back to the provider for correction",
            "success",
        )
    return redirect(target)
