"""The flags list."""

import json
from datetime import date, datetime, time, timedelta, timezone
from functools import partial

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from govuk_frontend_wtf.wtforms_widgets import GovTextArea
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from audits import checks, services
from audits.models import KINDS, SHARED_KINDS, Flag, JobRun
from consortium.core import hooks, panels
from consortium.core import services as core_services
from consortium.core.access import allowed, scoped
from consortium.core.audit import AuditEvent
from consortium.core.exports import export
from consortium.core.extensions import db
from consortium.core.forms import ConfirmForm, VersionedForm
from consortium.core.forms import act as act_on
from consortium.core.inputs import date_arguments
from consortium.core.messages import OutboxMessage, switch_digest
from consortium.core.models import CONSORTIUM_ROLES, Authority
from consortium.core.pagination import paginate
from consortium.core.services import RuleBroken
from contracts import services as contract_services
from contracts.models import Contract, Placement
from providers.models import Provider

bp = Blueprint("audits", __name__, template_folder="templates")


class FlagActionForm(VersionedForm):
    note = TextAreaField("Note", widget=GovTextArea(), validators=[Optional(), Length(max=4000)])


def register_panels(app) -> None:
    """Flags on the pages of the layers below, and flags that follow what people do there."""
    hooks.add(app, "return_submitted", checks.resolve_overdue)
    panels.add(app, "home", home_flags)
    panels.add(app, "provider", provider_flags)
    panels.add(app, "home_page", newest_flags)
    panels.add(app, "contract", contract_flags)
    panels.add(app, "offer_home", offer_home_flags)


def _flags(*conditions, limit=None) -> list[Flag]:
    query = scoped(Flag).select().where(*conditions).options(selectinload(Flag.responses))
    return db.session.scalars(query.order_by(Flag.opened_on.desc(), Flag.id.desc()).limit(limit)).all()


def contract_flags(contract) -> str:
    """The contract's own open flags, and those of the homes its placements use today (a framework's
    Inadequate home with children placed under it)."""
    today = date.today()
    in_use = (
        scoped(Placement)
        .select(Placement.home_id)
        .where(
            Placement.contract_id == contract.id,
            Placement.start_date <= today,
            or_(Placement.end_date.is_(None), Placement.end_date > today),
        )
    )
    about = (Flag.contract_id == contract.id) | (Flag.kind.in_(SHARED_KINDS) & Flag.home_id.in_(in_use))
    return render_template(
        "audits/_flags.html", flags=_flags(about, Flag.open_for(current_user)), heading="Open flags", subjects=True
    )


def newest_flags(user) -> str:
    return render_template(
        "audits/_flags.html", flags=_flags(Flag.open_for(user), limit=5), heading="Newest open flags", more=True
    )


def home_flags(home) -> str:
    return render_template("audits/_flags.html", flags=_flags(Flag.home_id == home.id), heading="Flags")


def offer_home_flags(home) -> str:
    """The open quality flags on a home offered for a referral, as tags in the offers' table."""
    open_now = _flags(Flag.home_id == home.id, Flag.kind.in_(SHARED_KINDS), Flag.open_for(current_user))
    return render_template("audits/_flag_tags.html", flags=open_now)


def provider_flags(provider) -> str:
    return render_template(
        "audits/_flags.html",
        flags=_flags(Flag.provider_id == provider.id, Flag.open_for(current_user)),
        heading="Open flags",
    )


def _filtered(args):
    return services.flags_query(
        current_user,
        kind=args.get("kind", ""),
        status=args.get("status", "open"),
        provider=args.get("provider", ""),
        contract=args.get("contract", ""),
        authority=args.get("authority", ""),
    )


@bp.get("/flags")
@allowed(*CONSORTIUM_ROLES)
def flags():
    kind = request.args.get("kind", "")
    status = request.args.get("status", "open")
    query = _filtered(request.args).options(selectinload(Flag.responses))
    page = paginate(
        query.order_by(services.SEVERITY_ORDER, Flag.opened_on.desc(), Flag.id.desc()),
        request.args.get("page", type=int),
        scalars=True,
    )
    counts = services.open_counts_by_kind(current_user)
    return render_template(
        "audits/flags.html",
        page=page,
        kinds=KINDS,
        statuses=services.STATUS_FILTERS,
        kind=kind,
        status=status,
        counts=counts,
        args=request.args,
        choices=_filter_choices(),
    )


def _filter_choices() -> dict[str, list[tuple[str, str]]]:
    """What the flags may be filtered by, named: the contracts, authorities and providers the user sees."""
    providers = select(Provider.id, Provider.name).where(Provider.id.in_(scoped(Flag).select(Flag.provider_id)))
    return {
        "contracts": contract_services.contract_choices(),
        "authorities": core_services.authority_choices(),
        "providers": [
            (str(provider_id), name) for provider_id, name in db.session.execute(providers.order_by(Provider.name))
        ],
    }


@bp.get("/flags/export.<fmt>")
@allowed(*CONSORTIUM_ROLES)
def export_flags(fmt):
    query = (
        _filtered(request.args)
        .options(selectinload(Flag.responses))
        .order_by(services.SEVERITY_ORDER, Flag.opened_on.desc(), Flag.id.desc())
    )
    rows = (
        [
            f.kind,
            f.subject,
            f.severity,
            f.seen_status(current_user),
            f.opened_on.isoformat(),
            f.resolved_on.isoformat() if f.resolved_on else "",
            f.detail,
        ]
        for f in db.session.scalars(query)
    )
    return export("flags", fmt, ["kind", "subject", "severity", "status", "opened_on", "resolved_on", "detail"], rows)


@bp.get("/flags/<int:flag_id>")
@allowed(*CONSORTIUM_ROLES)
def flag(flag_id):
    flag = scoped(Flag).get_or_404(flag_id)
    form = FlagActionForm()
    form.version.data = flag.version
    return _flag_page(flag, form)


def _flag_page(flag: Flag, form: FlagActionForm, status_code: int = 200):
    authorities = []
    if flag.home_id is not None and current_user.role in ("lead", "partner"):
        # Who has children there now, as far as the user may see placements.
        authorities = db.session.scalars(
            select(Authority)
            .where(
                Authority.code.in_(
                    scoped(Placement)
                    .select(Placement.authority_code)
                    .where(
                        Placement.home_id == flag.home_id,
                        or_(Placement.end_date.is_(None), Placement.end_date > date.today()),
                    )
                )
            )
            .order_by(Authority.name)
        ).all()
    elif flag.contract_id is not None:
        authorities = [m.authority for m in flag.contract.consortium.memberships if m.is_current(date.today())]
    visible = set(
        db.session.scalars(
            scoped(Contract).select(Contract.id).where(Contract.id.in_([u.contract_id for u in flag.uses]))
        )
    )
    return render_template(
        "audits/flag.html",
        flag=flag,
        authorities=authorities,
        can_act=services.can_act(current_user, flag),
        form=form,
        status=flag.seen_status(current_user),
        uses=[u for u in flag.uses if u.contract_id in visible],
        **services.responses_seen_by(current_user, flag),
    ), status_code


@bp.post("/flags/<int:flag_id>/<any(acknowledge, resolve):action>")
@allowed("lead")
def act(flag_id, action):
    flag = scoped(Flag).get_or_404(flag_id)
    form = FlagActionForm()
    change = partial(
        services.acknowledge if action == "acknowledge" else services.resolve,
        flag,
        current_user,
        form.note.data,
        form.seen_version,
    )
    if act_on(change, form, refused=partial(_refused, form)).saved:
        flash("Flag acknowledged" if action == "acknowledge" else "Flag resolved", "success")
    elif form.errors:
        return _flag_page(flag, form, 400)
    return redirect(url_for(".flag", flag_id=flag.id))


def _refused(form: FlagActionForm, broken: RuleBroken) -> None:
    """A refusal about the note is said on its field, as every form does; any other is flashed."""
    if broken.field == "note":
        form.note.errors.append(str(broken))
    else:
        flash(str(broken), "error")


# ---------------------------------------------------------------- the audit log


SIGN_IN_ACTIONS = ("sign-in", "sign-in failed")


def _audit_query(args):
    """The events the user may see, narrowed by the filters (each within what `scoped` allows)."""
    query = scoped(AuditEvent).select().order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if args.get("user"):
        query = query.where(func.lower(AuditEvent.actor).contains(args["user"].strip().lower()))
    if args.get("type"):
        query = query.where(AuditEvent.object_type == args["type"])
    if args.get("object"):
        query = query.where(AuditEvent.object_id == args["object"].strip())
    if args.get("action"):
        query = query.where(AuditEvent.action == args["action"])
    if args.get("sign_ins") == "hide":
        query = query.where(AuditEvent.action.not_in(SIGN_IN_ACTIONS))
    dates, _ = date_arguments(args, "from", "to")
    if dates["from"]:
        query = query.where(AuditEvent.occurred_at >= datetime.combine(dates["from"], time.min, timezone.utc))
    if dates["to"]:
        query = query.where(
            AuditEvent.occurred_at < datetime.combine(dates["to"] + timedelta(days=1), time.min, timezone.utc)
        )
    return query


@bp.get("/audit")
@allowed("admin", "lead")
def audit_log():
    if problem := date_arguments(request.args, "from", "to")[1]:
        flash(problem, "error")
    page = paginate(_audit_query(request.args), request.args.get("page", type=int), scalars=True)
    types = db.session.scalars(
        scoped(AuditEvent).select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)
    ).all()
    return render_template(
        "audits/audit_log.html",
        page=page,
        args=request.args,
        types=types,
        values=AuditEvent.shown_values(page.items, current_user),
        names=AuditEvent.object_names(page.items),
    )


@bp.get("/audit/export.<fmt>")
@allowed("admin", "lead")
def export_audit_log(fmt):
    def rows():
        query = _audit_query(request.args).execution_options(yield_per=500)
        for chunk in db.session.scalars(query).partitions():
            values = AuditEvent.shown_values(chunk, current_user)
            for e in chunk:
                before, after = values[e.id]
                yield [
                    e.occurred_at.isoformat(timespec="seconds"),
                    e.actor,
                    e.action,
                    e.object_type,
                    e.object_id or "",
                    json.dumps(before, sort_keys=True) if before else "",
                    json.dumps(after, sort_keys=True) if after else "",
                ]

    return export("audit-log", fmt, ["when", "who", "action", "object_type", "object_id", "before", "after"], rows())


# ---------------------------------------------------------------- jobs and messages


@bp.get("/jobs")
@allowed("admin", "lead")
def job_runs():
    page = paginate(
        scoped(JobRun).select().order_by(JobRun.started_at.desc(), JobRun.id.desc()),
        request.args.get("page", type=int),
        scalars=True,
    )
    return render_template("audits/jobs.html", page=page)


@bp.get("/messages")
@allowed(*CONSORTIUM_ROLES)
def messages():
    page = paginate(
        scoped(OutboxMessage).select().order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()),
        request.args.get("page", type=int),
        scalars=True,
    )
    return render_template("audits/messages.html", page=page, form=ConfirmForm())


@bp.post("/messages/digest")
@allowed(*CONSORTIUM_ROLES)
def toggle_digest():
    if act_on(lambda: switch_digest(current_user)).saved:
        flash(
            "You will get the daily digest" if current_user.wants_digest else "You will not get the daily digest",
            "success",
        )
    return redirect(url_for(".messages"))
