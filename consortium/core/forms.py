"""Forms of the core pages, rendered with the GOV.UK Frontend widgets."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import flash, render_template, request
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from consortium.core.extensions import db
from consortium.core.formatting import money
from consortium.core.inputs import (
    EARLIEST,
    LATEST,
    MAX_DECIMAL,
    MAX_INTEGER,
    MAX_WEEKLY_PENCE,
    STALE,
    date_problem,
    parse_id,
    text_problem,
)
from consortium.core.models import COFUNDER_KINDS
from consortium.core.passwords import MIN_LENGTH
from consortium.core.services import RuleBroken

DATE_FORMAT = "%d %m %Y"  # the three boxes of the GOV.UK date input, joined with spaces


def email_address(form, field):
    # Addresses in the reserved .test domain are allowed so demo and training accounts work.
    try:
        validate_email(field.data or "", check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise ValidationError("Enter an email address in the correct format, like name@example.gov.uk") from None


class Form(FlaskForm):
    """Every form of the service. Before a field's own validators run, what no field may hold is
    refused with a message on the field: control characters (a NUL byte breaks exports and
    PostgreSQL), a number that is not finite or is too large for any column."""

    def validate(self, extra_validators=None):
        refused = {}
        for field in self:
            problem = _input_problem(field)
            if problem:
                refused[field.name] = problem
                if isinstance(field, (DecimalField, IntegerField)):
                    field.data = None  # so the field's own validators never compare it
        valid = super().validate(extra_validators)
        for name, problem in refused.items():
            self[name].errors = [problem]
        self._errors = None
        return valid and not refused


def _input_problem(field) -> str | None:
    label = field.label.text
    data = field.data
    if isinstance(field, PasswordField):
        return None  # a password is hashed, never stored or shown as it is
    if isinstance(data, str):
        return text_problem(label, data, multiline=isinstance(field, TextAreaField))
    if isinstance(field, DecimalField) and isinstance(data, Decimal):
        if not data.is_finite():
            return f"{label} must be a number"
        if abs(data) >= MAX_DECIMAL:
            return f"{label} is too large"
    if isinstance(field, IntegerField) and data is not None and abs(data) > MAX_INTEGER:
        return f"{label} is too large"
    return None


class VersionedForm(Form):
    """Carries the version of the record the person saw, for optimistic locking."""

    version = HiddenField()

    @property
    def seen_version(self) -> int:
        # A missing or unreadable version is treated as stale: the edit is refused, never saved unchecked.
        return parse_id(self.version.data) or STALE


class GovDateField(DateField):
    """A date typed in the three GOV.UK boxes (day, month, year), within a range for its meaning
    (by default 2000 to 2100)."""

    def __init__(self, *args, earliest=EARLIEST, latest=LATEST, **kwargs):
        super().__init__(*args, **kwargs)
        self.earliest, self.latest = earliest, latest

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()
        problem = date_problem(self.label.text, self.data, self.earliest, self.latest)
        if problem:
            raise StopValidation(problem)

    def process_formdata(self, valuelist):
        # The widget needs three values back even when a client sent fewer.
        self.raw_data = (list(valuelist) + ["", "", ""])[:3]
        if not any(part.strip() for part in self.raw_data):
            self.data = None
            return
        try:
            super().process_formdata([" ".join(part.strip() for part in self.raw_data)])
        except ValueError:
            self.data = None
            raise ValueError(f"{self.label.text} must be a real date, like 27 3 2025") from None


def pounds_field(
    label: str, required: bool = True, description: str = "", maximum_pence: int = MAX_WEEKLY_PENCE, message: str = ""
) -> DecimalField:
    """An amount in pounds and pence up to a maximum (by default £1,000,000.00, above any weekly
    fee or price). What is too little is the service's to say: its rules know why."""
    bounds = NumberRange(max=Decimal(maximum_pence) / 100, message=f"{label} must be {money(maximum_pence)} or less")
    return DecimalField(
        label,
        widget=GovTextInput(),
        places=2,
        description=description,
        validators=[InputRequired(message=message or f"Enter the {label.lower()}"), bounds]
        if required
        else [Optional(), bounds],
    )


def error_summary(form) -> dict:
    """The GOV.UK error summary's parameters for a form: one entry per problem, each linking to
    its field (a date to its first box, the day)."""
    items = []
    for field in form:
        for message in field.errors:
            target = f"{field.id}-day" if isinstance(field, GovDateField) else field.id
            items.append({"text": message, "href": f"#{target}"})
    return {"titleText": "There is a problem", "errorList": items}


def confirmed() -> bool:
    """Whether the person has seen the check page of an irreversible change (`confirm.html`) and
    confirmed it: the page sends the same form again with `confirmed=yes`."""
    return request.form.get("confirmed") == "yes"


@dataclass
class Handled:
    """What became of a submitted form: `saved` when its change was made and committed, with
    what the change returned."""

    saved: bool
    result: Any = None


def handle(form, change: Callable[[], Any], field: str) -> Handled:
    """The one way a form is handled: when it validates, make the change; when a rule refuses it,
    roll back whatever the change began and show the refusal on its field (`broken.field`, else
    `field`); otherwise commit, once."""
    if not form.validate_on_submit():
        return Handled(False)
    return made(change, lambda broken: show_error(form, broken, field))


def act(
    change: Callable[[], Any], form=None, invalid: str = "", refused: Callable[[RuleBroken], None] | None = None
) -> Handled:
    """A change asked for from a button or a small form inside another page (a ConfirmForm by
    default): a form that does not validate says `invalid`; a refusal is rolled back and flashed
    (or handed to `refused`); otherwise the change is committed, once. The caller redirects back
    to the page."""
    if not (form or ConfirmForm()).validate_on_submit():
        if invalid:
            flash(invalid, "error")
        return Handled(False)
    return made(change, refused or (lambda broken: flash(str(broken), "error")))


def made(change: Callable[[], Any], refused: Callable[[RuleBroken], None]) -> Handled:
    """Make a change and commit it, once; if a rule refuses it, roll back whatever it began and
    hand the refusal to `refused`. What `handle` and `act` do once their form is valid."""
    try:
        result = change()
    except RuleBroken as broken:
        db.session.rollback()
        refused(broken)
        return Handled(False)
    db.session.commit()
    return Handled(True, result)


@dataclass
class Checked(Handled):
    """An irreversible change's outcome: `page`, the check page to show before it is confirmed."""

    page: Any = None


def handle_after_check(
    form,
    change: Callable[[], Any],
    field: str,
    check_page: Callable[[Any], Any],
    asks: Callable[[], bool] = lambda: True,
) -> Checked:
    """`handle` for an irreversible change: it runs in a savepoint so that its rules answer first;
    until the person confirms on the check page (`check_page(result)`, see confirm.html) it is
    undone, and only once confirmed is it committed. `asks`: whether this change needs the check
    (withdrawing an admission does, suspending one does not)."""
    if not form.validate_on_submit():
        return Checked(False)
    trying = db.session.begin_nested()
    try:
        result = change()
    except RuleBroken as broken:
        trying.rollback()
        db.session.rollback()
        show_error(form, broken, field)
        return Checked(False)
    if asks() and not confirmed():
        trying.rollback()
        return Checked(False, result, check_page(result))
    trying.commit()
    db.session.commit()
    return Checked(True, result)


def form_page(template: str, form, **context):
    """A form's page, answered 400 while it shows errors."""
    return render_template(template, form=form, **context), 400 if form.errors else 200


def show_error(form, broken: Exception, default: str) -> None:
    """Put a refused change's message on the field it names (`broken.field`), else on `default`,
    so it shows beside the field and in the error summary."""
    field = getattr(form, getattr(broken, "field", None) or default, None)
    (field if field is not None else getattr(form, default)).errors.append(str(broken))


def date_field(label: str, required: bool = True, description: str = "", earliest=EARLIEST, latest=LATEST) -> DateField:
    return GovDateField(
        label,
        format=DATE_FORMAT,
        widget=GovDateInput(),
        earliest=earliest,
        latest=latest,
        description=description or "For example, 27 3 2025",
        validators=[InputRequired(message=f"Enter the {label.lower()}")] if required else [Optional()],
    )


class SignInForm(Form):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            DataRequired(message="Enter your email address"),
            # No address is longer (RFC 5321); a longer one is refused before any password check.
            Length(max=254, message="Email address must be 254 characters or fewer"),
        ],
    )
    password = PasswordField(
        "Password", widget=GovPasswordInput(), validators=[DataRequired(message="Enter your password")]
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class ChangePasswordForm(Form):
    current_password = PasswordField(
        "Current password", widget=GovPasswordInput(), validators=[DataRequired(message="Enter your current password")]
    )
    new_password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        description=f"At least {MIN_LENGTH} characters. A few unrelated words make a strong password.",
        validators=[DataRequired(message="Enter a new password")],
    )
    confirm = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[
            DataRequired(message="Confirm your new password"),
            EqualTo("new_password", message="The passwords do not match"),
        ],
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())


class MembershipForm(Form):
    authority_code = SelectField(
        "Authority", widget=GovSelect(), validators=[DataRequired(message="Choose an authority")]
    )
    joined = date_field("Date joined")
    left = date_field("Date left", required=False, description="Leave empty if the membership goes on")
    submit = SubmitField("Add member", widget=GovSubmitInput())


class EndMembershipForm(Form):
    left = date_field("Last day of membership")
    submit = SubmitField(
        "End membership", widget=GovSubmitInput(), render_kw={"params": {"classes": "govuk-button--warning"}}
    )


class UserForm(Form):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[DataRequired(message="Enter an email address"), Length(max=254), email_address],
    )
    name = StringField("Full name", widget=GovTextInput(), validators=[Optional(), Length(max=120)])
    role = RadioField(
        "Role",
        widget=GovRadioInput(),
        choices=[
            ("lead", "Lead: contract manager in a consortium's lead authority"),
            ("partner", "Partner: officer in a member authority"),
            ("provider", "Provider: staff of a provider organisation"),
            ("cofunder", "Co-funder: staff of a health, education or other body that pays part of placements"),
            ("admin", "Administrator: manages consortia and accounts"),
        ],
        validators=[InputRequired(message="Choose a role")],
    )
    consortium_id = SelectField("Consortium (for a lead)", widget=GovSelect(), validators=[Optional()])
    authority_code = SelectField("Authority (for a partner)", widget=GovSelect(), validators=[Optional()])
    provider_id = SelectField("Provider (for provider staff)", widget=GovSelect(), validators=[Optional()])
    cofunder_id = SelectField("Co-funder (for co-funder staff)", widget=GovSelect(), validators=[Optional()])
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        description=f"At least {MIN_LENGTH} characters. Give it to the person by a separate channel.",
        validators=[DataRequired(message="Enter a password")],
    )
    submit = SubmitField("Create account", widget=GovSubmitInput())


class AcceptInvitationForm(Form):
    name = StringField("Full name", widget=GovTextInput(), validators=[Optional(), Length(max=120)])
    password = PasswordField(
        "Choose a password",
        widget=GovPasswordInput(),
        description=f"At least {MIN_LENGTH} characters. A few unrelated words make a strong password.",
        validators=[DataRequired(message="Choose a password")],
    )
    confirm = PasswordField(
        "Confirm the password",
        widget=GovPasswordInput(),
        validators=[
            DataRequired(message="Confirm the password"),
            EqualTo("password", message="The passwords do not match"),
        ],
    )
    submit = SubmitField("Set my password and continue", widget=GovSubmitInput())


class ResetPasswordForm(Form):
    password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        description=f"At least {MIN_LENGTH} characters. Setting it signs the person out everywhere.",
        validators=[DataRequired(message="Enter a new password")],
    )
    submit = SubmitField("Set password", widget=GovSubmitInput())


class ConfirmForm(Form):
    """A button that changes something: a form only for its CSRF token."""


def code_field(label: str = "Code") -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        description="The 6-digit code your authenticator app shows now",
        filters=[lambda value: value.strip().replace(" ", "").replace("-", "") if value else value],
        validators=[
            DataRequired(message="Enter the 6-digit code from your authenticator app"),
            Regexp(r"^\d{6}$", message="The code must be 6 digits, like 123456"),
        ],
    )


class TwoFactorCodeForm(Form):
    """The second step of signing in."""

    code = code_field()
    submit = SubmitField("Continue", widget=GovSubmitInput())


class SetUpTwoFactorForm(Form):
    code = code_field()
    submit = SubmitField("Turn on two-factor sign-in", widget=GovSubmitInput())


class TurnOffTwoFactorForm(Form):
    password = PasswordField(
        "Your password", widget=GovPasswordInput(), validators=[DataRequired(message="Enter your password")]
    )
    submit = SubmitField(
        "Turn off two-factor sign-in",
        widget=GovSubmitInput(),
        render_kw={"params": {"classes": "govuk-button--warning"}},
    )


class TwoFactorRequirementForm(Form):
    required = RadioField(
        "Do administrators and leads have to use two-factor sign-in?",
        widget=GovRadioInput(),
        choices=[
            ("yes", "Yes: they set it up the next time they use the service, before anything else"),
            ("no", "No: each person chooses"),
        ],
        validators=[InputRequired(message="Choose whether two-factor sign-in is required")],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class TokenForm(Form):
    name = StringField(
        "Name",
        widget=GovTextInput(),
        description="What will use it, so you can tell your tokens apart: for example, Mosaic nightly export",
        validators=[DataRequired(message="Enter a name for the token"), Length(max=80)],
    )
    scope = RadioField(
        "What may it do?",
        widget=GovRadioInput(),
        choices=[
            ("read", "Read: see what you can see"),
            ("write", "Read and write: also record and change what you can"),
        ],
        validators=[InputRequired(message="Choose what the token may do")],
    )
    days = IntegerField(
        "Days until it expires",
        widget=GovTextInput(),
        default=90,
        description="From 1 to 365. After that it stops working and you make another.",
        validators=[
            InputRequired(message="Enter how many days the token lasts"),
            NumberRange(min=1, max=365, message="A token lasts from 1 to 365 days"),
        ],
    )
    submit = SubmitField("Create token", widget=GovSubmitInput())


class CofunderForm(Form):
    ref = StringField(
        "Reference",
        widget=GovTextInput(),
        description="Letters, digits and hyphens, like NHS-DEVON-ICB. It names the co-funder in imported files.",
        filters=[lambda value: value.strip().upper() if value else value],
        validators=[Optional(), Length(max=40)],
    )
    name = StringField(
        "Name",
        widget=GovTextInput(),
        description="As the organisation calls itself, like NHS Devon ICB.",
        validators=[DataRequired(message="Enter the name"), Length(max=200)],
    )
    kind = RadioField(
        "Kind",
        widget=GovRadioInput(),
        choices=list(COFUNDER_KINDS.items()),
        validators=[InputRequired(message="Choose the kind of co-funder")],
    )
    submit = SubmitField("Save the co-funder", widget=GovSubmitInput())
