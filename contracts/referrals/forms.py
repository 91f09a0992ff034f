"""The referral's question pages (one topic a page, the national standard's lists exactly), the
provider's answer, the referrer's decision, and vacancies."""

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import IntegerField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from consortium.core.forms import Form, date_field, pounds_field
from contracts.models import NEED_LEVELS, PLACEMENT_TYPES
from contracts.referrals.models import (
    ADDITIONAL_SUPPORT,
    CARE_TYPES,
    COMMUNICATION_SHOWN,
    CULTURAL_NEEDS,
    DECLINE_REASONS,
    LIVING_COMPANIONS,
    PETS,
    RISKS,
    SEXES,
    SPECIFIC_COMMUNICATION,
    SUITABILITY,
    UNMET_REASONS,
)
from contracts.referrals.search import OFFER_VALID_HOURS
from contracts.referrals.services import MAX_VALID_HOURS

NO_NAMES = "Do not write the child's name or anything that identifies them."


def _yes(value) -> bool:
    return value if isinstance(value, bool) else value == "True"


def yes_no(label: str, yes: str = "Yes", no: str = "No", description: str = "") -> RadioField:
    return RadioField(
        label,
        widget=GovRadioInput(),
        choices=[(True, yes), (False, no)],
        coerce=_yes,
        description=description,
        validators=[InputRequired(message=f"Choose an answer for {label.lower().rstrip('?')}")],
    )


def choice(label: str, options, description: str = "") -> RadioField:
    """Radios of the standard's options; a dict of them gives each its label."""
    return RadioField(
        label,
        widget=GovRadioInput(),
        choices=list(options.items()) if isinstance(options, dict) else [(o, o) for o in options],
        description=description,
        validators=[InputRequired(message=f"Choose {label.lower().rstrip('?')}")],
    )


def other_text(label: str) -> StringField:
    return StringField(label, widget=GovTextInput(), description=NO_NAMES, validators=[Optional(), Length(max=200)])


class ChildForm(Form):
    authority_code = SelectField("Member authority", widget=GovSelect(), validators=[Optional()])
    child_ref = StringField(
        "Child reference",
        widget=GovTextInput(),
        description="Your authority's own pseudonymous reference. Never a name or a date of birth.",
        validators=[DataRequired(message="Enter the child reference"), Length(max=40)],
    )
    age_in_years = IntegerField(
        "Age in years",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the child's age in years"),
            NumberRange(0, 25, message="Age must be from 0 to 25"),
        ],
    )
    sex = RadioField(
        "Sex",
        widget=GovRadioInput(),
        choices=[(s, s) for s in SEXES] + [("", "Not needed for matching")],
        default="",
        description="Only where it matters for matching, such as a home for girls only.",
        validators=[Optional()],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class WhenForm(Form):
    needed_by = date_field(
        "When is the placement needed by?",
        description="Today or later. Today, within 5 days or later sets how long providers have to answer.",
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class WhatForm(Form):
    foster_suitability = choice("Foster care", SUITABILITY)
    residential_suitability = choice("Residential care", SUITABILITY)
    supported_suitability = choice("Supported accommodation", SUITABILITY, "For young people of 16 or over only.")
    need_level = RadioField(
        "Need level",
        widget=GovRadioInput(),
        choices=[(n, n.capitalize()) for n in NEED_LEVELS],
        default="standard",
        description="As the framework's price schedule names them.",
        validators=[InputRequired(message="Choose the need level")],
    )
    sibling_count = IntegerField(
        "Number of siblings to place with",
        widget=GovTextInput(),
        default=0,
        validators=[
            InputRequired(message="Enter the number of siblings, or 0"),
            NumberRange(0, 20, message="From 0 to 20"),
        ],
    )
    max_weekly = pounds_field("Highest weekly fee", required=False, description="Optional. In pounds, like 5200.00.")
    submit = SubmitField("Continue", widget=GovSubmitInput())


class WhereForm(Form):
    local_preferred = yes_no("Is a placement in your area preferred?")
    out_of_area_reason = StringField(
        "Why is a placement outside the area preferred?",
        widget=GovTextInput(),
        description=f"Needed if not in the area. {NO_NAMES}",
        validators=[Optional(), Length(max=200)],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class RequirementsForm(Form):
    communication_needs = choice("Communication, language and learning needs", COMMUNICATION_SHOWN)
    specific_communication = SelectMultipleField(
        "Specific communication and language requirements",
        widget=GovCheckboxesInput(),
        choices=[(o, o) for o in SPECIFIC_COMMUNICATION],
        validators=[DataRequired(message="Choose the requirements, or None")],
    )
    home_adaptation = yes_no("Does the home need adapting?")
    cultural_needs = choice("Cultural needs", CULTURAL_NEEDS, "For example, a place of worship nearby.")
    living_companions = choice("Who can the child be cared for alongside?", LIVING_COMPANIONS)
    pets = choice("Can the child live with pets?", PETS)
    additional_support = choice("Additional support", ADDITIONAL_SUPPORT)
    additional_support_other = other_text("Other additional support")
    deprivation_of_liberty = yes_no("Is there a deprivation of liberty order?")
    submit = SubmitField("Continue", widget=GovSubmitInput())


class RisksForm(Form):
    """The standard's eleven risks, each No known risk or Risk present, and its two Other fields."""

    submit = SubmitField("Continue", widget=GovSubmitInput())


for _column, _name, _label in RISKS:
    setattr(RisksForm, _column, yes_no(_label, yes="Risk present", no="No known risk"))
RisksForm.risk_other = other_text("Other risk to the child")
RisksForm.risk_to_others_other = other_text("Other risk to others or property")


class OfferForm(Form):
    home_urn = SelectField("Home", widget=GovSelect(), validators=[DataRequired(message="Choose the home")])
    start_date = date_field("Start date")
    need_level = RadioField(
        "Need level",
        widget=GovRadioInput(),
        choices=[(n, n.capitalize()) for n in NEED_LEVELS],
        validators=[InputRequired(message="Choose the need level")],
    )
    core = pounds_field("Core weekly fee", required=False, description="In pounds. A block offer costs its price.")
    additional_support = pounds_field("Additional support, weekly", required=False)
    education = pounds_field("Education, weekly", required=False)
    other = pounds_field("Other costs, weekly", required=False)
    valid_hours = IntegerField(
        "Valid for (hours)",
        widget=GovTextInput(),
        default=OFFER_VALID_HOURS,
        validators=[
            InputRequired(message="Enter how many hours the offer is valid for"),
            NumberRange(1, MAX_VALID_HOURS, message=f"From 1 to {MAX_VALID_HOURS} hours"),
        ],
    )
    reason = StringField(
        "Why is the core fee above the framework price?",
        widget=GovTextInput(),
        description=f"Needed only when it is. {NO_NAMES}",
        validators=[Optional(), Length(max=500)],
    )
    submit = SubmitField("Make the offer", widget=GovSubmitInput())


class DeclineForm(Form):
    reason = choice("Why are you declining?", DECLINE_REASONS)
    note = StringField(
        "More detail",
        widget=GovTextInput(),
        description=f"Needed for Other. {NO_NAMES}",
        validators=[Optional(), Length(max=300)],
    )
    submit = SubmitField("Decline", widget=GovSubmitInput())


class AcceptForm(Form):
    passed_block_reason = StringField(
        "Why this offer instead of the block bed?",
        widget=GovTextInput(),
        description="Needed while a block offer stands: the block's beds are already paid for.",
        validators=[Optional(), Length(max=500)],
    )
    inadequate_reason = StringField(
        "Why is this home still right?",
        widget=GovTextInput(),
        description="Needed if the home has since been judged Inadequate.",
        validators=[Optional(), Length(max=500)],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class SpotForm(Form):
    home_urn = StringField(
        "Home URN",
        widget=GovTextInput(),
        description="For example SC123456.",
        validators=[DataRequired(message="Enter the home's URN"), Length(max=10)],
    )
    start_date = date_field("Start date")
    weekly_fee = pounds_field("Weekly fee")
    placement_type = SelectField(
        "Placement type",
        widget=GovSelect(),
        choices=list(PLACEMENT_TYPES.items()),
        validators=[DataRequired(message="Choose the placement type")],
    )
    reason = StringField(
        "Why is a spot purchase needed?",
        widget=GovTextInput(),
        description=NO_NAMES,
        validators=[DataRequired(message="Say why a spot purchase is needed"), Length(max=500)],
    )
    submit = SubmitField("Buy the spot placement", widget=GovSubmitInput())


class UnmetForm(Form):
    reason = choice("Why is the need unmet?", UNMET_REASONS)
    note = StringField(
        "More detail",
        widget=GovTextInput(),
        description=f"Needed for Other. {NO_NAMES}",
        validators=[Optional(), Length(max=200)],
    )
    submit = SubmitField("Close as unmet", widget=GovSubmitInput())


class WithdrawForm(Form):
    reason = StringField(
        "Why is it withdrawn?",
        widget=GovTextInput(),
        description=f"Optional. {NO_NAMES}",
        validators=[Optional(), Length(max=300)],
    )
    submit = SubmitField("Withdraw the referral", widget=GovSubmitInput())


class VacancyForm(Form):
    home_id = SelectField("Home", widget=GovSelect(), validators=[DataRequired(message="Choose the home")])
    beds = IntegerField(
        "Beds",
        widget=GovTextInput(),
        default=1,
        validators=[InputRequired(message="Enter the number of beds"), NumberRange(1, 100, message="From 1 to 100")],
    )
    available_from = date_field("Available from")
    available_until = date_field("Available until", required=False, description="Optional.")
    care_types = SelectMultipleField(
        "Kinds of placement",
        widget=GovCheckboxesInput(),
        choices=[(key, label) for key, (label, _) in CARE_TYPES.items()],
        validators=[DataRequired(message="Choose the kinds of placement")],
    )
    min_age = IntegerField(
        "Youngest age",
        widget=GovTextInput(),
        default=10,
        validators=[InputRequired(message="Enter the youngest age"), NumberRange(0, 25, message="From 0 to 25")],
    )
    max_age = IntegerField(
        "Oldest age",
        widget=GovTextInput(),
        default=17,
        validators=[InputRequired(message="Enter the oldest age"), NumberRange(0, 25, message="From 0 to 25")],
    )
    submit = SubmitField("Publish the vacancy", widget=GovSubmitInput())
