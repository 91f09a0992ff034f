"""Providers, homes and their Ofsted history; the Ofsted upload for leads."""

from functools import partial

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from consortium.core import panels, uploads
from consortium.core import services as core
from consortium.core.access import allowed, lead_works_with, scoped
from consortium.core.exports import export
from consortium.core.extensions import db
from consortium.core.forms import ConfirmForm, act, form_page, handle, handle_after_check
from consortium.core.models import CONSORTIUM_ROLES
from consortium.core.pagination import paginate
from consortium.core.tabular import ImportFailed, read_table
from consortium.core.uploads import Upload
from providers import merge, ofsted, services
from providers.forms import AliasForm, InviteForm, MergeForm, OfstedUploadForm, SupplierForm
from providers.models import Home, Provider
from providers.quality import graded_judgements
from providers.timeline import timeline_svg

bp = Blueprint("providers", __name__, template_folder="templates")


def register_panels(app) -> None:
    panels.add(app, "home_page", quality_summary)


def quality_summary(user) -> str:
    """Homes the user may see, counted by current judgement, each count linking to its list."""
    counts = services.judgement_counts()
    return render_template("providers/_quality_summary.html", counts=counts, not_graded=services.NOT_GRADED)


def _filter_context(filters):
    return {
        "filters": filters,
        "choices": services.filter_choices(),
        "judgements": graded_judgements(),
        "not_graded": services.NOT_GRADED,
    }


@bp.get("/providers")
@allowed(*CONSORTIUM_ROLES)
def providers():
    filters = services.Filters.from_args(request.args)
    query, labels = services.providers_query(filters)
    page = paginate(query, request.args.get("page", type=int))
    return render_template("providers/providers.html", page=page, labels=labels, **_filter_context(filters))


@bp.get("/providers/export.<fmt>")
@allowed(*CONSORTIUM_ROLES)
def export_providers(fmt):
    query, labels = services.providers_query(services.Filters.from_args(request.args))
    header = ["Provider", "Homes", *labels.values(), "Not yet graded"]
    rows = (
        [row.Provider.name, row.homes, *(row._mapping[f"rank_{rank}"] for rank in labels), row.not_graded]
        for row in db.session.execute(query)
    )
    return export("providers", fmt, header, rows)


@bp.get("/providers/<int:provider_id>")
@allowed(*CONSORTIUM_ROLES)
def provider(provider_id):
    provider = scoped(Provider).get_or_404(provider_id)
    works_with = lead_works_with(current_user, provider.id)
    sees_staff = current_user.role == "admin" or (current_user.role == "provider" and current_user.account_manager)
    return render_template(
        "providers/provider.html",
        provider=provider,
        homes=db.session.execute(services.homes_query(services.Filters(), provider.id)).all(),
        recent=services.recent_inspections(provider),
        alias_form=AliasForm(),
        can_manage=current_user.role == "admin" or works_with,
        can_invite=core.invitation_refusal(current_user, provider, works_with) is None,
        staff=services.staff(provider) if sees_staff else None,
    )


def _managed_provider(provider_id) -> Provider:
    """A provider the user may change: any, for an administrator; for a lead, one their
    consortium works with (a contract, an admission or a placement)."""
    provider = scoped(Provider).get_or_404(provider_id)
    if current_user.role == "lead" and not lead_works_with(current_user, provider.id):
        abort(404)
    return provider


@bp.route("/providers/<int:provider_id>/supplier", methods=["GET", "POST"])
@allowed("admin", "lead")
def supplier_details(provider_id):
    """What the Transparency Code's contracts register says of the provider as a supplier."""
    provider = _managed_provider(provider_id)
    shown = {True: "yes", False: "no", None: ""}
    form = SupplierForm(
        data={
            "companies_house_number": provider.companies_house_number,
            "sme": shown[provider.sme],
            "voluntary": shown[provider.voluntary],
        }
        if request.method == "GET"
        else None
    )
    chosen = (form.companies_house_number.data, form.sme.data, form.voluntary.data)
    if handle(form, partial(services.set_supplier_details, provider, *chosen), "companies_house_number").saved:
        flash("Supplier details saved", "success")
        return redirect(url_for(".provider", provider_id=provider.id))
    back = url_for(".provider", provider_id=provider.id)
    return form_page("form.html", form, title="Supplier details", caption=provider.name, back=back)


@bp.post("/providers/<int:provider_id>/aliases")
@allowed("admin", "lead")
def add_alias(provider_id):
    provider = _managed_provider(provider_id)
    form = AliasForm()
    if (done := act(lambda: services.add_alias(provider, form.name.data), form, "Enter the former name")).saved:
        flash(f"Files naming {done.result.name!r} will now match {provider.name}", "success")
    return redirect(url_for(".provider", provider_id=provider.id))


# What a merge moves, in words, by table.
MOVED_WORDS = {
    "homes": "Homes",
    "admissions": "Admissions",
    "contracts": "Block contracts",
    "monitoring_returns": "Monitoring returns",
    "users": "Accounts",
    "invitations": "Invitations",
    "flags": "Flags",
    "provider_aliases": "Former names",
}


@bp.route("/providers/<int:provider_id>/merge", methods=["GET", "POST"])
@allowed("admin", "lead")
def merge_provider(provider_id):
    """A rename found after an import: another provider record becomes one with this one."""
    provider = _managed_provider(provider_id)
    form = MergeForm()
    form.other.choices = [("", "Choose a provider")] + services.other_providers(provider)
    change = partial(_merge_chosen, provider, form)
    done = handle_after_check(form, change, "other", partial(_merge_check_page, provider))
    if done.page:
        return done.page
    if done.saved:
        flash(f"{done.result[0]} is now a former name of {provider.name}", "success")
        return redirect(url_for(".provider", provider_id=provider.id))
    return form_page(
        "form.html",
        form,
        title=f"Merge another provider into {provider.name}",
        caption="Providers",
        intro="Do this when two records are the same organisation, for example after it changed its name.",
        back=url_for(".provider", provider_id=provider.id),
    )


def _merge_chosen(provider: Provider, form: MergeForm) -> tuple[str, dict[str, int]]:
    other = scoped(Provider).get_or_404(int(form.other.data))
    return other.name, merge.merge(provider, other)


def _merge_check_page(provider: Provider, merged: tuple[str, dict[str, int]]):
    """What a merge will move, to be confirmed."""
    other_name, moved = merged
    rows = [("Kept", provider.name), ("Kept as a former name", other_name)] + [
        (MOVED_WORDS.get(table, table.replace("_", " ").capitalize()), f"{count:,}")
        for table, count in moved.items()
        if table != "return_obligations"
    ]
    return render_template(
        "confirm.html",
        title=f"Merge {other_name} into {provider.name}?",
        caption="Providers",
        rows=rows,
        warning=f"{other_name} will no longer be a provider of its own: "
        f"files naming it will match {provider.name}. This cannot be undone here.",
        button="Merge the providers",
        back=url_for(".provider", provider_id=provider.id),
    )


@bp.route("/providers/<int:provider_id>/invitations/new", methods=["GET", "POST"])
@allowed("admin", "lead", "provider")
def invite(provider_id):
    """Invite a member of the provider's staff: they set their own password through the link."""
    provider = scoped(Provider).get_or_404(provider_id)
    works_with = lead_works_with(current_user, provider.id)
    form = InviteForm()
    if refusal := core.invitation_refusal(current_user, provider, works_with):
        return render_template("providers/invite.html", provider=provider, form=form, refusal=refusal), 403
    by = (current_user, works_with, current_app.config["SERVICE_URL"])
    invite = partial(core.invite, provider, form.email.data, form.name.data or "", *by)
    if (done := handle(form, invite, "email")).saved:
        flash(f"Invitation sent to {done.result.email}: the link works for {core.INVITATION_DAYS} days", "success")
        return redirect(url_for(".provider", provider_id=provider.id))
    has_staff = any(u.active for u in services.staff(provider)[0])
    days = core.INVITATION_DAYS
    return form_page("providers/invite.html", form, provider=provider, refusal=None, days=days, has_staff=has_staff)


@bp.get("/homes")
@allowed(*CONSORTIUM_ROLES)
def homes():
    filters = services.Filters.from_args(request.args)
    page = paginate(services.homes_query(filters), request.args.get("page", type=int))
    return render_template("providers/homes.html", page=page, **_filter_context(filters))


@bp.get("/homes/export.<fmt>")
@allowed(*CONSORTIUM_ROLES)
def export_homes(fmt):
    header, rows = services.home_rows(services.Filters.from_args(request.args))
    return export("homes", fmt, header, rows)


@bp.get("/homes/<urn>")
@allowed(*CONSORTIUM_ROLES)
def home(urn):
    home = db.session.scalar(scoped(Home).select().where(Home.urn == urn.upper()))
    if home is None:
        abort(404)
    history = []
    previous_rank = None
    for inspection in home.inspections:
        judgement = inspection.judgement
        drop = judgement.declines or (judgement.graded and previous_rank is not None and judgement.rank > previous_rank)
        history.append((inspection, drop))
        if judgement.graded:
            previous_rank = judgement.rank
    return render_template(
        "providers/home.html", home=home, history=history[::-1], chart=timeline_svg(home.inspections)
    )


# ---------------------------------------------------------------- the Ofsted upload


@bp.route("/ofsted/import", methods=["GET", "POST"])
@allowed("admin", "lead")
def ofsted_upload():
    form = OfstedUploadForm()
    if form.validate_on_submit():
        content = form.file.data.read()
        name = form.file.data.filename or "upload"
        try:
            plan = ofsted.plan(read_table(content, name, **ofsted.COLUMNS))
        except ImportFailed as failed:
            return render_template("providers/ofsted_upload.html", form=form, failed=failed), 400
        upload = uploads.keep(current_user, "ofsted", name, content)
        db.session.commit()
        return _preview(plan, upload, {})
    return render_template("providers/ofsted_upload.html", form=form), 400 if form.errors else 200


def _decisions(plan) -> tuple[set[str], dict[str, str]]:
    """Each owner change's decision as the preview's radios sent it: the renames, and the
    changes left undecided (their field, its error)."""
    renames, missing = set(), {}
    for number, change in enumerate(plan.owner_changes):
        answer = request.form.get(f"owner-{number}")
        if answer == "rename" and request.form.get(f"owner-{number}-key") == change.key:
            renames.add(change.key)
        elif answer != "new_owner" or request.form.get(f"owner-{number}-key") != change.key:
            missing[f"owner-{number}"] = f"Choose whether {change.now} is {change.was} renamed or a new owner"
    return renames, missing


@bp.post("/ofsted/import/<int:upload_id>")
@allowed("admin", "lead")
def ofsted_confirm(upload_id):
    upload = scoped(Upload).get_or_404(upload_id)
    if not ConfirmForm().validate_on_submit() or upload.kind != "ofsted":
        return redirect(url_for(".ofsted_upload"))
    if uploads.is_expired(upload):
        return _forget_expired(upload)
    try:
        plan = _plan(upload)
        renames, missing = _decisions(plan)
        if missing:
            return _preview(plan, upload, missing), 400
        result = ofsted.apply(plan, renames)
    except ImportFailed as failed:
        # The register changed since the preview in a way that now conflicts with the file.
        db.session.rollback()
        return render_template("providers/ofsted_upload.html", form=OfstedUploadForm(), failed=failed), 409
    except core.RuleBroken as broken:
        db.session.rollback()
        return _preview(_plan(upload), upload, {"owner-0": str(broken)}), 400
    return _imported_page(upload, result)


def _plan(upload: Upload) -> ofsted.OfstedPlan:
    return ofsted.plan(read_table(upload.content, upload.filename, **ofsted.COLUMNS))


def _forget_expired(upload: Upload):
    uploads.discard(upload)
    db.session.commit()
    flash("That preview was more than a day old, so the file was not kept. Upload it again.", "error")
    return redirect(url_for(".ofsted_upload"))


def _imported_page(upload: Upload, result):
    """The import is made: the stored file is no longer needed, and the register says what changed."""
    uploads.discard(upload)
    db.session.commit()
    flash(_imported(upload.filename, result.details), "success")
    return redirect(url_for(".homes"))


def _preview(plan, upload: Upload, errors: dict[str, str]):
    return render_template("providers/ofsted_preview.html", plan=plan, upload=upload, form=ConfirmForm(), errors=errors)


def _imported(filename: str, details: dict) -> str:
    """What an Ofsted file changed, in a sentence."""
    return (
        f"{filename} imported: {details['homes_added']} new homes, {details['homes_updated']} homes changed, "
        f"{details['inspections_added']} new inspections, {details['judgements_worse']} judgements worse than before"
        + (f", {details['owners_renamed']} providers renamed" if details["owners_renamed"] else "")
        + (f", {details['owners_new']} new owners" if details["owners_new"] else "")
    )


@bp.post("/ofsted/import/<int:upload_id>/cancel")
@allowed("admin", "lead")
def ofsted_cancel(upload_id):
    """The person changed their mind: the file is not kept."""
    upload = scoped(Upload).get_or_404(upload_id)
    if act(lambda: uploads.discard(upload)).saved:
        flash(f"{upload.filename} was not imported, and is no longer kept", "success")
    return redirect(url_for(".ofsted_upload"))
