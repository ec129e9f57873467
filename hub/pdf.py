"""The PDF furniture every package's printed documents share (fpdf2): DejaVu Sans (a
Unicode TrueType font; Debian's fonts-dejavu-core, or HUB_PDF_FONT_DIR), a running title
and page numbers, headings and paragraphs wrapped in linear time. Text goes in as plain
text (Markdown is read as plain reading text): nothing in it makes the renderer fetch
anything. Imports `hub` only.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from flask import current_app
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from hub.errors import HubError

DEFAULT_FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
ACCENT = (11, 93, 59)
MUTED = (90, 90, 90)


class FontMissing(HubError):
    status = 503
    code = "pdf_font_missing"


def font_dir() -> Path:
    return Path(current_app.config.get("HUB_PDF_FONT_DIR") or DEFAULT_FONT_DIR)


def check_fonts() -> Path:
    folder = font_dir()
    missing = [name for name in FONTS.values() if not (folder / name).is_file()]
    if missing:
        raise FontMissing(
            f"The PDF needs the DejaVu fonts ({', '.join(missing)}) in {folder}: install "
            "the Debian package fonts-dejavu-core (make browser does) or set "
            "HUB_PDF_FONT_DIR.")
    return folder


class Document(FPDF):
    def __init__(self, title: str, page_label: str) -> None:
        super().__init__(format="A4", unit="mm")
        self.doc_title = title
        self.page_label = page_label
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(20, 18, 20)
        self._widths: dict[tuple, float] = {}

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font("DejaVu", "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 6, self.doc_title[:110], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 6, self.page_label % {"n": self.page_no()}, align="C")
        self.set_text_color(0, 0, 0)

    # -- helpers ---------------------------------------------------------------------------
    def heading(self, text: str, size: float = 15) -> None:
        if self.get_y() > self.h - 50:
            self.add_page()
        self.ln(3)
        self.set_font("DejaVu", "B", size)
        self.set_text_color(*ACCENT)
        self.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)
        self.ln(2)

    def para(self, text: str, size: float = 10.5, style: str = "", indent: float = 0,
             color: tuple[int, int, int] | None = None) -> None:
        """A paragraph, wrapped here: fpdf2's own line breaking measures each line again
        for every character it adds, which made a large conference's PDF take seconds;
        measuring each word once keeps the cost linear in the text."""
        if not (text or "").strip():
            return
        self.set_font("DejaVu", style, size)
        if color:
            self.set_text_color(*color)
        width = self.w - self.l_margin - self.r_margin - indent
        height = size * 0.5
        for line in self._lines(plain(unmark(text)), width):
            self.set_x(self.l_margin + indent)
            self.cell(width, height, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)
        self.ln(1.5)

    def _width(self, word: str) -> float:
        key = (self.font_family, self.font_style, self.font_size_pt, word)
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = self.get_string_width(word)
        return width

    def _lines(self, text: str, width: float) -> list[str]:
        lines: list[str] = []
        space = self._width(" ")
        for source in text.split("\n"):
            current: list[str] = []
            used = 0.0
            for word in source.split(" "):
                w = self._width(word)
                while w > width:  # a word wider than the line (an address): cut it
                    cut = len(word)
                    while cut > 1 and self.get_string_width(word[:cut]) > width:
                        cut = max(1, cut * 9 // 10)
                    if current:
                        lines.append(" ".join(current))
                        current, used = [], 0.0
                    lines.append(word[:cut])
                    word = word[cut:]
                    w = self._width(word)
                if current and used + space + w > width:
                    lines.append(" ".join(current))
                    current, used = [word], w
                else:
                    used += (space if current else 0) + w
                    current.append(word)
            lines.append(" ".join(current))
        return lines


def plain(text: str) -> str:
    # Tabs and odd controls would print as boxes; keep line breaks.
    return "".join(ch if ch in "\n" or ch >= " " else " " for ch in (text or "").strip())


_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"
                       r"|(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\3(?![\w*])")
_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)[^)]*\)")
_CODE = re.compile(r"`([^`]+)`")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.M)


def unmark(text: str) -> str:
    """Markdown source as plain reading text (for the PDF): no emphasis marks, links as
    "text (address)", no heading hashes. Quotes and lists read well as they are."""
    text = _LINK.sub(lambda m: f"{m[1]} ({m[2]})" if m[1] and m[1] != m[2] else m[2],
                     text or "")
    text = _CODE.sub(r"\1", text)
    text = _HEADING.sub("", text)
    return _EMPHASIS.sub(lambda m: m[2] if m[2] is not None else m[4], text)


def start(title: str, page_label: str) -> Document:
    """A document with the fonts loaded (FontMissing, a 503, when they are not there)."""
    folder = check_fonts()
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # font subsetting chatter
    pdf = Document(title, page_label)
    for style, name in FONTS.items():
        pdf.add_font("DejaVu", style, str(folder / name))
    pdf.set_title(title)
    pdf.set_author(current_app.config.get("HUB_NAME", ""))
    return pdf
