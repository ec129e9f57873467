"""Forms for the hub's pages (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from hub import countries
from hub.content import shown
from hub.content_forms import translatable
from hub.i18n import LANGUAGE_NAMES, timezones

ORG_TYPE_LABELS = {
    "government": _l("Government"),
    "research": _l("Research / academia"),
    "intergovernmental": _l("Intergovernmental organization"),
    "ngo": _l("NGO / civil society"),
    "donor": _l("Donor / funding agency"),
    "private": _l("Private sector"),
    "other": _l("Other"),
}
REGION_LABELS = {
    "africa": _l("African"),
    "asia_pacific": _l("Asia-Pacific"),
    "eastern_europe": _l("Eastern European"),
    "grulac": _l("Latin American and Caribbean"),
    "weog": _l("Western European and others"),
}
ROLE_LABELS = {"member": _l("Member"), "moderator": _l("Moderator"),
               "secretariat": _l("Secretariat")}


def options(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """Select choices from (value, label) pairs, in the form WTForms 3.3+ wants."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _country_choices() -> list[SelectChoice]:
    return options([("", _l("Choose a country")),
                    *countries.country_choices(str(get_locale() or "en"))])


class ProfileFields(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    organization = StringField(_l("Organization"), validators=[DataRequired(), Length(max=200)])
    org_type = SelectField(_l("Type of organization"),
                           choices=options(ORG_TYPE_LABELS.items()))
    country = SelectField(_l("Country"), validators=[DataRequired()])
    expertise = MultiCheckboxField(_l("Thematic areas of expertise"), coerce=int)
    bio = TextAreaField(_l("Short biography"), validators=[Optional(), Length(max=2000)])
    language = SelectField(_l("Preferred language"), choices=options(LANGUAGE_NAMES.items()))
    timezone = SelectField(_l("Time zone"), render_kw={"data-detect-timezone": ""})

    def fill_choices(self, areas: list) -> None:
        self.country.choices = _country_choices()
        self.timezone.choices = options((z, z.replace("_", " ")) for z in timezones())
        self.expertise.choices = options((a.id, shown(a, "name")) for a in areas)


class ApplyForm(ProfileFields):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=10, max=200)],
                             description=_l("At least 10 characters."))
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password",
                                                                _l("The passwords differ."))])
    accept_rules = BooleanField(_l("I accept the network's rules"), validators=[DataRequired()])


class InvitationForm(ProfileFields):
    password = PasswordField(_l("Choose a password"),
                             validators=[DataRequired(), Length(min=10, max=200)])
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password",
                                                                _l("The passwords differ."))])
    accept_rules = BooleanField(_l("I accept the network's rules"), validators=[DataRequired()])


class ProfileForm(ProfileFields):
    show_email = BooleanField(_l("Show my email address to other members"))


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class EmailOnlyForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email(), Length(max=254)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"),
                             validators=[DataRequired(), Length(min=10, max=200)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("password",
                                                                _l("The passwords differ."))])


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])


class ChangeEmailForm(FlaskForm):
    email = EmailField(_l("New email address"),
                       validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Your password"), validators=[DataRequired()])


class TokenForm(FlaskForm):
    name = StringField(_l("What is this token for?"), validators=[Optional(), Length(max=100)])


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason (sent to the applicant)"),
                           validators=[DataRequired(), Length(max=2000)])


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=options(ROLE_LABELS.items()))


class InviteForm(FlaskForm):
    file = FileField(_l("CSV file (columns: name, email, organization, country)"),
                     validators=[FileRequired(), FileAllowed(["csv", "txt"], _l("A .csv file"))])


class AreaForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    position = IntegerField(_l("Order"), validators=[Optional()])
    active = BooleanField(_l("Offered to members"), default=True)


class GroupForm(FlaskForm):
    slug = StringField(_l("Short name (slug)"), validators=[DataRequired(), Length(max=63)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])


class SiteTextForm(FlaskForm):
    body = TextAreaField(_l("Text (Markdown)"), validators=[Optional(), Length(max=20000)],
                         description=_l("Leave empty to show the built-in text."))


translatable(AreaForm, {"name": 200})
translatable(SiteTextForm, {"body": 20000})
translatable(GroupForm, {"name": 200, "description": 2000})


class GroupAddForm(FlaskForm):
    email = EmailField(_l("Member's email address"),
                       validators=[DataRequired(), Email(), Length(max=254)])
    manager = BooleanField(_l("Make a group manager"))


class DirectoryForm(FlaskForm):
    class Meta:
        csrf = False  # a search (GET) changes nothing

    q = StringField(_l("Name or organization"), validators=[Optional(), Length(max=100)])
    country = SelectField(_l("Country"), validators=[Optional()])
    region = SelectField(_l("Region"), validators=[Optional()],
                         choices=options([("", _l("Any region")), *REGION_LABELS.items()]))
    org_type = SelectField(_l("Type of organization"), validators=[Optional()],
                           choices=options([("", _l("Any type")), *ORG_TYPE_LABELS.items()]))
    area = SelectField(_l("Expertise"), validators=[Optional()])
