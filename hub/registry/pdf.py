"""The registry's PDFs (fpdf2, DejaVu Sans as in the conferences' proceedings): a synthesis
report from its Markdown text, and each kind's common format as a blank form to print,
fill in by hand and return to the Secretariat. Imports only `hub`.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from hub import countries
from hub.errors import HubError
from hub.registry import fields
from hub.registry.kinds import Kind

DEFAULT_FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
ACCENT = (11, 93, 59)
MUTED = (90, 90, 90)
BOX = "\u2610"  # ☐, in DejaVu Sans


class FontMissing(HubError):
    status = 503
    code = "pdf_font_missing"


class _Page(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4", unit="mm")
        folder = Path(current_app.config.get("HUB_PDF_FONT_DIR") or DEFAULT_FONT_DIR)
        missing = [n for n in FONTS.values() if not (folder / n).is_file()]
        if missing:
            raise FontMissing(f"The PDF needs the DejaVu fonts ({', '.join(missing)}) in "
                              f"{folder}: install fonts-dejavu-core or set HUB_PDF_FONT_DIR.")
        logging.getLogger("fontTools").setLevel(logging.WARNING)
        for style, name in FONTS.items():
            self.add_font("DejaVu", style, str(folder / name))
        self.doc_title = title
        self.page_label = _("Page %(n)d")
        self.set_title(title)
        self.set_creator("Biosafety Capacity-Building Network hub")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(20, 18, 20)
        self.add_page()

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 6, f"{self.doc_title[:90]} · " + self.page_label % {"n": self.page_no()},
                  align="C")
        self.set_text_color(0, 0, 0)

    def text_block(self, text: str, size: float = 10.5, style: str = "",
                   color: tuple[int, int, int] | None = None, space: float = 1.5) -> None:
        if not text.strip():
            return
        self.set_font("DejaVu", style, size)
        if color:
            self.set_text_color(*color)
        self.multi_cell(0, size * 0.5, _printable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)
        self.ln(space)

    def heading(self, text: str, size: float = 14) -> None:
        if self.get_y() > self.h - 45:
            self.add_page()
        self.ln(2)
        self.text_block(text, size=size, style="B", color=ACCENT, space=1)

    def blank_lines(self, n: int) -> None:
        for _i in range(n):
            self.ln(7)
            y = self.get_y()
            self.set_draw_color(170, 170, 170)
            self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.ln(3)

    def output_bytes(self) -> bytes:
        return bytes(self.output())


def _printable(text: str) -> str:
    return "".join(ch if ch == "\n" or ch >= " " else " " for ch in text)


_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_REF = re.compile(r"\[\[(\w+:\d+)\]\]")


def _unmark(line: str) -> str:
    """Markdown inline marks out; a link keeps its address, for paper."""
    line = _LINK.sub(lambda m: f"{m[1]} ({m[2]})", line)
    line = _REF.sub(lambda m: m[1], line)
    return line.replace("**", "").replace("__", "").replace("`", "")


def synthesis_pdf(title: str, text: str, subtitle: str = "") -> bytes:
    """A synthesis report: its Markdown headings, paragraphs and lists, on paper."""
    pdf = _Page(title)
    pdf.text_block(current_app.config.get("HUB_NAME", ""), size=10, color=MUTED)
    pdf.text_block(title, size=20, style="B", color=ACCENT, space=3)
    if subtitle:
        pdf.text_block(subtitle, size=11, style="I", space=4)
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            pdf.text_block(" ".join(paragraph))
            paragraph.clear()

    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        heading = re.match(r"^(#{1,4})\s+(.*)$", line)
        if heading:
            flush()
            level = len(heading[1])
            if level == 1 and _unmark(heading[2]) == title:
                continue
            pdf.heading(_unmark(heading[2]), size={1: 16, 2: 14, 3: 12}.get(level, 11))
        elif re.match(r"^([-*]|\d+[.)])\s+", line):
            flush()
            pdf.text_block("• " + _unmark(re.sub(r"^([-*]|\d+[.)])\s+", "", line)), space=0.5)
        elif line.startswith("*") and line.endswith("*") and not line.startswith("**"):
            flush()
            pdf.text_block(_unmark(line.strip("*")), size=9.5, style="I", color=MUTED, space=1)
        else:
            paragraph.append(_unmark(line))
    flush()
    return pdf.output_bytes()


# -- blank forms ---------------------------------------------------------------------------

def _choices(spec: Any, vocab: fields.Vocabulary) -> list[str]:
    from hub.registry.actions import region_name

    if spec.type == "choice":
        return [str(label) for _code, label in spec.choices]
    if spec.type == "regions":
        return [region_name(code) for code in countries.REGIONS]
    if spec.type == "themes":
        return [a.name for a in sorted(vocab.by_slug.values(),
                                       key=lambda a: (a.position, a.name)) if a.active]
    return []


def blank_form(kind: Kind, locale: str, vocab: fields.Vocabulary, return_to: str) -> bytes:
    """The kind's common format on paper, in `locale`, to fill in by hand."""
    with force_locale(locale):
        title = _("%(kind)s: the common format", kind=kind.label)
        pdf = _Page(title)
        pdf.text_block(current_app.config.get("HUB_NAME", ""), size=10, color=MUTED)
        pdf.text_block(title, size=18, style="B", color=ACCENT, space=2)
        pdf.text_block(str(kind.description), style="I")
        pdf.text_block(_("Fill in this form by hand or on a computer and return it to the "
                         "Secretariat (%(where)s), by post, fax or email. The Secretariat "
                         "enters it in the registry on your behalf; fields marked * are "
                         "required.", where=return_to))
        pdf.heading(_("Who fills in this form"), size=12)
        for label in (_("Name"), _("Organization"), _("Country"), _("Email or postal "
                                                                    "address"), _("Date")):
            pdf.text_block(label, size=10, style="B", space=0)
            pdf.blank_lines(1)
        for spec in kind.fields:
            _blank_field(pdf, spec, vocab)
    return pdf.output_bytes()


def _blank_field(pdf: _Page, spec: Any, vocab: fields.Vocabulary) -> None:
    label = str(spec.label) + (" *" if spec.required else "")
    pdf.heading(label, size=12)
    if spec.help:
        pdf.text_block(str(spec.help), size=9.5, style="I", color=MUTED, space=1)
    choices = _choices(spec, vocab)
    if choices:
        hint = _("Tick one.") if spec.type == "choice" else _("Tick all that apply.")
        pdf.text_block(hint, size=9.5, color=MUTED, space=1)
        pdf.text_block("\n".join(f"{BOX} {c}" for c in choices), size=10.5, space=2)
        return
    if spec.type == "period":
        pdf.text_block(_("From (YYYY-MM-DD)") + "                    " + _("Until (YYYY-MM-DD)"),
                       size=10, space=0)
        pdf.blank_lines(1)
    elif spec.type == "date":
        pdf.text_block(_("YYYY-MM-DD"), size=9.5, color=MUTED, space=0)
        pdf.blank_lines(1)
    elif spec.type == "contacts":
        for n in (1, 2):
            pdf.text_block(_("Contact %(n)d", n=n) + ": " + ", ".join(
                (_("name"), _("organization"), _("email"), _("phone"), _("role"))),
                size=10, space=0)
            pdf.blank_lines(3)
    elif spec.type == "links":
        pdf.text_block(_("Web address, title and language of each document"), size=10,
                       space=0)
        pdf.blank_lines(3)
    elif spec.type == "editions":
        pdf.text_block(_("Language, title, summary and links in that language"), size=10,
                       space=0)
        pdf.blank_lines(4)
    elif spec.type in {"longtext", "lines"}:
        pdf.blank_lines(6 if spec.type == "lines" or spec.name in {"objectives", "abstract"}
                        else 4)
    elif spec.type in {"countries", "strings"}:
        pdf.blank_lines(2)
    else:
        pdf.blank_lines(1)
