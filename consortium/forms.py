"""Forms of the core pages, rendered with the GOV.UK Frontend widgets."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import DateField, EmailField, PasswordField, RadioField, SelectField, StringField, SubmitField
from email_validator import EmailNotValidError, validate_email
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional, Regexp, ValidationError

from consortium.passwords import MIN_LENGTH

DATE_FORMAT = "%d %m %Y"  # the three boxes of the GOV.UK date input, joined with spaces


def email_address(form, field):
    # Addresses in the reserved .test domain are allowed so demo and training accounts work.
    try:
        validate_email(field.data or "", check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise ValidationError("Enter an email address in the correct format, like name@example.gov.uk") from None


class GovDateField(DateField):
    """A date typed in the three GOV.UK boxes (day, month, year)."""

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


def show_error(form, broken: Exception, default: str) -> None:
    """Put a refused change's message on the field it names (`broken.field`), else on `default`,
    so it shows beside the field and in the error summary."""
    field = getattr(form, getattr(broken, "field", None) or default, None)
    (field if field is not None else getattr(form, default)).errors.append(str(broken))


def date_field(label: str, required: bool = True, description: str = "") -> DateField:
    return GovDateField(
        label,
        format=DATE_FORMAT,
        widget=GovDateInput(),
        description=description or "For example, 27 3 2025",
        validators=[InputRequired(message=f"Enter the {label.lower()}")] if required else [Optional()],
    )


class SignInForm(FlaskForm):
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


class ChangePasswordForm(FlaskForm):
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


class MembershipForm(FlaskForm):
    authority_code = SelectField(
        "Authority", widget=GovSelect(), validators=[DataRequired(message="Choose an authority")]
    )
    joined = date_field("Date joined")
    left = date_field("Date left", required=False, description="Leave empty if the membership goes on")
    submit = SubmitField("Add member", widget=GovSubmitInput())


class EndMembershipForm(FlaskForm):
    left = date_field("Last day of membership")
    submit = SubmitField("End membership", widget=GovSubmitInput(), render_kw={"params": {"classes": "govuk-button--warning"}})


class UserForm(FlaskForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[DataRequired(message="Enter an email address"), email_address],
    )
    name = StringField("Full name", widget=GovTextInput(), validators=[Optional(), Length(max=120)])
    role = RadioField(
        "Role",
        widget=GovRadioInput(),
        choices=[
            ("lead", "Lead: contract manager in a consortium's lead authority"),
            ("partner", "Partner: officer in a member authority"),
            ("provider", "Provider: staff of a provider organisation"),
            ("admin", "Administrator: manages consortia and accounts"),
        ],
        validators=[InputRequired(message="Choose a role")],
    )
    consortium_id = SelectField("Consortium (for a lead)", widget=GovSelect(), validators=[Optional()])
    authority_code = SelectField("Authority (for a partner)", widget=GovSelect(), validators=[Optional()])
    provider_id = SelectField("Provider (for provider staff)", widget=GovSelect(), validators=[Optional()])
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        description=f"At least {MIN_LENGTH} characters. Give it to the person by a separate channel.",
        validators=[DataRequired(message="Enter a password")],
    )
    submit = SubmitField("Create account", widget=GovSubmitInput())


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        description=f"At least {MIN_LENGTH} characters. Setting it signs the person out everywhere.",
        validators=[DataRequired(message="Enter a new password")],
    )
    submit = SubmitField("Set password", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
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


class TwoFactorCodeForm(FlaskForm):
    """The second step of signing in."""

    code = code_field()
    submit = SubmitField("Continue", widget=GovSubmitInput())


class SetUpTwoFactorForm(FlaskForm):
    code = code_field()
    submit = SubmitField("Turn on two-factor sign-in", widget=GovSubmitInput())


class TurnOffTwoFactorForm(FlaskForm):
    password = PasswordField(
        "Your password", widget=GovPasswordInput(), validators=[DataRequired(message="Enter your password")]
    )
    submit = SubmitField(
        "Turn off two-factor sign-in", widget=GovSubmitInput(), render_kw={"params": {"classes": "govuk-button--warning"}}
    )


class TwoFactorRequirementForm(FlaskForm):
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
