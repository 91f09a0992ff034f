"""Cost pools and statements for leads; usage and recharges for partners."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from consortium.core.access import allowed, scoped
from consortium.core.exports import export
from consortium.core.formatting import money
from consortium.core.forms import ConfirmForm, act, form_page, handle, handle_after_check
from consortium.core.models import Cofunder, Consortium
from consortium.core.services import RuleBroken
from consortium.recharges import contributions, services
from consortium.recharges.forms import (
    BlockPoolForm,
    CreditForm,
    IssueForm,
    PaidForm,
    PoolForm,
)
from consortium.recharges.models import CostPool, Statement
from consortium.recharges.pdf import statement_pdf
from contracts.models import Contract
from contracts.returns import parse_period

bp = Blueprint("recharges", __name__, template_folder="templates")


def _fixed(text: str) -> dict[str, Decimal]:
    shares = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        code, _, percent = line.partition("=")
        try:
            shares[code.strip().upper()] = Decimal(percent.strip().rstrip("%"))
        except InvalidOperation:
            raise RuleBroken(f"{line.strip()!r} is not like E06000018 = 12.5", "fixed") from None
    return shares


@bp.get("/recharges")
@allowed("lead")
def pools():
    pools = scoped(CostPool).all(CostPool.first_day.desc(), CostPool.id.desc())
    return render_template("recharges/pools.html", pools=pools)


@bp.route("/recharges/new", methods=["GET", "POST"])
@allowed("lead")
def new_pool():
    form = PoolForm()

    def change():
        return services.create_pool(
            current_user.consortium,
            form.name.data,
            form.first_day.data,
            form.last_day.data,
            int(form.amount.data * 100),
            form.basis.data,
            form.base_percent.data or 0,
            _fixed(form.fixed.data) if form.basis.data == "fixed" else None,
            form.notes.data,
        )

    if (done := handle(form, change, "amount")).saved:
        flash("Pool created: check the shares, then draft the statements", "success")
        return redirect(url_for(".pool", pool_id=done.result.id))
    return form_page("recharges/form.html", form, title="Create a cost pool")


@bp.route("/recharges/block", methods=["GET", "POST"])
@allowed("lead")
def new_block_pool():
    form = BlockPoolForm()
    form.contract_id.choices = [("", "Choose a block contract")] + [
        (str(c.id), f"{c.ref}: {c.title}") for c in services.shared_blocks()
    ]

    def change():
        contract = scoped(Contract).get_or_404(int(form.contract_id.data))
        return services.create_block_pool(contract, form.first_day.data, form.last_day.data)

    if (done := handle(form, change, "contract_id")).saved:
        flash(f"Pool created from {done.result.contract.ref}: shared by the bed-nights each member used", "success")
        return redirect(url_for(".pool", pool_id=done.result.id))
    return form_page(
        "recharges/form.html",
        form,
        title="Share a block contract's cost",
        intro="The cost is the beds times the price per bed-week for each night, whether used or not.",
    )


@bp.get("/recharges/<int:pool_id>")
@allowed("lead")
def pool(pool_id):
    pool = scoped(CostPool).get_or_404(pool_id)
    result, problem = None, None
    if not pool.statements:
        try:
            result = services.pool_preview(pool)
        except RuleBroken as broken:
            problem = str(broken)
    names = services.payer_names(share.code for share in result.shares) if result else {}
    return render_template(
        "recharges/pool.html",
        pool=pool,
        result=result,
        problem=problem,
        form=ConfirmForm(),
        names=names,
        waiting=services.waits_for_usage(pool, date.today()),
        description=services.describe(pool),
        drafts=[s for s in pool.statements if s.status == "draft"],
        total=sum(s.amount_pence for s in pool.statements if s.status != "draft"),
    )


@bp.post("/recharges/<int:pool_id>/draft")
@allowed("lead")
def draft(pool_id):
    pool = scoped(CostPool).get_or_404(pool_id)
    if (done := act(lambda: services.draft_statements(pool))).saved:
        flash(f"{len(done.result)} draft statements: check them, then issue them all", "success")
    return redirect(url_for(".pool", pool_id=pool.id))


@bp.route("/recharges/<int:pool_id>/issue", methods=["GET", "POST"])
@allowed("lead")
def issue(pool_id):
    """Check the statements as they will be issued, worked out afresh, then issue exactly those:
    if the figures change in between, nothing is issued and the new figures are shown."""
    pool = scoped(CostPool).get_or_404(pool_id)
    form = IssueForm()
    refusals = []
    done = act(partial(services.issue, pool, date.today(), form.fingerprint.data or ""), form, refused=refusals.append)
    if done.saved:
        flash(f"{len(done.result)} statements issued, {done.result[0].number} to {done.result[-1].number}", "success")
        return redirect(url_for(".pool", pool_id=pool.id))
    changed = any(isinstance(broken, services.FiguresChanged) for broken in refusals)
    if refusals and not changed:
        flash(str(refusals[0]), "error")
        return redirect(url_for(".pool", pool_id=pool.id))
    return _issue_page(pool, form, changed)


def _issue_page(pool: CostPool, form: IssueForm, changed: bool):
    try:
        lines, notes = services.issue_lines(pool)
    except RuleBroken as broken:
        flash(str(broken), "error")
        return redirect(url_for(".pool", pool_id=pool.id))
    form.fingerprint.data = services.fingerprint(lines)
    return render_template(
        "recharges/issue.html",
        pool=pool,
        form=form,
        lines=lines,
        notes=notes,
        names=services.payer_names(x.code for x in lines),
        changed=changed,
        waiting=services.waits_for_usage(pool, date.today()),
        description=services.describe(pool),
        total=sum(x.amount_pence for x in lines),
    ), 409 if changed else 200


@bp.get("/recharges/<int:pool_id>/statements.<fmt>")
@allowed("lead")
def export_statements(pool_id, fmt):
    pool = scoped(CostPool).get_or_404(pool_id)
    return export(f"statements-pool-{pool.id}", fmt, STATEMENT_COLUMNS, (_statement_row(s) for s in pool.statements))


STATEMENT_COLUMNS = [
    "number",
    "status",
    "payer_code",
    "payer",
    "amount",
    "usage",
    "consortium_usage",
    "share_percent",
    "issued_on",
    "paid_on",
    "credit_for",
    "note",
]


def _statement_row(s: Statement) -> list:
    return [
        s.number or "",
        s.status,
        s.authority_code or s.cofunder.ref,
        s.payer.name,
        f"{Decimal(s.amount_pence) / 100:.2f}",
        s.usage,
        s.consortium_usage,
        f"{s.share_percent:.2f}",
        s.issued_on.isoformat() if s.issued_on else "",
        s.paid_on.isoformat() if s.paid_on else "",
        s.credit_for.number if s.credit_for else "",
        s.note or "",
    ]


@bp.get("/statements/<int:statement_id>")
@allowed("lead", "partner", "cofunder")
def statement(statement_id):
    statement = scoped(Statement).get_or_404(statement_id)
    paid = PaidForm()
    paid.version.data = statement.version
    return render_template(
        "recharges/statement.html",
        statement=statement,
        paid_form=paid,
        today=date.today(),
        description=services.describe(statement.pool) if statement.pool else None,
    )


@bp.get("/statements/<int:statement_id>.pdf")
@allowed("lead", "partner", "cofunder")
def statement_file(statement_id):
    statement = scoped(Statement).get_or_404(statement_id)
    name = statement.number or f"draft-{statement.id}"
    return Response(
        statement_pdf(statement),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )


@bp.post("/statements/<int:statement_id>/paid")
@allowed("lead")
def paid(statement_id):
    statement = scoped(Statement).get_or_404(statement_id)
    form = PaidForm()
    if act(
        lambda: services.mark_paid(statement, form.paid_on.data, form.seen_version), form, "Enter the date it was paid"
    ).saved:
        flash(f"{statement.number} marked paid", "success")
    return redirect(url_for(".statement", statement_id=statement.id))


def _corrected_pence(form) -> int | None:
    return int(form.corrected_amount.data * 100) if form.corrected_amount.data is not None else None


def _credit(statement: Statement, form):
    return services.credit(statement, form.reason.data, _corrected_pence(form), date.today())


def _credit_check_page(statement: Statement, form, _):
    """Made after the savepoint is undone: the numbers taken inside are given back with it."""
    rows = [
        ("Statement", f"{statement.number}, {statement.payer.name}"),
        ("Credited", money(statement.amount_pence)),
        ("Reason", form.reason.data),
    ]
    if _corrected_pence(form):
        rows.append(("A new draft statement for", money(_corrected_pence(form))))
    return render_template(
        "confirm.html",
        title=f"Issue a credit note for {statement.number}?",
        caption=statement.title,
        rows=rows,
        warning="The credit note is numbered and issued at once, and cannot be taken back.",
        button="Issue the credit note",
        back=url_for(".statement", statement_id=statement.id),
    )


@bp.route("/statements/<int:statement_id>/credit", methods=["GET", "POST"])
@allowed("lead")
def credit(statement_id):
    statement = scoped(Statement).get_or_404(statement_id)
    form = CreditForm()
    done = handle_after_check(
        form, partial(_credit, statement, form), "reason", partial(_credit_check_page, statement, form)
    )
    if done.page:
        return done.page
    if done.saved:
        note, replacement = done.result
        flash(
            f"Credit note {note.number} issued" + ("; the replacement is a draft to issue" if replacement else ""),
            "success",
        )
        return redirect(url_for(".statement", statement_id=note.id))
    return form_page(
        "recharges/form.html",
        form,
        title=f"Credit {statement.number}",
        intro=f"A credit note cancels {statement.number} ({statement.payer.name}). Issued statements never change.",
    )


@bp.get("/usage")
@allowed("partner")
def partner_usage():
    """The partner's own usage of each consortium's contracts, quarter by quarter, beside the
    consortium's totals; their statements."""
    code, today = current_user.authority_code, date.today()
    sections = []
    for consortium in scoped(Consortium).all(Consortium.name):
        rows = services.member_usage_by_quarter(consortium, code, today)
        if rows is not None:
            sections.append((consortium, rows))
    statements = scoped(Statement).all(Statement.issued_on.desc(), Statement.id.desc())
    return render_template("recharges/usage.html", sections=sections, statements=statements)


# ---------------------------------------------------------------- co-funders (DESIGN §4c)

LINE_COLUMNS = ["statement", "payer_code", "authority_code", "child_ref", "nights", "amount"]


@bp.get("/statements/<int:statement_id>/lines.<fmt>")
@allowed("lead", "cofunder")
def statement_lines(statement_id, fmt):
    """A contributions statement's placements, as issued."""
    statement = scoped(Statement).get_or_404(statement_id)
    rows = (
        [
            statement.number,
            statement.cofunder.ref,
            x.authority_code,
            x.child_ref,
            x.nights,
            f"{Decimal(x.amount_pence) / 100:.2f}",
        ]
        for x in statement.lines
    )
    return export(f"{statement.number or statement.id}-placements", fmt, LINE_COLUMNS, rows)


@bp.get("/recharges/contributions")
@allowed("lead")
def contributions_due():
    """What each co-funder owes for the placements under the consortium's contracts, quarter
    by quarter, beside the statements issued for them."""
    today = date.today()
    return render_template(
        "recharges/contributions.html",
        quarters=contributions.recent_quarters(current_user.consortium, today),
        today=today,
        form=ConfirmForm(),
    )


@bp.post("/recharges/contributions/<int:cofunder_id>/<quarter>")
@allowed("lead")
def issue_contributions(cofunder_id, quarter):
    cofunder = scoped(Cofunder).get_or_404(cofunder_id)
    try:
        first = parse_period(quarter)[0]
    except ValueError:
        abort(404)
    issue = partial(contributions.issue_contributions, current_user.consortium, cofunder, first, date.today())
    if (done := act(issue, ConfirmForm())).saved:
        flash(f"{done.result.number} issued to {cofunder.name}: {money(done.result.amount_pence)}", "success")
        return redirect(url_for(".statement", statement_id=done.result.id))
    return redirect(url_for(".contributions_due"))


@bp.get("/funding")
@allowed("cofunder")
def funding():
    """A co-funder's own page: the placements it pays towards (by their references only), the
    contracts whose cost it shares, and its statements."""
    return render_template("recharges/funding.html", cofunder=current_user.cofunder, **contributions.funded())
