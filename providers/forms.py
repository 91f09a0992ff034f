"""Forms of the providers' pages."""

from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import EmailField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from consortium.core.forms import Form, email_address


class OfstedUploadForm(Form):
    file = FileField(
        "Ofsted file",
        widget=GovFileInput(),
        description="CSV or XLSX, as Ofsted publishes it, up to 10 MB. "
        "You will see what it changes before anything is saved.",
        validators=[FileRequired(message="Choose a file to upload")],
    )
    submit = SubmitField("Upload and preview", widget=GovSubmitInput())


class InviteForm(Form):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        description="Their own work address: the invitation goes there, and only they can use it.",
        validators=[DataRequired(message="Enter an email address"), Length(max=254), email_address],
    )
    name = StringField("Full name", widget=GovTextInput(), validators=[Optional(), Length(max=120)])
    submit = SubmitField("Send the invitation", widget=GovSubmitInput())


class AliasForm(Form):
    name = StringField(
        "Former name",
        widget=GovTextInput(),
        description="Files that still use this name will match this provider.",
        validators=[DataRequired(message="Enter the former name"), Length(max=200)],
    )
    submit = SubmitField("Add former name", widget=GovSubmitInput())


class MergeForm(Form):
    other = SelectField(
        "Provider to merge into this one",
        widget=GovSelect(),
        description="The same organisation under another name: its homes, admissions, contracts, returns and accounts "
        "move here, and its name is kept as a former name.",
        validators=[DataRequired(message="Choose the provider to merge into this one")],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


YES_NO_UNKNOWN = [("yes", "Yes"), ("no", "No"), ("", "Not known")]


class SupplierForm(Form):
    """What the Transparency Code's contracts register says of a supplier."""

    companies_house_number = StringField(
        "Companies House number",
        widget=GovTextInput(),
        description="8 characters, like 01234567 or SC123456. Leave empty for a charity or council without one.",
        filters=[lambda value: (value or "").strip().upper()],
        validators=[Optional(), Regexp(r"^[A-Z0-9]{8}$", message="A Companies House number is 8 letters and digits")],
    )
    sme = RadioField(
        "Is it a small or medium-sized enterprise?",
        widget=GovRadioInput(),
        choices=YES_NO_UNKNOWN,
        description="Fewer than 250 staff, and a turnover of at most £44m or balance sheet of at most £38m",
        validators=[Optional()],
    )
    voluntary = RadioField(
        "Is it a voluntary or community sector organisation?",
        widget=GovRadioInput(),
        choices=YES_NO_UNKNOWN,
        description="A charity, community interest company or other not-for-profit",
        validators=[Optional()],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())
