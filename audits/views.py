"""The flags list."""

from flask import Blueprint, render_template, request
from sqlalchemy import func

from audits.models import KINDS, STATUSES, Flag
from consortium import panels
from consortium.access import allowed, scoped
from consortium.extensions import db
from consortium.models import ROLES
from consortium.pagination import paginate

bp = Blueprint("audits", __name__, template_folder="templates")


def register_panels(app) -> None:
    """Flags on the pages of the layers below."""
    panels.add(app, "home", home_flags)
    panels.add(app, "provider", provider_flags)
    panels.add(app, "home_page", newest_flags)


def newest_flags(user) -> str:
    flags = db.session.scalars(
        scoped(Flag).select().where(Flag.status != "resolved").order_by(Flag.opened_on.desc(), Flag.id.desc()).limit(5)
    ).all()
    return render_template("audits/_flags.html", flags=flags, heading="Newest open flags", more=True)


def home_flags(home) -> str:
    flags = db.session.scalars(scoped(Flag).select().where(Flag.home_id == home.id).order_by(Flag.opened_on.desc())).all()
    return render_template("audits/_flags.html", flags=flags, heading="Flags")


def provider_flags(provider) -> str:
    flags = db.session.scalars(
        scoped(Flag).select().where(Flag.provider_id == provider.id, Flag.status != "resolved").order_by(Flag.opened_on.desc())
    ).all()
    return render_template("audits/_flags.html", flags=flags, heading="Open flags")

# "open" means not resolved: an acknowledged flag is still open.
STATUS_FILTERS = {"open": Flag.status != "resolved", **{status: Flag.status == status for status in STATUSES}, "all": None}


@bp.get("/flags")
@allowed(*ROLES)
def flags():
    kind = request.args.get("kind", "")
    status = request.args.get("status", "open")
    query = scoped(Flag).select()
    if kind in KINDS:
        query = query.where(Flag.kind == kind)
    if STATUS_FILTERS.get(status) is not None:
        query = query.where(STATUS_FILTERS[status])
    page = paginate(query.order_by(Flag.opened_on.desc(), Flag.id.desc()), request.args.get("page", type=int), scalars=True)
    counts = dict(
        db.session.execute(scoped(Flag).select(Flag.kind, func.count()).where(Flag.status != "resolved").group_by(Flag.kind)).all()
    )
    return render_template(
        "audits/flags.html", page=page, kinds=KINDS, statuses=list(STATUS_FILTERS), kind=kind, status=status, counts=counts
    )
