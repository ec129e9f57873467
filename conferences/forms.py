"""Forms for the conferences' pages (Flask-WTF: every form carries a CSRF token).

Times are typed in the viewer's own time zone (`datetime-local` fields) and converted to
UTC by `to_utc`; the page says which zone it is. Imports `hub` only."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from hub import clock
from hub.content_forms import translatable

TIME_FORMAT = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def to_utc(value: datetime | None) -> datetime | None:
    """A naive time typed by the viewer, in their zone, as an aware time."""
    if value is None:
        return None
    zone = get_timezone()
    return value.replace(tzinfo=ZoneInfo(str(zone)))


def to_local(value: datetime | None) -> datetime | None:
    """An aware UTC time as the naive local time a `datetime-local` field shows."""
    if value is None:
        return None
    return clock.aware(value).astimezone(ZoneInfo(str(get_timezone()))).replace(tzinfo=None)


def _when(label: str, required: bool = True, description: str | None = None
          ) -> DateTimeLocalField:
    return DateTimeLocalField(label, format=TIME_FORMAT,
                              validators=[DataRequired() if required else Optional()],
                              description=description)


class ConferenceForm(FlaskForm):
    slug = StringField(_l("Short name (slug)"), validators=[DataRequired(), Length(max=63)],
                       description=_l("In links and in the list address: lower-case letters, "
                                      "digits and dashes."))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    theme = StringField(_l("Theme"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)],
                                description=_l("Markdown. Shown on the public page."))
    registration_opens_at = _when(_l("Registration opens"))
    registration_closes_at = _when(_l("Registration closes"), required=False,
                                   description=_l("Leave empty: until the conference closes."))
    opens_at = _when(_l("The conference opens"))
    closes_at = _when(_l("The conference closes"))
    premoderated = BooleanField(_l("Hold participants' posts until a moderator approves "
                                   "them"))
    auto_approve = BooleanField(_l("Approve registrations automatically"))
    moderators = TextAreaField(_l("Moderators (email addresses, one per line)"),
                               validators=[Optional(), Length(max=5000)])
    lead_moderator = EmailField(_l("Lead moderator (email address)"),
                                validators=[Optional(), Email(), Length(max=254)])
    contact_name = StringField(_l("Secretariat contact: name"),
                               validators=[Optional(), Length(max=200)])
    contact_email = EmailField(_l("Secretariat contact: email"),
                               validators=[Optional(), Email(), Length(max=254)])
    thematic_area = SelectField(_l("Thematic area"), validators=[Optional()])
    keywords = StringField(_l("Keywords (comma-separated)"),
                           validators=[Optional(), Length(max=500)])
    countries = SelectMultipleField(_l("Countries it is held in or about"),
                                    validate_choice=False,
                                    description=_l("Its country pages list it. Hold Ctrl "
                                                   "(or ⌘) to choose several."))
    announce = BooleanField(_l("Announce it now (members and visitors see the public page)"),
                            default=True)


class RoundForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=250)])
    question = TextAreaField(_l("Question for the participants"),
                             validators=[DataRequired(), Length(max=20000)],
                             description=_l("Markdown. It opens the round's discussion."))
    opens_at = _when(_l("The round opens"))
    closes_at = _when(_l("The round closes"))


translatable(ConferenceForm, {"title": 300, "theme": 300, "description": 20000})
translatable(RoundForm, {"title": 250, "question": 20000})


class ApplyForm(FlaskForm):
    motivation = TextAreaField(_l("Why do you want to take part?"),
                               validators=[DataRequired(), Length(max=5000)],
                               description=_l("The moderators read this when they decide."))
    anonymous = BooleanField(_l("Do not name me in the proceedings (show only my country)"))


class AnonymityForm(FlaskForm):
    anonymous = BooleanField(_l("Do not name me in the proceedings (show only my country)"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason (emailed to the applicant)"),
                           validators=[DataRequired(), Length(max=2000)])


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Why it is cancelled"),
                           validators=[DataRequired(), Length(max=2000)],
                           description=_l("Emailed to everyone concerned and shown on the "
                                          "conference's page."))


class DeleteForm(FlaskForm):
    confirm = StringField(_l("Type the conference's short name to confirm"),
                          validators=[DataRequired(), Length(max=80)])


class InviteForm(FlaskForm):
    people = TextAreaField(_l("People to invite"), validators=[Optional(), Length(max=20000)],
                           description=_l("One per line: an email address, or Name <email>. "
                                          "People without an account get one to finish on "
                                          "the way in."))
    group = SelectField(_l("…or every member of a group"), validators=[Optional()])


class SummaryForm(FlaskForm):
    body = TextAreaField(_l("Summary of the round"),
                         validators=[DataRequired(), Length(max=100_000)],
                         description=_l("Markdown. Posted in the round's thread, marked as a "
                                        "summary, and used in the proceedings."))


class HeldEditForm(FlaskForm):
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=100_000)])


class PartnerForm(FlaskForm):
    name = StringField(_l("Partner organization"), validators=[DataRequired(), Length(max=200)])
    url = URLField(_l("Link"), validators=[Optional(), Length(max=500)])
    logo = FileField(_l("Logo (PNG or JPEG)"),
                     validators=[FileAllowed(["png", "jpg", "jpeg"], _l("A PNG or JPEG image"))])


class DocumentForm(FlaskForm):
    title = StringField(_l("Document title"), validators=[DataRequired(), Length(max=300)])
    url = URLField(_l("Link"), validators=[Optional(), Length(max=500)])
    file = FileField(_l("…or a file"))


class ArchiveForm(FlaskForm):
    archive = SelectField(_l("Who can read the discussion now"), choices=[
        SelectChoice("closed", _l("Only the participants, moderators and the Secretariat")),
        SelectChoice("members", _l("All signed-in members (read only)")),
        SelectChoice("public", _l("Everyone (read only)")),
    ])


class ProceedingsForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    introduction = TextAreaField(_l("Introduction"), validators=[Optional(),
                                                                Length(max=100_000)],
                                 description=_l("Markdown."))
    conclusions = TextAreaField(_l("Conclusions"), validators=[Optional(),
                                                              Length(max=100_000)],
                                description=_l("Markdown. Optional."))


class CompileForm(FlaskForm):
    language = SelectField(_l("Language of the proceedings"))
