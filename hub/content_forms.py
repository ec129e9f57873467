"""Side-by-side translation fields for the forms that edit network content.

`translatable(FormClass, {"name": 200, "description": 2000})` adds, for every field, one
input per language (`name_es`, `name_fr`, `name_en`) and a `source_lang` choice; the
template macro `translations(form, obj)` in `macros.html` shows the languages other than
the original's side by side. `read(form)` gives what `hub.content.set_translations`
takes; `fill(form, obj)` loads the stored versions. Imports only `hub`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from hub.content import LANGUAGES

_SOURCE_LABELS = (("en", _l("English")), ("es", _l("Spanish")), ("fr", _l("French")))
_SOURCE_CHOICES = [SelectChoice(value, label) for value, label in _SOURCE_LABELS]
_IN_LANGUAGE = {"en": _l("in English"), "es": _l("in Spanish"), "fr": _l("in French")}


def translatable(form_cls: type, fields: Mapping[str, int]) -> type:
    """Add the translation inputs to `form_cls` (before it is first used); a field whose
    limit is above 300 characters gets a text area."""
    form_cls.source_lang = SelectField(
        _l("Language of the original"), choices=_SOURCE_CHOICES, default="en",
        validators=[Optional()],
        description=_l("The text above is written in this language; the others are "
                       "its translations. Leave a translation empty to show the original."))
    for name, limit in fields.items():
        kind = TextAreaField if limit > 300 else StringField
        for lang in LANGUAGES:
            setattr(form_cls, f"{name}_{lang}",
                    kind(_IN_LANGUAGE[lang], validators=[Optional(), Length(max=limit)]))
    form_cls.translatable_fields = tuple(fields)
    return form_cls


def read(form: Any) -> dict[str, dict[str, str]]:
    """The versions the form sent; an input that was not sent leaves its version alone
    (an empty one that was sent removes it)."""
    out: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        for name in form.translatable_fields:
            field = getattr(form, f"{name}_{lang}")
            if field.raw_data:
                out.setdefault(lang, {})[name] = field.data or ""
    return out


def source(form: Any) -> str | None:
    """The original's language the form sent (None: not sent, left as it is)."""
    if not form.source_lang.raw_data:
        return None
    return form.source_lang.data if form.source_lang.data in LANGUAGES else None


def fill(form: Any, obj: Any) -> None:
    """Load the stored translations and original language into the form (on GET)."""
    if obj is None:
        return
    form.source_lang.data = getattr(obj, "source_lang", None) or "en"
    stored = getattr(obj, "translations", None) or {}
    for lang in LANGUAGES:
        for name in form.translatable_fields:
            getattr(form, f"{name}_{lang}").data = (stored.get(lang) or {}).get(name, "")
