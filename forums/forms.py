"""Forms for the forums' pages (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from hub.content import shown
from hub.content_forms import translatable

VISIBILITY_LABELS = {
    "public": _l("Public: anyone reads, members post"),
    "members": _l("Members: only signed-in members read and post"),
    "group": _l("Group: only the group's members know it exists"),
}
POSTING_LABELS = {
    "all": _l("Everyone who can read it"),
    "moderators": _l("Moderators only (announcements)"),
}
MODE_LABELS = {
    "each": _l("Every post by email"),
    "daily": _l("A daily digest"),
    "weekly": _l("A weekly digest"),
    "none": _l("No email"),
}



def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value=value, label=label) for value, label in labels.items()]


BODY_HELP = _l("Markdown: **bold**, *italic*, > quote, - lists, [link](https://…). "
               "Mention a member with @name.surname.")


class TopicForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=100_000)],
                         description=BODY_HELP)
    files = MultipleFileField(_l("Attach files (optional)"))


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(), Length(max=100_000)],
                         description=BODY_HELP)
    parent_id = HiddenField()
    files = MultipleFileField(_l("Attach files (optional)"))


class EditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=300)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=100_000)],
                         description=BODY_HELP)


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class MoveForm(FlaskForm):
    board = SelectField(_l("Move to the board"), validators=[DataRequired()])


class SubscriptionForm(FlaskForm):
    mode = SelectField(_l("Email from this board"), choices=_choices(MODE_LABELS))


class BoardForm(FlaskForm):
    slug = StringField(_l("Short name (slug)"), validators=[DataRequired(), Length(max=63)],
                       description=_l("Used in links and in the list address: "
                                      "lower-case letters, digits and dashes."))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    category = StringField(_l("Category"), validators=[Optional(), Length(max=100)],
                           description=_l("Boards are listed by category."))
    thematic_area = SelectField(_l("Thematic area"), validators=[Optional()])
    position = IntegerField(_l("Order"), validators=[Optional()])
    visibility = SelectField(_l("Who can read it"), choices=_choices(VISIBILITY_LABELS))
    group = SelectField(_l("Group (for a group board)"), validators=[Optional()])
    posting = SelectField(_l("Who can post"), choices=_choices(POSTING_LABELS))
    moderator_group = SelectField(_l("Moderators"), validators=[Optional()],
                                  description=_l("Leave empty for the network's moderators."))
    premoderated = BooleanField(_l("Hold members' posts until a moderator approves them"))
    locked = BooleanField(_l("Locked: nobody but moderators can post"))

    def fill_choices(self, areas: list, groups: list) -> None:
        self.thematic_area.choices = [("", _l("None"))] + [(a.slug, shown(a, "name"))
                                                           for a in areas]
        self.group.choices = [("", _l("None"))] + [(g.slug, shown(g, "name")) for g in groups]
        self.moderator_group.choices = [("", _l("The network's moderators"))] + [
            (g.slug, shown(g, "name")) for g in groups]


translatable(BoardForm, {"name": 200, "description": 2000, "category": 100})
