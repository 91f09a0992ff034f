"""Forms of the contracts' pages."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    DecimalField,
    IntegerField,
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
from consortium.core.inputs import MAX_MILES
from contracts.imports import MAX_CONTRACT_VALUE_PENCE
from contracts.models import (
    ADMISSION_STATUSES,
    END_REASONS,
    MAX_BEDS,
    NEED_LEVELS,
    PLACEMENT_TYPES,
    REVIEW_OUTCOMES,
    TIERS,
)

# What a block's price is per, as the settings offer it (contracts.models.PRICED_PER).
PRICE_UNITS = {"week": "Per bed-week", "night": "Per bed-night (short breaks)"}

# An indicator's target and thresholds: a percentage, a count, days or pounds, never beyond a billion.
INDICATOR_RANGE = NumberRange(
    -1_000_000_000, 1_000_000_000, message="Enter a number between -1,000,000,000 and 1,000,000,000"
)


class TaggedGovSelect(GovSelect):
    """A GOV.UK select whose options carry attributes (a choice's third part), such as the
    contract a home is bought under: the page script shows only the chosen contract's homes."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs["items"] = [
            {"text": label, "value": value, "selected": selected, "attributes": attributes or {}}
            for value, label, selected, attributes in field.iter_choices()
        ]
        return super(GovSelect, self).__call__(field, **kwargs)


class PlacementForm(Form):
    child_ref = StringField(
        "Child reference",
        widget=GovTextInput(),
        description="Your authority's own pseudonymous reference. Never a name or a date of birth.",
        validators=[DataRequired(message="Enter the child reference"), Length(max=40)],
    )
    contract_ref = SelectField("Contract", widget=GovSelect(), validators=[Optional()])
    home = SelectField(
        "Home",
        widget=TaggedGovSelect(),
        validators=[Optional()],
        description="The homes of the contract: a block's own, or those of the providers admitted to the framework, "
        "with the framework's weekly prices.",
    )
    home_urn = StringField(
        "Or another home's URN",
        widget=GovTextInput(),
        description="A spot purchase from a home not listed, for example SC123456. Leave both empty for in-house "
        "fostering or kinship care.",
        validators=[Optional(), Length(max=10)],
    )
    placement_type = SelectField(
        "Placement type",
        widget=GovSelect(),
        choices=list(PLACEMENT_TYPES.items()),
        validators=[DataRequired(message="Choose the placement type")],
    )
    need_level = SelectField(
        "Need level",
        widget=GovSelect(),
        choices=[("", "Not given")] + [(n, n.capitalize()) for n in NEED_LEVELS],
        validators=[Optional()],
    )
    start_date = date_field("Start date")
    weekly_fee = pounds_field(
        "Weekly fee (£)",
        required=False,
        description="Framework and spot placements only: a block placement costs the block's price.",
    )
    fee_reason = TextAreaField(
        "Why the fee is above the framework's price",
        widget=GovTextArea(),
        description="Only when the weekly fee is above the framework's price for the need level.",
        validators=[Optional(), Length(max=500)],
    )
    age_at_start = IntegerField(
        "Age at start (years)",
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(0, 25, message="Age at start must be between 0 and 25")],
    )
    distance_miles = DecimalField(
        "Distance from home authority (miles)",
        widget=GovTextInput(),
        places=1,
        validators=[
            Optional(),
            NumberRange(0, MAX_MILES, message=f"Distance must be between 0 and {MAX_MILES:,} miles"),
        ],
    )
    ssda903_code = StringField("SSDA903 placement code", widget=GovTextInput(), validators=[Optional(), Length(max=4)])
    submit = SubmitField("Record placement", widget=GovSubmitInput())


class EndPlacementForm(VersionedForm):
    end_date = date_field("Date the child left")
    end_reason_code = SelectField(
        "Why did it end?",
        widget=GovSelect(),
        choices=[("", "Choose a reason")] + [(code, f"{name} ({code})") for code, (name, _) in END_REASONS.items()],
        description="As the SSDA903 return codes it: the reasons for a change of placement, then for care ending.",
        validators=[DataRequired(message="Choose why the placement ended")],
    )
    end_reason = StringField(
        "Note",
        widget=GovTextInput(),
        description="Optional. Do not write the child's name or anything that identifies them.",
        validators=[Optional(), Length(max=200)],
    )
    submit = SubmitField("End placement", widget=GovSubmitInput())


class HighCostReviewForm(Form):
    reviewed_on = date_field("Date of the review")
    outcome = RadioField(
        "Outcome",
        widget=GovRadioInput(),
        choices=list(REVIEW_OUTCOMES.items()),
        validators=[InputRequired(message="Choose the outcome")],
    )
    note = TextAreaField(
        "Note",
        widget=GovTextArea(),
        description="Optional. What was decided and why. Do not write the child's name or anything that identifies it.",
        validators=[Optional(), Length(max=1000)],
    )
    submit = SubmitField("Record the review", widget=GovSubmitInput())


class AdmissionStatusForm(VersionedForm):
    status = RadioField(
        "Status",
        widget=GovRadioInput(),
        choices=[(s, s.capitalize()) for s in ADMISSION_STATUSES],
        validators=[InputRequired(message="Choose a status")],
    )
    reason = TextAreaField("Reason", widget=GovTextArea(), validators=[Optional(), Length(max=2000)])
    status_from = date_field("From", required=False)
    status_until = date_field("Until", required=False, description="For a suspension; leave empty if not known")
    submit = SubmitField("Save status", widget=GovSubmitInput())


class LotForm(Form):
    name = StringField(
        "Lot name", widget=GovTextInput(), validators=[DataRequired(message="Enter the lot name"), Length(max=120)]
    )
    care_type = RadioField(
        "Kind of placement it buys",
        widget=GovRadioInput(),
        choices=[
            ("residential", "Residential care"),
            ("foster", "Foster care"),
            ("supported", "Supported accommodation"),
        ],
        default="residential",
        description="Referrals invite the lot's providers when this kind of placement suits the child.",
        validators=[InputRequired(message="Choose the kind of placement")],
    )
    submit = SubmitField("Add lot", widget=GovSubmitInput())


class AdmitForm(Form):
    provider_id = SelectField("Provider", widget=GovSelect(), validators=[DataRequired(message="Choose a provider")])
    tier = RadioField(
        "Tier",
        widget=GovRadioInput(),
        choices=[(t, t) for t in TIERS],
        default="Preferred",
        validators=[InputRequired(message="Choose a tier")],
    )
    submit = SubmitField("Admit provider", widget=GovSubmitInput())


class PriceForm(Form):
    need_level = SelectField("Need level", widget=GovSelect(), choices=[(n, n.capitalize()) for n in NEED_LEVELS])
    weekly_price = pounds_field("Weekly price (£)")
    effective_from = date_field("First day")
    effective_to = date_field("Last day", required=False, description="Leave empty if it has no end yet")
    submit = SubmitField("Add price", widget=GovSubmitInput())


class UpliftForm(Form):
    percent = DecimalField(
        "Uplift (%)",
        widget=GovTextInput(),
        places=2,
        description="For example 3.5",
        validators=[InputRequired(message="Enter the uplift"), NumberRange(min=-50, max=100)],
    )
    effective_from = date_field("From")
    lot_id = SelectField("Lot", widget=GovSelect(), validators=[Optional()])
    submit = SubmitField("Apply uplift", widget=GovSubmitInput())


class DecisionForm(VersionedForm):
    decision = RadioField(
        "Decision",
        widget=GovRadioInput(),
        choices=[("extend", "Extend the contract"), ("expire", "Let it expire and re-procure")],
        validators=[InputRequired(message="Choose a decision")],
    )
    extend_to = date_field("Extend to", required=False)
    note = TextAreaField("Note", widget=GovTextArea(), validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Record decision", widget=GovSubmitInput())


class BlockSettingsForm(VersionedForm):
    # The service says what is too few; the form refuses what no block has.
    beds = IntegerField(
        "Beds",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the number of beds"),
            NumberRange(max=MAX_BEDS, message=f"A block has at most {MAX_BEDS:,} beds"),
        ],
    )
    underuse_threshold_percent = IntegerField(
        "Underuse threshold (%)", widget=GovTextInput(), validators=[InputRequired(message="Enter the threshold")]
    )
    underuse_window_nights = IntegerField(
        "Underuse window (nights)", widget=GovTextInput(), validators=[InputRequired(message="Enter the window")]
    )
    notice_days = IntegerField(
        "Notice period for expiry (days)",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the notice period"),
            NumberRange(0, 3650, message="The notice period must be between 0 and 3,650 days"),
        ],
    )
    compared_lot = SelectField(
        "Value for money: compare its beds with",
        widget=GovSelect(),
        validators=[Optional()],
        description="Placements of the same type in a framework lot of this name, "
        "or every framework and spot placement of its type",
    )
    priced_per = RadioField(
        "Priced per",
        widget=GovRadioInput(),
        choices=list(PRICE_UNITS.items()),
        description="A short-breaks block may be priced per bed-night. Its void cost uses the night's price.",
        validators=[Optional()],
    )
    submit = SubmitField("Save settings", widget=GovSubmitInput())


class OutageForm(Form):
    beds = IntegerField(
        "Beds out of use",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the number of beds"),
            NumberRange(max=MAX_BEDS, message=f"A block has at most {MAX_BEDS:,} beds"),
        ],
    )
    start_date = date_field("First night out of use")
    end_date = date_field("Back in use from", required=False, description="Leave empty if not known yet")
    reason = StringField(
        "Reason", widget=GovTextInput(), validators=[DataRequired(message="Give the reason"), Length(max=500)]
    )
    submit = SubmitField("Record beds out of use", widget=GovSubmitInput())


class BlockPriceForm(Form):
    weekly_price = pounds_field("Price per bed per week (£)", message="Enter the price")
    effective_from = date_field("From")
    submit = SubmitField("Change the price", widget=GovSubmitInput())

    @classmethod
    def for_block(cls, contract) -> BlockPriceForm:
        """The form with its price in the block's own unit: per bed-week, or per bed-night."""
        form = cls()
        form.weekly_price.label.text = f"Price per bed per {'night' if contract.priced_per == 'night' else 'week'} (£)"
        return form


class BreakDateForm(Form):
    break_date = date_field("Break date")
    submit = SubmitField("Add break date", widget=GovSubmitInput())


class FeeForm(Form):
    weekly_fee = pounds_field("New weekly fee (£)", message="Enter the fee")
    effective_from = date_field("From")
    submit = SubmitField("Change the fee", widget=GovSubmitInput())


class ReturnUploadForm(Form):
    file = FileField(
        "Completed template",
        widget=GovFileInput(),
        description="CSV or XLSX with indicator_code, value and comment.",
        validators=[FileRequired(message="Choose the completed template")],
    )
    submit = SubmitField("Upload and check", widget=GovSubmitInput())


class ReviewForm(VersionedForm):
    decision = RadioField(
        "Decision",
        widget=GovRadioInput(),
        choices=[("accept", "Accept the return"), ("return", "Return it to the provider for correction")],
        validators=[InputRequired(message="Choose a decision")],
    )
    comment = TextAreaField(
        "Comments",
        widget=GovTextArea(),
        description="Needed when you return it: say what to correct.",
        validators=[Optional(), Length(max=4000)],
    )
    submit = SubmitField("Save review", widget=GovSubmitInput())


class IndicatorForm(Form):
    target = DecimalField("Target", widget=GovTextInput(), places=2, validators=[Optional(), INDICATOR_RANGE])
    amber = DecimalField(
        "Amber threshold",
        widget=GovTextInput(),
        places=2,
        validators=[InputRequired(message="Enter the amber threshold"), INDICATOR_RANGE],
    )
    red = DecimalField(
        "Red threshold",
        widget=GovTextInput(),
        places=2,
        validators=[InputRequired(message="Enter the red threshold"), INDICATOR_RANGE],
    )
    submit = SubmitField("Save thresholds", widget=GovSubmitInput())


class RegisterForm(VersionedForm):
    """What the Transparency Code's contracts register shows of a contract."""

    description = TextAreaField(
        "Description",
        widget=GovTextArea(),
        description="What is bought, in a sentence or two, as the public register shows it",
        validators=[Optional(), Length(max=1000)],
    )
    department = StringField(
        "Responsible department",
        widget=GovTextInput(),
        description="For example, Children's Services: placements commissioning",
        validators=[Optional(), Length(max=120)],
    )
    value = pounds_field(
        "Value",
        required=False,
        description="Over the whole term, or estimated. Leave empty for a block to use its beds at its price.",
        maximum_pence=MAX_CONTRACT_VALUE_PENCE,
    )
    procurement_route = SelectField("Procurement route", widget=GovSelect(), validators=[Optional()])
    review_date = date_field("Review date", required=False, description="When the contract is next reviewed")
    submit = SubmitField("Save", widget=GovSubmitInput())


class PdsUploadForm(Form):
    file = FileField(
        "Placements Data Standard file",
        widget=GovFileInput(),
        description="The template's CSV or XLSX, with its 44 columns: one line per placement.",
        validators=[FileRequired(message="Choose the file to import")],
    )
    submit = SubmitField("Import placements", widget=GovSubmitInput())


class ContributionForm(Form):
    cofunder = SelectField(
        "Co-funder", widget=GovSelect(), validators=[InputRequired(message="Choose the co-funder")], coerce=str
    )
    share = RadioField(
        "What they pay",
        widget=GovRadioInput(),
        choices=[("percent", "A percentage of the weekly fee"), ("weekly", "A fixed amount a week")],
        validators=[InputRequired(message="Choose a percentage or a fixed amount")],
    )
    percent = DecimalField(
        "Percentage of the weekly fee",
        widget=GovTextInput(),
        places=2,
        description="For a percentage: from 0.01 to 100, like 25 or 33.33.",
        validators=[Optional(), NumberRange(min=0, max=100, message="The percentage must be from 0.01 to 100")],
    )
    weekly = pounds_field("Fixed amount a week (£)", required=False, description="For a fixed amount.")
    first_night = date_field("From", description="The first night it pays for, on or after the placement's start.")
    last_night = date_field("Until", required=False, description="Optional. The last night it pays for.")
    submit = SubmitField("Add the contribution", widget=GovSubmitInput())


class EndContributionForm(Form):
    last_night = date_field("Last night it pays for")
    submit = SubmitField("End the contribution", widget=GovSubmitInput())


class FundingSharesForm(Form):
    effective_from = date_field("From", description="The shares apply to the contract's nights from this date.")
    submit = SubmitField("Save the funding shares", widget=GovSubmitInput())
