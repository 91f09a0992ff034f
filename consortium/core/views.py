"""The core's pages: home, authorities, consortia and members, user administration."""

from datetime import date
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
from sqlalchemy.orm import selectinload

from consortium.core import services, two_factor
from consortium.core.access import allowed, scoped
from consortium.core.extensions import db
from consortium.core.forms import (
    CofunderForm,
    ConfirmForm,
    EndMembershipForm,
    MembershipForm,
    ResetPasswordForm,
    TwoFactorRequirementForm,
    UserForm,
    act,
    form_page,
    handle,
    handle_after_check,
)
from consortium.core.models import (
    CONSORTIUM_ROLES,
    ROLES,
    Authority,
    Cofunder,
    Consortium,
    Membership,
    MembershipRequest,
    User,
)
from consortium.core.pagination import paginate

bp = Blueprint("core", __name__, template_folder="templates")

# Where the user form asks for the organisation of each role.


@bp.get("/")
@allowed(*ROLES)
def home():
    consortia = scoped(Consortium).all(Consortium.name)
    asked = services.pending_requests() if current_user.role == "partner" else []
    figures = {}
    if current_user.role == "lead":
        figures = {"current_members": sum(m.is_current(date.today()) for m in current_user.consortium.memberships)}
    elif current_user.role == "admin":
        figures = services.service_counts() | {"consortia": len(consortia)}
    return render_template(
        f"consortium/home_{current_user.role}.html", consortia=consortia, figures=figures, asked=asked
    )


# ---------------------------------------------------------------- authorities


@bp.get("/cofunders")
@allowed("admin", "lead")
def cofunders():
    managed = set(db.session.scalars(services.managed_cofunders(current_user).with_only_columns(Cofunder.id)))
    return render_template("consortium/cofunders.html", cofunders=scoped(Cofunder).all(Cofunder.name), managed=managed)


@bp.route("/cofunders/new", methods=["GET", "POST"])
@bp.route("/cofunders/<int:cofunder_id>", methods=["GET", "POST"])
@allowed("admin", "lead")
def cofunder(cofunder_id=None):
    """Add a co-funder, or change one's name and kind (its reference stays)."""
    found = (
        db.session.scalar(services.managed_cofunders(current_user).where(Cofunder.id == cofunder_id))
        if cofunder_id
        else None
    )
    if cofunder_id and found is None:
        abort(404)
    form = CofunderForm(obj=found)
    if found:
        del form.ref
    save = partial(_save_cofunder, found, form)
    if handle(form, save, "name").saved:
        flash(f"{form.name.data.strip()} saved", "success")
        return redirect(url_for(".cofunders"))
    title = f"Change {found.name}" if found else "Add a co-funder"
    intro = "A body that pays towards placements or contracts without being a member: an integrated care board, "
    intro += "an education or SEND budget, or another."
    return form_page("form.html", form, title=title, intro=intro, back=url_for(".cofunders"))


def _save_cofunder(found: Cofunder | None, form: CofunderForm) -> Cofunder:
    ref = found.ref if found else form.ref.data
    return services.save_cofunder(found, ref, form.name.data, form.kind.data, current_user.consortium_id)


@bp.get("/authorities")
@allowed(*CONSORTIUM_ROLES)
def authorities():
    page = scoped(Authority).paginate(Authority.name, page=request.args.get("page", type=int))
    return render_template("consortium/authorities.html", page=page)


@bp.get("/authorities/<code>")
@allowed(*CONSORTIUM_ROLES)
def authority(code):
    authority = scoped(Authority).get_or_404(code.upper())
    memberships = db.session.scalars(
        scoped(Membership).select().where(Membership.authority_code == authority.code).order_by(Membership.joined)
    ).all()
    return render_template("consortium/authority.html", authority=authority, memberships=memberships)


# ---------------------------------------------------------------- consortia


@bp.get("/consortia")
@allowed("admin", "lead", "partner")
def consortia():
    return render_template("consortium/consortia.html", consortia=scoped(Consortium).all(Consortium.name))


@bp.get("/consortia/<int:consortium_id>")
@allowed("admin", "lead", "partner")
def consortium(consortium_id):
    consortium = scoped(Consortium).get_or_404(consortium_id)
    today = date.today()
    asked = db.session.scalars(
        scoped(MembershipRequest)
        .select()
        .where(MembershipRequest.consortium_id == consortium.id, MembershipRequest.status == "pending")
    ).all()
    return render_template(
        "consortium/consortium.html",
        consortium=consortium,
        asked=asked,
        can_manage=current_user.role in ("admin", "lead"),
        can_set_two_factor=current_user.role == "lead",
        current_count=sum(m.is_current(today) for m in consortium.memberships),
        today=today,
    )


@bp.route("/consortia/<int:consortium_id>/two-factor", methods=["GET", "POST"])
@allowed("lead")
def consortium_two_factor(consortium_id):
    """The lead decides whether the consortium's leads (and administrators) must use two-factor sign-in."""
    consortium = scoped(Consortium).get_or_404(consortium_id)
    form = TwoFactorRequirementForm(data={"required": "yes" if consortium.two_factor_required else "no"})
    if handle(form, lambda: two_factor.set_required(consortium, form.required.data == "yes"), "required").saved:
        flash(
            "Administrators and leads must now use two-factor sign-in"
            if consortium.two_factor_required
            else "Two-factor sign-in is no longer required: each person chooses",
            "success",
        )
        return redirect(url_for(".consortium", consortium_id=consortium.id))
    return form_page("consortium/two_factor_requirement.html", form, consortium=consortium)


@bp.route("/consortia/<int:consortium_id>/members/new", methods=["GET", "POST"])
@allowed("admin", "lead")
def add_member(consortium_id):
    consortium = scoped(Consortium).get_or_404(consortium_id)
    form = MembershipForm()
    form.authority_code.choices = [("", "Choose an authority")] + services.all_authority_choices()
    admin = current_user.role == "admin"  # an administrator's addition is a membership at once

    def change():
        chosen = (consortium, form.authority_code.data, form.joined.data, form.left.data)
        if admin:
            return services.add_membership(*chosen)
        return services.request_membership(*chosen, current_user, current_app.config["SERVICE_URL"])

    if (done := handle(form, change, "authority_code")).saved:
        name, joined = done.result.authority.name, f"{done.result.joined:%-d %B %Y}"
        asked = "It becomes a member once one of its officers (or an administrator) accepts."
        made = f"{name} is a member from {joined}" if admin else f"{name} has been asked to join from {joined}. {asked}"
        flash(made, "success")
        return redirect(url_for(".consortium", consortium_id=consortium.id))
    return form_page("consortium/add_member.html", form, consortium=consortium)


@bp.get("/membership-requests/<int:request_id>")
@allowed("admin", "lead", "partner")
def membership_request(request_id):
    asked = scoped(MembershipRequest).get_or_404(request_id)
    return render_template("consortium/membership_request.html", asked=asked, form=ConfirmForm())


@bp.post("/membership-requests/<int:request_id>/<any(accept, decline, withdraw):decision>")
@allowed("admin", "lead", "partner")
def decide_membership_request(request_id, decision):
    asked = scoped(MembershipRequest).get_or_404(request_id)
    if act(lambda: services.decide_membership_request(asked, decision, current_user)).saved:
        flash(
            {
                "accepted": f"{asked.authority.name} is a member of {asked.consortium.name} "
                f"from {asked.joined:%-d %B %Y}",
                "declined": f"{asked.authority.name} will not join {asked.consortium.name}",
                "withdrawn": "The request is withdrawn",
            }[asked.status],
            "success",
        )
    return redirect(url_for(".membership_request", request_id=asked.id))


@bp.route("/consortia/<int:consortium_id>/members/<int:membership_id>/end", methods=["GET", "POST"])
@allowed("admin", "lead")
def end_member(consortium_id, membership_id):
    membership = scoped(Membership).get_or_404(membership_id)
    if membership.consortium_id != consortium_id:
        abort(404)
    form = EndMembershipForm()
    check_page = partial(_end_membership_check_page, membership, form)
    done = handle_after_check(form, lambda: services.end_membership(membership, form.left.data), "left", check_page)
    if done.page:
        return done.page
    if done.saved:
        flash(f"{membership.authority.name}'s membership ends on {membership.left:%-d %B %Y}", "success")
        return redirect(url_for(".consortium", consortium_id=consortium_id))
    return form_page("consortium/end_member.html", form, membership=membership)


def _end_membership_check_page(membership: Membership, form, _):
    """Before a membership ends: what its end means, to be confirmed."""
    name = membership.authority.name
    return render_template(
        "confirm.html",
        title=f"End {name}'s membership on {form.left.data:%-d %B %Y}?",
        caption=membership.consortium.name,
        rows=[("Member since", f"{membership.joined:%-d %B %Y}"), ("Last day", f"{form.left.data:%-d %B %Y}")],
        warning=f"After its last day, {name}'s officers can no longer record placements "
        "under the consortium's contracts or see them. To undo it, the authority would have to be asked "
        "to join again.",
        button="End the membership",
        back=url_for(".consortium", consortium_id=membership.consortium_id),
    )


# ---------------------------------------------------------------- users


@bp.get("/users")
@allowed("admin")
def users():
    organisations = (
        selectinload(User.consortium),
        selectinload(User.authority),
        selectinload(User.provider),
        selectinload(User.cofunder),
    )
    query = scoped(User).select().options(*organisations).order_by(User.email)
    page = paginate(query, request.args.get("page", type=int), scalars=True)
    return render_template("consortium/users.html", page=page)


@bp.route("/users/new", methods=["GET", "POST"])
@allowed("admin")
def new_user():
    form = UserForm()
    for field, choices in services.organisation_choices().items():
        getattr(form, field).choices = choices

    def change():
        organisation = services.chosen_organisation(form.role.data, form.data)
        return services.create_user(
            form.email.data, form.role.data, form.password.data, organisation, form.name.data or ""
        )

    # A refusal of the organisation is shown on the organisation field of the role chosen.
    if (done := handle(form, change, services.ORGANISATION_FIELD.get(form.role.data, "role"))).saved:
        flash(f"Account created for {done.result.email}", "success")
        return redirect(url_for(".user", user_id=done.result.id))
    return form_page("consortium/new_user.html", form)


@bp.get("/users/<int:user_id>")
@allowed("admin")
def user(user_id):
    return render_template("consortium/user.html", user=scoped(User).get_or_404(user_id), form=ConfirmForm())


@bp.post("/users/<int:user_id>/deactivate")
@allowed("admin")
def deactivate_user(user_id):
    user = scoped(User).get_or_404(user_id)
    if act(lambda: services.deactivate(user, by=current_user)).saved:
        flash(f"{user.email} is deactivated and signed out everywhere", "success")
    return redirect(url_for(".user", user_id=user.id))


@bp.post("/users/<int:user_id>/reactivate")
@allowed("admin")
def reactivate_user(user_id):
    user = scoped(User).get_or_404(user_id)
    if act(lambda: services.reactivate(user)).saved:
        flash(f"{user.email} can sign in again", "success")
    return redirect(url_for(".user", user_id=user.id))


@bp.post("/users/<int:user_id>/two-factor/reset")
@allowed("admin")
def reset_two_factor(user_id):
    """For someone who lost their phone: they sign in with their password and set it up again."""
    user = scoped(User).get_or_404(user_id)
    if act(lambda: two_factor.reset(user, by=current_user)).saved:
        flash(f"Two-factor sign-in is off for {user.email}, who is signed out everywhere", "success")
    return redirect(url_for(".user", user_id=user.id))


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@allowed("admin")
def reset_password(user_id):
    user = scoped(User).get_or_404(user_id)
    form = ResetPasswordForm()
    if handle(form, lambda: services.set_password(user, form.password.data), "password").saved:
        flash(f"New password set for {user.email}; their sessions have ended", "success")
        return redirect(url_for(".user", user_id=user.id))
    return form_page("consortium/reset_password.html", form, user=user)
