"""The registry's forms. A record's form is built from its kind's field table, so a field
added in `hub.registry.kinds` appears on the page without touching this file. WTForms only
parses the request (and checks CSRF); `hub.registry.actions.validate` decides what is
right, so the page, the API and imports refuse the same things. Imports only `hub`."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from hub import countries
from hub.forms import MultiCheckboxField, options
from hub.registry import fields
from hub.registry.kinds import KINDS, Kind

MAX_CONTACTS = 20
MAX_LINKS = 30
MAX_EDITIONS = 10
COMMON_LANGUAGES = ("en", "es", "fr", "ar", "zh", "ru", "pt")


class ContactForm(Form):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=300)])
    organization = StringField(_l("Organization"), validators=[Optional(), Length(max=300)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=300)],
                        render_kw={"type": "email", "autocomplete": "off"})
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=300)],
                        render_kw={"type": "tel"})
    role = StringField(_l("Role"), validators=[Optional(), Length(max=300)])


class LinkForm(Form):
    url = StringField(_l("Web address"), validators=[Optional(), Length(max=2000)],
                      render_kw={"type": "url", "placeholder": "https://"})
    title = StringField(_l("Title"), validators=[Optional(), Length(max=300)])
    language = SelectField(_l("Language"), validate_choice=False, validators=[Optional()])


class EditionForm(Form):
    language = SelectField(_l("Language"), validate_choice=False, validators=[Optional()])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=300)])
    abstract = TextAreaField(_l("Summary"), validators=[Optional()])
    links = TextAreaField(_l("Links"), validators=[Optional()],
                          description=_l("One per line: the web address, then | and its "
                                         "title."))


def _language_choices(locale: str) -> list[tuple[str, Any]]:
    names = {code: fields.language_name(code, locale) for code in fields.languages()}
    common = [(c, names[c]) for c in COMMON_LANGUAGES if c in names]
    rest = sorted(((c, n) for c, n in names.items() if c not in COMMON_LANGUAGES
                   and len(c) == 2), key=lambda item: fields.fold(item[1]))
    return options([("", _l("Choose…")), *common, *rest])


def _field_for(spec: fields.Field) -> dict[str, Any]:
    """{attribute name: WTForms field} for one record field."""
    label, help_text = spec.label, spec.help
    opts = {"description": help_text, "validators": [Optional()]}
    kind = spec.type
    if kind in {"title", "text"}:
        return {spec.name: StringField(label, **opts)}
    if kind == "longtext":
        return {spec.name: TextAreaField(label, **opts)}
    if kind == "date":
        return {spec.name: DateField(label, **opts)}
    if kind == "period":
        return {f"{spec.name}_start": DateField(_l("From"), validators=[Optional()]),
                f"{spec.name}_end": DateField(_l("Until"), validators=[Optional()])}
    if kind in {"choice", "country", "language"}:
        choices = options([("", _l("Choose…")), *spec.choices])
        return {spec.name: SelectField(label, choices=choices, validate_choice=False, **opts)}
    if kind == "countries":
        return {spec.name: SelectMultipleField(label, validate_choice=False, **opts)}
    if kind == "regions":
        return {spec.name: MultiCheckboxField(label, validate_choice=False, **opts)}
    if kind == "themes":
        return {spec.name: MultiCheckboxField(label, validate_choice=False, **opts)}
    if kind == "strings":
        widget = StringField if "," in spec.separators else TextAreaField
        return {spec.name: widget(label, **opts)}
    if kind == "lines":
        return {spec.name: TextAreaField(label, **opts)}
    if kind == "contacts":
        return {spec.name: FieldList(FormField(ContactForm), label=label,
                                     min_entries=1, max_entries=MAX_CONTACTS)}
    if kind == "links":
        return {spec.name: FieldList(FormField(LinkForm), label=label,
                                     min_entries=1, max_entries=MAX_LINKS)}
    if kind == "editions":
        return {spec.name: FieldList(FormField(EditionForm), label=label,
                                     min_entries=1, max_entries=MAX_EDITIONS)}
    raise AssertionError(kind)


@cache
def form_class(kind_name: str) -> type[FlaskForm]:
    kind = KINDS[kind_name]
    attrs: dict[str, Any] = {}
    for spec in kind.fields:
        attrs.update(_field_for(spec))
    # The Secretariat types in a paper form for someone without Internet access.
    attrs["on_behalf_name"] = StringField(_l("Name"), validators=[Optional(), Length(max=300)])
    attrs["on_behalf_organization"] = StringField(_l("Organization"),
                                                  validators=[Optional(), Length(max=300)])
    attrs["on_behalf_email"] = StringField(_l("Email"), validators=[Optional(), Length(max=300)],
                                           render_kw={"type": "email"})
    return type(f"{kind_name.title()}Form", (FlaskForm,), attrs)


def fill_choices(form: FlaskForm, kind: Kind, vocab: fields.Vocabulary, locale: str) -> None:
    """Choices in the reader's language, and "(required)" on the fields that are."""
    from flask_babel import gettext

    from hub.registry.actions import region_name

    country_choices = countries.country_choices(locale)
    for spec in kind.fields:
        target = getattr(form, spec.name, None)
        if spec.required and target is not None:
            target.label.text = gettext("%(label)s (required)", label=spec.label)
        if spec.type == "regions":
            target.choices = options((code, region_name(code)) for code in countries.REGIONS)
        elif spec.type == "country":
            target.choices = options([("", _l("Choose a country")), *country_choices])
        elif spec.type == "countries":
            target.choices = options(country_choices)
        elif spec.type == "themes":
            target.choices = options((slug, area.name) for slug, area in sorted(
                vocab.by_slug.items(), key=lambda item: (item[1].position, item[1].name))
                if area.active or slug in (target.data or []))
        elif spec.type == "language":
            target.choices = _language_choices(locale)
        elif spec.type in {"links", "editions"}:
            choices = _language_choices(locale)
            for entry in target:
                entry.form.language.choices = choices


def pad(form: FlaskForm, kind: Kind, locale: str = "en") -> None:
    """A blank row or two after the filled ones, so a page without JavaScript can add one."""
    for spec in kind.fields:
        if spec.type in {"contacts", "links", "editions"}:
            entries = getattr(form, spec.name)
            filled = sum(1 for e in entries if _filled(e.data))
            wanted = min(entries.max_entries, filled + (2 if filled == 0 else 1))
            if spec.type == "editions":
                wanted = min(entries.max_entries, filled + 1)
            while len(entries) < wanted:
                entry = entries.append_entry()
                if spec.type != "contacts":
                    entry.form.language.choices = _language_choices(locale)


def starting_values(kind: Kind, member: Any) -> dict[str, Any]:
    """A new record's form starts with its author as the first contact (and, for needs,
    their country): a national focal point usually registers their own country's."""
    data: dict[str, Any] = {"contacts": [{"name": member.name, "email": member.email,
                                          "organization": member.organization}]}
    if kind.name == "needs" and member.country:
        data["country"] = member.country
    return data


def initial(kind: Kind, values: dict[str, Any]) -> dict[str, Any]:
    """A record's values as the form's data."""
    data: dict[str, Any] = {}
    for spec in kind.fields:
        value = values.get(spec.name)
        if spec.type == "period":
            start, end = value or (None, None)
            data[f"{spec.name}_start"], data[f"{spec.name}_end"] = start, end
        elif spec.type == "strings":
            data[spec.name] = (", " if "," in spec.separators else "\n").join(value or [])
        elif spec.type == "lines":
            data[spec.name] = "\n".join(value or [])
        elif spec.type == "editions":
            data[spec.name] = [{**e, "links": fields.to_cell(_LINKS_SPEC, e.get("links", []))}
                               for e in value or []]
        else:
            data[spec.name] = value
    submitter = values.get("on_behalf_of") or {}
    data.update({f"on_behalf_{k}": submitter.get(k, "") for k in ("name", "organization",
                                                                  "email")})
    return data


def _filled(entry: dict[str, Any]) -> bool:
    return any((v or "").strip() for v in entry.values() if isinstance(v, str))


def form_data(kind: Kind, form: FlaskForm) -> dict[str, Any]:
    """The form's values in the API's shape, for the services."""
    data: dict[str, Any] = {}
    for spec in kind.fields:
        if spec.type == "period":
            data[spec.name] = {
                "start": getattr(form, f"{spec.name}_start").data,
                "end": getattr(form, f"{spec.name}_end").data,
            }
        elif spec.type in {"contacts", "links", "editions"}:
            data[spec.name] = [e for e in getattr(form, spec.name).data if _filled(e)]
        else:
            data[spec.name] = getattr(form, spec.name).data
    return data


def on_behalf_data(form: FlaskForm) -> dict[str, str] | None:
    """{name, organization, email} from the Secretariat's "on behalf of" fields, or None."""
    data = {"name": form.on_behalf_name.data or "",
            "organization": form.on_behalf_organization.data or "",
            "email": form.on_behalf_email.data or ""}
    return data if any(v.strip() for v in data.values()) else None


def place_errors(form: FlaskForm, kind: Kind, errors: dict[str, str]) -> dict[str, str]:
    """Put a service's refusals next to their fields; returns those shown apart (periods,
    contacts, links), keyed by field name."""
    apart: dict[str, str] = {}
    for name, message in errors.items():
        spec = kind.field(name)
        target = getattr(form, name, None)
        if spec is not None and spec.type not in {"period", "contacts", "links",
                                                  "editions"} and target:
            target.errors = [*list(target.errors or []), message]
        else:
            apart[name] = message
    return apart


_LINKS_SPEC = fields.Field("links", "links", "links")


class ReturnForm(FlaskForm):
    note = TextAreaField(_l("What should the owner change? (emailed to them)"),
                         validators=[Length(max=4000)])


class ImportForm(FlaskForm):
    kind = SelectField(_l("Kind of records"),
                       choices=options((k.name, k.plural) for k in KINDS.values()))
    file = FileField(_l("CSV, ODS or JSON file"), validators=[
        FileRequired(), FileAllowed(["csv", "json", "txt", "ods"],
                                    _l("A .csv, .ods or .json file"))])
    dry_run = BooleanField(_l("Only check the file; change nothing"))
    publish = BooleanField(_l("Publish the records at once"))


class FollowForm(FlaskForm):
    themes = MultiCheckboxField(_l("Thematic areas"), validate_choice=False)
    countries = SelectMultipleField(_l("Countries"), validate_choice=False,
                                    description=_l("Hold Ctrl (or ⌘) to choose several."))


class FocalPointForm(FlaskForm):
    country = SelectField(_l("Country"), validate_choice=False,
                          validators=[DataRequired(_l("Choose a country."))])
    email = StringField(_l("Member's email address"),
                        validators=[DataRequired(_l("Give the member's address.")),
                                    Length(max=254)], render_kw={"type": "email"})


class SynthesisForm(FlaskForm):
    title = StringField(_l("Title of the synthesis"),
                        validators=[DataRequired(_l("Give the synthesis a title.")),
                                    Length(max=300)])
