"""Values of record fields: cleaning what people and files send (API JSON, forms, CSV cells,
other databases' exports) into stored values, and writing stored values back out as JSON
and as CSV cells. One cleaner per field type; every channel uses the same ones, so a CSV
import refuses exactly what the API refuses, with the same reasons.

Imports only `hub`.
"""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any
from urllib.parse import urlparse

from babel import Locale
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from hub import countries
from hub.extensions import db
from hub.fulltext import fold
from hub.models import ThematicArea
from hub.registry.kinds import Field, Kind

MAX_ITEMS = 50
CONTACT_KEYS = ("name", "email", "organization", "phone", "role")
LINK_KEYS = ("url", "title", "language")
EDITION_KEYS = ("language", "title", "abstract", "links")


class FieldError(ValueError):
    """A value that cannot be stored; the message says why, for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", fold(text)).strip()


@cache
def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for locale in ("en", "es", "fr"):
        for code in countries.COUNTRY_CODES:
            names.setdefault(_key(countries.country_name(code, locale)), code)
    return names


@cache
def languages() -> dict[str, str]:
    """ISO 639 code -> English name, for the languages CLDR knows."""
    return {code: name for code, name in Locale.parse("en").languages.items()
            if re.fullmatch(r"[a-z]{2,3}", code)}


@cache
def _language_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for code, name in languages().items():
        names.setdefault(_key(name), code)
        try:
            native = Locale.parse(code).get_display_name(code)
        except Exception:  # noqa: BLE001 - CLDR has no data for some codes
            native = None
        if native:
            names.setdefault(_key(native), code)
    return names


def language_name(code: str, locale: str = "en") -> str:
    if not code:
        return ""
    try:
        return Locale.parse(locale).languages.get(code, code)
    except Exception:  # noqa: BLE001
        return code


@dataclass
class Vocabulary:
    """The thematic areas, looked up once per operation (an import of 1,000 rows is one
    query, not 1,000)."""

    by_slug: dict[str, ThematicArea] = field(default_factory=dict)
    by_name: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Vocabulary:
        vocab = cls()
        for area in db.session.scalars(db.select(ThematicArea)):
            vocab.by_slug[area.slug] = area
            vocab.by_name[_key(area.name)] = area.slug
        return vocab

    def theme(self, raw: str) -> str | None:
        raw = raw.strip()
        if raw in self.by_slug:
            return raw
        if raw.lower() in self.by_slug:
            return raw.lower()
        return self.by_name.get(_key(raw))

    def theme_name(self, slug: str) -> str:
        area = self.by_slug.get(slug)
        return area.name if area else slug


# -- cleaning ------------------------------------------------------------------------------

def _split(value: Any, separators: str) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                loaded = json.loads(text)
            except ValueError:
                loaded = None
            if isinstance(loaded, list):
                return loaded
        pattern = "[" + re.escape(separators) + "]"
        return [part for part in re.split(pattern, text) if part.strip()]
    raise FieldError(_("must be a list"))


def _string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(_("must be text"))
    return str(value)


def _one_line(value: Any, max_length: int) -> str:
    text = " ".join(_string(value).split())
    if max_length and len(text) > max_length:
        raise FieldError(_("is longer than %(n)d characters", n=max_length))
    return text


def _long_text(value: Any, max_length: int) -> str:
    text = _string(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    if max_length and len(text) > max_length:
        raise FieldError(_("is longer than %(n)d characters", n=max_length))
    return text


_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


def parse_date(value: Any, end: bool = False, partial: bool = False) -> date | None:
    """YYYY-MM-DD (a datetime's date part is accepted). With `partial`, also YYYY-MM and
    YYYY: the first day of the period, or the last with `end`."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _string(value).strip()
    try:
        if m := _DATE.match(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if partial and (m := _MONTH.match(text)):
            year, month = int(m[1]), int(m[2])
            day = calendar.monthrange(year, month)[1] if end else 1
            return date(year, month, day)
        if partial and (m := _YEAR.match(text)):
            return date(int(m[1]), 12, 31) if end else date(int(m[1]), 1, 1)
    except ValueError:
        pass
    raise FieldError(_("%(value)s is not a date (write YYYY-MM-DD)", value=text[:40]))


def _period(value: Any) -> tuple[date | None, date | None]:
    if value is None or value == "":
        return None, None
    if isinstance(value, dict):
        unknown = set(value) - {"start", "end"}
        if unknown:
            raise FieldError(_("takes only start and end"))
        start = parse_date(value.get("start"), partial=True)
        end = parse_date(value.get("end"), end=True, partial=True)
    elif isinstance(value, str):
        text = value.strip()
        if "/" in text:
            left, _sep, right = text.partition("/")
            start = parse_date(left.strip().strip("."), partial=True)
            end = parse_date(right.strip().strip("."), end=True, partial=True)
        else:  # one date, month or year: the whole of it
            start = parse_date(text, partial=True)
            end = parse_date(text, end=True, partial=True)
    else:
        raise FieldError(_("must be {\"start\": date, \"end\": date} or \"start/end\""))
    if start and end and end < start:
        raise FieldError(_("ends before it starts"))
    return start, end


def _choice(spec: Field, value: Any) -> str:
    text = _string(value).strip()
    if not text:
        return ""
    codes = spec.choice_codes
    if text in codes:
        return text
    wanted = _key(text)
    for code, label in spec.choices:
        if wanted in {_key(code), _key(str(label))}:
            return code
    raise FieldError(_("%(value)s is not one of: %(choices)s", value=text[:40],
                       choices=", ".join(codes)))


def _country(value: Any) -> str:
    text = _string(value).strip()
    if not text:
        return ""
    if countries.is_country(text):
        return text.upper()
    code = _country_names().get(_key(text))
    if code is None:
        raise FieldError(_("%(value)s is not a country (use ISO codes such as KE)",
                           value=text[:40]))
    return code


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    return [x for x in items if not (x in seen or seen.add(x))]


def _region(value: Any) -> str:
    text = _string(value).strip()
    if text in countries.REGIONS:
        return text
    wanted = _key(text)
    for code, label in countries.REGIONS.items():
        if wanted in {_key(code), _key(label), _key(label + " group")}:
            return code
    raise FieldError(_("%(value)s is not a UN regional group (one of: %(choices)s)",
                       value=text[:40], choices=", ".join(countries.REGIONS)))


def _language(value: Any) -> str:
    text = _string(value).strip()
    if not text:
        return ""
    if text.lower() in languages():
        return text.lower()
    code = _language_names().get(_key(text))
    if code is None:
        raise FieldError(_("%(value)s is not a language (use ISO codes such as en, es, fr)",
                           value=text[:40]))
    return code


def clean_contact(value: Any) -> dict[str, str]:
    """One contact ({name, email, organization, phone, role} or "name | email | ...")."""
    return _contact(value)


def _contact(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        parts = [p.strip() for p in value.split("|")]
        if len(parts) == 1 and "<" in value and value.rstrip().endswith(">"):
            name, _sep, email = value.rstrip()[:-1].partition("<")
            parts = [name.strip(), email.strip()]
        value = dict(zip(CONTACT_KEYS, parts, strict=False))
    if not isinstance(value, dict):
        raise FieldError(_("each contact must be an object with name, email, organization, "
                           "phone, role"))
    contact = {k: _one_line(value.get(k), 300) for k in CONTACT_KEYS}
    if contact["email"]:
        try:
            contact["email"] = validate_email(contact["email"],
                                              check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise FieldError(_("%(value)s is not an email address",
                               value=contact["email"][:60])) from exc
    if not (contact["name"] or contact["email"] or contact["organization"]):
        raise FieldError(_("each contact needs a name, an email or an organization"))
    return {k: v for k, v in contact.items() if v}


def _link(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        parts = [p.strip() for p in value.split("|")]
        value = dict(zip(LINK_KEYS, parts, strict=False))
    if not isinstance(value, dict):
        raise FieldError(_("each link must be an object with url, title and language"))
    unknown = set(value) - set(LINK_KEYS)
    if unknown:
        raise FieldError(_("a link has only url, title and language (not %(names)s)",
                           names=", ".join(sorted(str(k) for k in unknown))))
    url = _one_line(value.get("url"), 2000)
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise FieldError(_("%(value)s is not a web address (http:// or https://)",
                           value=url[:60] or "''"))
    link = {"url": url, "title": _one_line(value.get("title"), 300),
            "language": _language(value.get("language"))}
    return {k: v for k, v in link.items() if v}


def _edition(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(_("each edition must be an object with language, title, abstract "
                           "and links"))
    unknown = set(value) - set(EDITION_KEYS)
    if unknown:
        raise FieldError(_("an edition has only language, title, abstract and links "
                           "(not %(names)s)", names=", ".join(sorted(str(k) for k in unknown))))
    language = _language(value.get("language"))
    if not language:
        raise FieldError(_("each edition needs its language (an ISO code such as es)"))
    links = _split(value.get("links"), "\n")
    if len(links) > MAX_ITEMS:
        raise FieldError(_("has more than %(n)d entries", n=MAX_ITEMS))
    edition = {"language": language, "title": _one_line(value.get("title"), 300),
               "abstract": _long_text(value.get("abstract"), 20_000),
               "links": [_link(v) for v in links if v]}
    if not (edition["title"] or edition["abstract"] or edition["links"]):
        raise FieldError(_("the %(language)s edition has no title, summary or link",
                           language=language))
    return edition


def edition_for(record: Any, locale: str) -> dict[str, Any] | None:
    """The record's edition in `locale`, if it has one besides its own text."""
    for edition in getattr(record, "editions", None) or []:
        if edition.get("language") == locale:
            return edition
    return None


def record_languages(record: Any) -> list[str]:
    """The languages a record is available in: its own, then its editions' (badges)."""
    found = [getattr(record, "language", "") or ""]
    found += [e.get("language", "") for e in getattr(record, "editions", None) or []]
    return _unique([c for c in found if c])


def clean(spec: Field, value: Any, vocab: Vocabulary) -> Any:
    """One field's value as stored; raises FieldError saying why it cannot be."""
    kind = spec.type
    if kind in {"title", "text"}:
        return _one_line(value, spec.max_length or 300)
    if kind == "longtext":
        return _long_text(value, spec.max_length or 20_000)
    if kind == "date":
        return parse_date(value, end=spec.end, partial=True)
    if kind == "period":
        return _period(value)
    if kind == "choice":
        return _choice(spec, value)
    if kind == "country":
        return _country(value)
    if kind == "language":
        return _language(value)
    items = _split(value, ";,\n" if kind in {"countries", "regions", "themes"}
                   else "\n" if kind in {"lines", "contacts", "links"} else spec.separators)
    if len(items) > MAX_ITEMS:
        raise FieldError(_("has more than %(n)d entries", n=MAX_ITEMS))
    if kind == "countries":
        return _unique([_country(v) for v in items if _string(v).strip()])
    if kind == "regions":
        return _unique([_region(v) for v in items if _string(v).strip()])
    if kind == "themes":
        slugs, unknown = [], []
        for raw in items:
            slug = vocab.theme(_string(raw))
            (slugs if slug else unknown).append(slug or _string(raw).strip())
        if unknown:
            raise FieldError(_("unknown thematic area: %(value)s",
                               value=", ".join(u[:40] for u in unknown)))
        return _unique(slugs)
    if kind == "strings":
        return _unique([_one_line(v, 300) for v in items if _string(v).strip()])
    if kind == "lines":
        lines = [re.sub(r"^\s*(?:\d+[.)]|[-*•])\s+", "", _long_text(v, 2000)) for v in items]
        return [line for line in lines if line]
    if kind == "contacts":
        return [_contact(v) for v in items if v]
    if kind == "links":
        return [_link(v) for v in items if v]
    if kind == "editions":
        editions = [_edition(v) for v in items if v]
        languages_seen = [e["language"] for e in editions]
        twice = sorted({c for c in languages_seen if languages_seen.count(c) > 1})
        if twice:
            raise FieldError(_("more than one edition in %(language)s",
                               language=", ".join(twice)))
        return editions
    raise AssertionError(f"unknown field type {kind}")


def is_empty(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(v is None for v in value)
    return value in (None, "", [], {})


# -- reading and writing a record's fields --------------------------------------------------

def get(record: Any, spec: Field) -> Any:
    if spec.type == "period":
        return (getattr(record, f"{spec.name}_start"), getattr(record, f"{spec.name}_end"))
    value = getattr(record, spec.name)
    if spec.type in {"countries", "regions", "themes", "strings", "lines", "contacts",
                     "links", "editions"}:
        return list(value or [])
    return value if value is not None else ("" if spec.type not in {"date"} else None)


def put(record: Any, spec: Field, value: Any) -> None:
    if spec.type == "period":
        setattr(record, f"{spec.name}_start", value[0])
        setattr(record, f"{spec.name}_end", value[1])
    else:
        setattr(record, spec.name, value)


def to_json(spec: Field, value: Any) -> Any:
    if spec.type == "date":
        return value.isoformat() if value else None
    if spec.type == "period":
        start, end = value
        return {"start": start.isoformat() if start else None,
                "end": end.isoformat() if end else None}
    return value


def to_cell(spec: Field, value: Any) -> str:
    """A CSV cell that `clean` reads back to the same value."""
    if spec.type == "date":
        return value.isoformat() if value else ""
    if spec.type == "period":
        start, end = value
        if not start and not end:
            return ""
        return f"{start.isoformat() if start else ''}/{end.isoformat() if end else ''}"
    if spec.type in {"countries", "regions", "themes"}:
        return "; ".join(value)
    if spec.type == "strings":
        return "; ".join(value)
    if spec.type == "lines":
        return "\n".join(value)
    if spec.type == "contacts":
        return "\n".join(" | ".join(c.get(k, "").replace("|", "/") for k in CONTACT_KEYS)
                         .rstrip(" |") for c in value)
    if spec.type == "links":
        return "\n".join(" | ".join((ln["url"], ln.get("title", ""), ln.get("language", "")))
                         .rstrip(" |") for ln in value)
    if spec.type == "editions":
        return json.dumps(value, ensure_ascii=False) if value else ""
    return "" if value is None else str(value)


def field_names(kind: Kind) -> list[str]:
    return [f.name for f in kind.fields]
