"""Forms for the meetings' pages (Flask-WTF: every form carries a CSRF token).

A meeting's times are typed in the meeting's own time zone (chosen on the form), not the
viewer's: organizers read them off the invitation of the event they co-organize.
Imports `hub` and `meetings`.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from hub import clock, countries
from hub import services as hub_services
from hub.forms import options
from hub.i18n import timezones
from meetings.followup import STATUS_LABELS
from meetings.services import KIND_LABELS, LEVEL_LABELS
from meetings.submissions import KIND_LABELS as SUBMISSION_LABELS

TIME_FORMAT = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
LANGUAGES = (("en", "English"), ("es", "Español"), ("fr", "Français"), ("ar", "العربية"),
             ("ru", "Русский"), ("zh", "中文"), ("pt", "Português"))


def in_zone(value: datetime | None, zone: str) -> datetime | None:
    """A naive time typed in `zone`, as an aware time."""
    if value is None:
        return None
    return value.replace(tzinfo=ZoneInfo(zone))


def to_zone(value: datetime | None, zone: str) -> datetime | None:
    """An aware time as the naive local time of `zone` (for `datetime-local` fields)."""
    if value is None:
        return None
    return clock.aware(value).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def _when(label: str, required: bool = True) -> DateTimeLocalField:
    return DateTimeLocalField(label, format=TIME_FORMAT,
                              validators=[DataRequired() if required else Optional()])


class MeetingForm(FlaskForm):
    slug = StringField(_l("Short name (slug)"), validators=[DataRequired(), Length(max=63)],
                       description=_l("In links and in the list address: lower-case letters, "
                                      "digits and dashes."))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Kind"), choices=options(KIND_LABELS.items()))
    level = SelectField(_l("Level"), choices=options(LEVEL_LABELS.items()))
    region = SelectField(_l("Region"), validators=[Optional()])
    country = SelectField(_l("Country where it is held"), validators=[Optional()])
    theme = SelectField(_l("Thematic area"), validators=[Optional()])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)],
                                description=_l("Markdown."))
    timezone = SelectField(_l("The meeting's time zone"),
                           description=_l("The start and end below are in this zone."))
    starts_at = _when(_l("Starts"))
    ends_at = _when(_l("Ends"))
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300)],
                        description=_l("Leave empty for an online meeting."))
    online_url = URLField(_l("Online link"), validators=[Optional(), Length(max=500)],
                          description=_l("Shown to participants only."))
    visibility = SelectField(_l("Who may see it"), choices=options([
        ("public", _l("Everyone")), ("members", _l("Network members")),
        ("group", _l("A group only"))]))
    group = SelectField(_l("Group"), validators=[Optional()])
    capacity = IntegerField(_l("Places"), validators=[Optional(), NumberRange(min=1)],
                            description=_l("Leave empty for no limit; beyond it, a waiting "
                                           "list."))
    requires_approval = BooleanField(_l("The organizers approve registrations"))
    registration_open = BooleanField(_l("Registration is open"), default=True)
    submission_deadline = _when(_l("Deadline for participants' submissions"), required=False)
    discussion = BooleanField(_l("A closed discussion board (mailing list) for the "
                                 "participants"), default=True)
    announce = BooleanField(_l("Announced (shown in the calendar)"), default=True)
    organizers = TextAreaField(_l("Organizers (email addresses, one per line)"),
                               validators=[Optional(), Length(max=5000)])

    def fill_choices(self) -> None:
        locale = str(get_locale() or "en")
        empty = [("", "—")]
        self.region.choices = options(empty + countries.region_choices())
        self.country.choices = options(empty + countries.country_choices(locale))
        self.theme.choices = options(
            empty + [(a.slug, a.name) for a in hub_services.thematic_areas()])
        self.timezone.choices = options([(z, z) for z in timezones()])
        from hub.extensions import db
        from hub.models import Group

        groups = db.session.scalars(
            db.select(Group).where(Group.kind == "group").order_by(Group.name))
        self.group.choices = options(empty + [(g.slug, g.name) for g in groups])


class FiltersForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form

    level = SelectField(_l("Level"), validators=[Optional()])
    region = SelectField(_l("Region"), validators=[Optional()])
    country = SelectField(_l("Country"), validators=[Optional()])
    theme = SelectField(_l("Thematic area"), validators=[Optional()])

    def fill_choices(self) -> None:
        locale = str(get_locale() or "en")
        empty = [("", _l("Any"))]
        self.level.choices = options(empty + list(LEVEL_LABELS.items()))
        self.region.choices = options(empty + countries.region_choices())
        self.country.choices = options(empty + countries.country_choices(locale))
        self.theme.choices = options(
            empty + [(a.slug, a.name) for a in hub_services.thematic_areas()])


class OrganizerForm(FlaskForm):
    name = StringField(_l("Partner organization"), validators=[DataRequired(), Length(max=200)])
    url = URLField(_l("Its website"), validators=[Optional(), Length(max=500)])
    logo = FileField(_l("Logo (PNG or JPEG)"))


class AgendaForm(FlaskForm):
    title = StringField(_l("Agenda item"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Details"), validators=[Optional(), Length(max=2000)])
    starts_at = _when(_l("Time (in the meeting's zone)"), required=False)


class DocumentForm(FlaskForm):
    title = StringField(_l("Document title"), validators=[DataRequired(), Length(max=300)])
    language = SelectField(_l("Language"), choices=options(LANGUAGES))
    url = URLField(_l("Link"), validators=[Optional(), Length(max=500)])
    upload = FileField(_l("or a file"))


class InviteForm(FlaskForm):
    emails = TextAreaField(_l("Invite members (email addresses, one per line)"),
                           validators=[Optional(), Length(max=20000)])
    whole_group = BooleanField(_l("Invite everyone in the meeting's group"))


class RegisterForm(FlaskForm):
    note = TextAreaField(_l("A note for the organizers (optional)"),
                         validators=[Optional(), Length(max=2000)])


class SubmissionForm(FlaskForm):
    kind = SelectField(_l("What you submit"), choices=options(SUBMISSION_LABELS.items()))
    body = TextAreaField(_l("Text"), validators=[Optional(), Length(max=50000)],
                         description=_l("Markdown. Shared with the other participants."))
    upload = FileField(_l("A file (optional)"))


class RecommendationForm(FlaskForm):
    text = TextAreaField(_l("Recommendation"), validators=[DataRequired(), Length(max=10000)])
    owner_email = EmailField(_l("Owner: a member (email address)"),
                             validators=[Optional(), Email(), Length(max=254)])
    owner_organization = StringField(_l("or an organization"),
                                     validators=[Optional(), Length(max=200)])
    due_on = DateField(_l("Due date"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=options(STATUS_LABELS.items()))


class ProgressForm(FlaskForm):
    body = TextAreaField(_l("Progress"), validators=[Optional(), Length(max=10000)])
    status = SelectField(_l("Status"), choices=options(STATUS_LABELS.items()))


class ProceedingsForm(FlaskForm):
    proceedings = TextAreaField(_l("Proceedings"), validators=[Optional(), Length(max=200000)],
                                description=_l("Markdown: what was discussed and agreed."))
