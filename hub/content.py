"""The network's own content in several languages (boards, areas, groups, conferences...).

One mechanism for every text the Secretariat or a moderator writes for the network: a
model mixes in `Translatable`, names its translatable fields in `__translatable__`
(`"text"` or `"markdown"`), and gains two columns: `source_lang` (the language of the
original, kept in the ordinary columns) and `translations`, a JSON object
`{"es": {"name": "...", "description": "...", "description_html": "..."}, "fr": {...}}`.
Markdown fields keep their sanitized HTML beside them (`<field>_html`), rendered once at
write time by `hub.markup`, as every stored HTML is.

Readers call `shown(obj, field)` (templates: `obj|tr("field")`): the reader's language,
else the original, as a `Localized` string that knows which language it is in, so a
page can mark a text shown in another language (`obj|tr("field", mark=True)`). Mail
passes the recipient's language. See docs/translations.md. Imports only `hub`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from flask import g, has_request_context, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from hub import markup
from hub.errors import Invalid

LANGUAGES = ("en", "es", "fr")
_NAMES = {"en": _l("English"), "es": _l("Spanish"), "fr": _l("French")}


class Translatable:
    """Mixin: `source_lang` + `translations`; fields listed in `__translatable__`."""

    __translatable__: ClassVar[Mapping[str, str]] = {}

    source_lang: Mapped[str] = mapped_column(String(5), default="en", server_default="en")
    translations: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, server_default="{}")


class Localized(str):
    """A text with the language it is written in; `fallback` when it is not the language
    the reader asked for (their language has no version yet)."""

    lang: str
    fallback: bool

    def __new__(cls, value: str, lang: str, fallback: bool = False) -> Localized:
        made = super().__new__(cls, value)
        made.lang = lang
        made.fallback = fallback
        return made


def reader_language() -> str:
    """The request's language, or the one a mail job forced (`force_locale`)."""
    try:
        found = str(get_locale() or "en")
    except RuntimeError:  # no application context
        return "en"
    return found if found in LANGUAGES else "en"


def _source(obj: Any) -> str:
    return getattr(obj, "source_lang", None) or "en"


def shown(obj: Any, field: str, lang: str | None = None) -> Localized:
    """`field` of `obj` in `lang` (default: the reader's), else the original."""
    lang = lang or reader_language()
    original = getattr(obj, field, None) or ""
    source = _source(obj)
    if lang != source:
        versions = (getattr(obj, "translations", None) or {}).get(lang) or {}
        base = field[:-5] if field.endswith("_html") else field
        if versions.get(base):  # a translated Markdown field always has its HTML
            return Localized(versions.get(field) or "", lang)
        return Localized(original, source, fallback=bool(original))
    return Localized(original, source)


def names_by_language(obj: Any, field: str) -> tuple[tuple[str, str], ...]:
    """(language, text) for every language: what a message built once for many readers
    (list mail, digests) carries, so each copy names things in its reader's language."""
    return tuple((lang, str(shown(obj, field, lang))) for lang in LANGUAGES)


def language_name(lang: str) -> str:
    return str(_NAMES.get(lang, lang))


def marked(value: Localized | str, html: bool = False) -> Markup:
    """The text with `lang` on it and, when shown in another language than asked, a
    small mark naming the language ("EN"), its title saying why."""
    body = Markup(value) if html else escape(value)
    lang = getattr(value, "lang", None)
    if not lang:
        return body
    tag = "div" if html else "span"
    out = Markup('<{0} lang="{1}">{2}</{0}>').format(Markup(tag), lang, body)
    if getattr(value, "fallback", False):
        title = _l("Not yet translated into your language: shown in %(language)s.",
                   language=language_name(lang))
        out += Markup(' <abbr class="lang-mark" title="{0}">{1}</abbr>').format(
            title, lang.upper())
    return out


def tr_filter(obj: Any, field: str, mark: bool = False) -> Any:
    value = shown(obj, field)
    if not mark:
        return value
    return marked(value, html=field.endswith("_html"))


def versions(obj: Any, fields: Iterable[str] | None = None) -> dict[str, dict[str, str]]:
    """Every version of the fields: `{"en": {...}, "es": {...}, "fr": {...}}` (the API's
    `?translations=all`); a language without a version of a field gets the original
    missing (absent), so a client sees what is translated."""
    fields = list(fields or type(obj).__translatable__)
    source = _source(obj)
    out: dict[str, dict[str, str]] = {
        source: {f: getattr(obj, f, None) or "" for f in fields}}
    stored = getattr(obj, "translations", None) or {}
    for lang in LANGUAGES:
        if lang == source:
            continue
        entry = {f: stored.get(lang, {}).get(f) for f in fields}
        out[lang] = {f: v for f, v in entry.items() if v}
    return out


def set_translations(obj: Any, values: Mapping[str, Mapping[str, str | None]],
                     source_lang: str | None = None) -> None:
    """Replace the given fields' translations: `{"es": {"name": "..."}}`; an empty text
    removes that version. Fields not mentioned keep theirs; the source language never
    carries a translation (its text is the original)."""
    spec = type(obj).__translatable__
    if source_lang in LANGUAGES:
        obj.source_lang = source_lang
    source = _source(obj)
    stored: dict[str, dict[str, str]] = {
        lang: dict(v) for lang, v in (obj.translations or {}).items() if lang != source}
    for lang, fields in values.items():
        if lang not in LANGUAGES or lang == source:
            continue
        entry = stored.setdefault(lang, {})
        for name, text in fields.items():
            if name not in spec or text is None:
                continue
            text = str(text).strip()
            entry.pop(f"{name}_html", None)
            if not text:
                entry.pop(name, None)
                continue
            entry[name] = text
            if spec[name] == "markdown":
                entry[f"{name}_html"] = markup.render(text)
    obj.translations = {lang: v for lang, v in stored.items() if v}  # a new object: saved


def all_requested() -> bool:
    """The API caller asked for every version (`?translations=all`)."""
    return has_request_context() and request.args.get("translations") == "all"


def _caller_language() -> str | None:
    """An API caller's own language (a token request has no signed-in session)."""
    member = g.get("api_member") if has_request_context() else None
    found = getattr(member, "language", None)
    return found if found in LANGUAGES else None


def payload(obj: Any, fields: Iterable[str] | None = None, all_versions: bool | None = None,
            lang: str | None = None) -> dict[str, Any]:
    """The API's view of translatable fields: each in the caller's language (else the
    original), `lang` saying which; with `all_versions` (default: `?translations=all`),
    `translations` too: every version, the original's language included."""
    lang = lang or _caller_language() or reader_language()
    fields = list(fields or type(obj).__translatable__)
    if all_versions is None:
        all_versions = all_requested()
    out: dict[str, Any] = {f: str(shown(obj, f, lang)) for f in fields}
    translated = lang != _source(obj) and (obj.translations or {}).get(lang)
    out["lang"] = lang if translated else _source(obj)
    out["source_lang"] = _source(obj)
    if all_versions:
        out["translations"] = versions(obj, [f for f in fields if not f.endswith("_html")])
    return out


def source_lang_from_json(body: Mapping[str, Any]) -> str | None:
    """An API body's `source_lang` (the language of the original), checked; None: unset."""
    value = body.get("source_lang")
    if value is not None and value not in LANGUAGES:
        raise Invalid("'source_lang' is en, es or fr.", fields={"source_lang": "choice"})
    return value


def from_json(body: Mapping[str, Any], obj_type: type) -> dict[str, dict[str, str]]:
    """`{"translations": {"es": {"name": ...}}}` from an API body, checked (Invalid:
    the API's 422)."""
    raw = body.get("translations")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise Invalid("'translations' is an object keyed by language (en, es, fr).",
                      fields={"translations": "type"})
    out: dict[str, dict[str, str]] = {}
    for lang, fields in raw.items():
        if lang not in LANGUAGES or not isinstance(fields, dict):
            raise Invalid(f"Unknown language {lang!r} in 'translations': use en, es or fr.",
                          fields={"translations": "language"})
        for name, text in fields.items():
            if name not in obj_type.__translatable__ or not isinstance(text, str | None):
                raise Invalid(f"{name!r} cannot be translated here (a string or null).",
                              fields={"translations": "field"})
        out[lang] = dict(fields)
    return out


def init_app(app: Any) -> None:
    app.jinja_env.filters["tr"] = tr_filter
    app.jinja_env.filters["lang_marked"] = marked
    app.jinja_env.globals["CONTENT_LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["content_language_name"] = language_name
