"""Forms of the recharges pages."""

from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    DecimalField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from consortium.core.forms import Form, VersionedForm, date_field, pounds_field
from consortium.core.inputs import MAX_AMOUNT_PENCE


class PoolForm(Form):
    name = StringField(
        "Name",
        widget=GovTextInput(),
        description="For example: Contract management, 2025 to 2026",
        validators=[DataRequired(message="Give the pool a name"), Length(max=200)],
    )
    first_day = date_field("First day")
    last_day = date_field("Last day")
    amount = pounds_field("Amount (£)", maximum_pence=MAX_AMOUNT_PENCE)
    basis = RadioField(
        "Shared by",
        widget=GovRadioInput(),
        choices=[
            ("placements", "Placements started in the period under the consortium's contracts"),
            ("bed_nights", "Bed-nights used in the period under the consortium's contracts"),
            ("equal", "Equal shares"),
            ("fixed", "Agreed percentages"),
        ],
        validators=[InputRequired(message="Choose how it is shared")],
    )
    base_percent = DecimalField(
        "Part shared equally (%)",
        widget=GovTextInput(),
        places=2,
        default=0,
        description="For placements or bed-nights: for example 50 for half equally, half by use",
        validators=[Optional(), NumberRange(0, 100, message="The part shared equally must be between 0 and 100%%")],
    )
    fixed = TextAreaField(
        "Agreed percentages",
        widget=GovTextArea(),
        description="For agreed percentages only: one line per member, like E06000018 = 12.5",
        validators=[Optional(), Length(max=4000)],
    )
    notes = TextAreaField("Notes", widget=GovTextArea(), validators=[Optional(), Length(max=4000)])
    submit = SubmitField("Create pool", widget=GovSubmitInput())


class BlockPoolForm(Form):
    contract_id = SelectField(
        "Block contract owned by the consortium",
        widget=GovSelect(),
        validators=[DataRequired(message="Choose a block contract")],
    )
    first_day = date_field("First day")
    last_day = date_field("Last day")
    submit = SubmitField("Create pool", widget=GovSubmitInput())


class IssueForm(Form):
    # The figures the lead checked: issuing refuses if they have changed since.
    fingerprint = HiddenField()
    submit = SubmitField("Issue the statements", widget=GovSubmitInput())


class PaidForm(VersionedForm):
    paid_on = date_field("Date paid")
    submit = SubmitField("Mark paid", widget=GovSubmitInput())


class CreditForm(Form):
    reason = TextAreaField(
        "Reason", widget=GovTextArea(), validators=[DataRequired(message="Give the reason"), Length(max=2000)]
    )
    corrected_amount = pounds_field(
        "Corrected amount (£)",
        required=False,
        maximum_pence=MAX_AMOUNT_PENCE,
        description="A new draft statement for this amount follows the credit note. Leave empty for none.",
    )
    submit = SubmitField("Issue credit note", widget=GovSubmitInput())
