"""The registry for people offline: each kind's common format as a fillable spreadsheet
(CSV, and OpenDocument ODS with a sheet of instructions) that the import reads back, and
the reader of ODS files for that import.

ODS is written and read here with `zipfile` and ElementTree rather than a library: the
templates are one header row and a help sheet, and reading needs only the first sheet's
text cells, which the format keeps in a few well-documented elements (OpenDocument 1.2,
part 1, §9.1); a dependency such as odfpy would bring far more than these few lines use.
Imports only `hub`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from flask_babel import force_locale
from flask_babel import gettext as _

from hub.errors import Invalid
from hub.registry import fields
from hub.registry.kinds import Kind

MAX_ODS_BYTES = 20 * 1024 * 1024
_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}


def template_columns(kind: Kind) -> list[str]:
    """The columns a returned form fills in (what the import reads)."""
    return ["external_id", *(f.name for f in kind.fields), "on_behalf_of"]


def csv_template(kind: Kind) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(template_columns(kind))
    return buffer.getvalue()


def _hint(spec: Any, vocab: fields.Vocabulary) -> str:
    """How to write a field's value in a cell."""
    if spec.type == "choice":
        return _("One of: %(choices)s", choices=", ".join(spec.choice_codes))
    if spec.type == "themes":
        return _("Thematic areas separated by semicolons: %(names)s",
                 names="; ".join(a.slug for a in vocab.by_slug.values() if a.active))
    if spec.type in {"countries", "country"}:
        return _("ISO country codes (KE) or names, separated by semicolons")
    if spec.type == "regions":
        return _("africa, asia_pacific, eastern_europe, grulac, weog")
    if spec.type == "language":
        return _("An ISO 639-1 code: en, es, fr...")
    if spec.type in {"date", "period"}:
        return _("YYYY-MM-DD") if spec.type == "date" else _("YYYY-MM-DD/YYYY-MM-DD")
    if spec.type == "contacts":
        return _("One per line: name | email | organization | phone | role")
    if spec.type == "links":
        return _("One per line: web address | title | language")
    if spec.type == "editions":
        return _("JSON: [{\"language\": \"es\", \"title\": \"...\", \"abstract\": \"...\", "
                 "\"links\": [\"https://... | title\"]}]")
    if spec.type == "lines":
        return _("One per line, most important first")
    return ""


def _cell(value: str) -> str:
    return ('<table:table-cell office:value-type="string"><text:p>'
            f"{escape(value)}</text:p></table:table-cell>")


def _row(values: list[str]) -> str:
    return "<table:table-row>" + "".join(_cell(v) for v in values) + "</table:table-row>"


def ods_template(kind: Kind, locale: str, vocab: fields.Vocabulary) -> bytes:
    """An ODS workbook: the sheet to fill (one row per record under the header) and a
    sheet saying what each column holds, in `locale`."""
    with force_locale(locale):
        help_rows = [[_("Column"), _("Field"), _("Required"), _("How to write it")]]
        for spec in kind.fields:
            help_rows.append([spec.name, str(spec.label), _("yes") if spec.required else "",
                              _hint(spec, vocab)])
        help_rows.append(["external_id", _("Your own identifier"), "",
                          _("Optional: a record with the same identifier is updated")])
        help_rows.append(["on_behalf_of", _("Entered on behalf of"), "",
                          _("name | email | organization (for the Secretariat)")])
        sheet_name = str(kind.plural)
        help_name = _("How to fill in")
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="{office}" xmlns:table="{table}" '
        'xmlns:text="{text}" office:version="1.2"><office:body><office:spreadsheet>'
    ).format(**_NS)
    body += f'<table:table table:name="{escape(sheet_name, {chr(34): "&quot;"})}">'
    body += _row(template_columns(kind)) + "</table:table>"
    body += f'<table:table table:name="{escape(help_name, {chr(34): "&quot;"})}">'
    body += "".join(_row(r) for r in help_rows) + "</table:table>"
    body += "</office:spreadsheet></office:body></office:document-content>"
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        # The mimetype entry comes first and uncompressed: that is how readers know it.
        archive.writestr(zipfile.ZipInfo("mimetype"),
                         "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def is_ods(raw: bytes, filename: str = "") -> bool:
    return raw[:2] == b"PK" and (filename.lower().endswith(".ods") or b"opendocument" in raw[:200])


def _text(cell: ElementTree.Element) -> str:
    paragraphs = []
    for p in cell.findall("text:p", _NS):
        paragraphs.append("".join(p.itertext()))
    return "\n".join(paragraphs)


def read_ods(raw: bytes) -> list[dict[str, str]]:
    """The first sheet's rows as {header: value}, like csv.DictReader."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            info = archive.getinfo("content.xml")
            if info.file_size > MAX_ODS_BYTES:
                raise Invalid(_("The spreadsheet is too large."), fields={"file": "too_large"})
            root = ElementTree.fromstring(archive.read(info))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise Invalid(_("The file is not a readable OpenDocument spreadsheet (.ods)."),
                      fields={"file": "ods"}) from exc
    table = root.find(".//table:table", _NS)
    if table is None:
        raise Invalid(_("The file is empty."), fields={"file": "empty"})
    repeat = f"{{{_NS['table']}}}number-columns-repeated"
    rows: list[list[str]] = []
    for row in table.iter(f"{{{_NS['table']}}}table-row"):
        values: list[str] = []
        for cell in row:
            if not cell.tag.endswith("table-cell"):
                continue
            count = min(int(cell.get(repeat, "1") or 1), 1000)
            values += [_text(cell)] * count
        while values and not values[-1].strip():
            values.pop()
        if values:
            rows.append(values)
    if not rows:
        raise Invalid(_("The file is empty."), fields={"file": "empty"})
    header = [h.strip() for h in rows[0]]
    return [dict(zip(header, r + [""] * (len(header) - len(r)), strict=False))
            for r in rows[1:]]
