"""The proceedings as a PDF (fpdf2), from the published edition's plain data, on the
shared furniture of `hub.pdf` (DejaVu Sans, so names in any Latin, Greek or Cyrillic
script come out right). Post bodies go in as their Markdown source, as plain text:
nothing in a member's post makes the renderer fetch anything. Imports `hub`, `forums`,
`conferences`.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from fpdf.enums import XPos, YPos

from conferences.proceedings import _date, dates_line, post_heading
from forums import attachments
from hub.pdf import ACCENT, MUTED, Document, start


def _logo(pdf: Document, partner: dict[str, Any], x: float, y: float, h: float) -> float:
    """Place a partner's logo; returns its width (0 when there is none)."""
    if not partner.get("logo"):
        return 0
    path = attachments.blob_path(partner["logo"])
    if not path.is_file():
        return 0
    try:
        info = pdf.image(io.BytesIO(path.read_bytes()), x=x, y=y, h=h)
    except Exception:  # a broken image must not stop the proceedings
        logging.getLogger(__name__).warning("partner logo %s could not be placed",
                                            partner["logo"])
        return 0
    return float(info.rendered_width) if info is not None else h


def render(data: dict[str, Any], links: dict[str, str]) -> bytes:
    locale = data.get("language") or "en"
    conf = data["conference"]
    pdf = start(data["title"], _("Page %(n)d"))
    pdf.set_subject(conf["title"])
    pdf.set_creator("Biosafety Capacity-Building Network hub")

    # -- the cover -------------------------------------------------------------------------
    pdf.add_page()
    pdf.ln(30)
    pdf.set_font("DejaVu", "", 11)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(0, 6, current_app.config.get("HUB_NAME", ""), align="C",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)
    pdf.set_font("DejaVu", "B", 22)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(0, 11, data["title"], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    if conf.get("theme"):
        pdf.ln(4)
        pdf.set_font("DejaVu", "I", 13)
        pdf.multi_cell(0, 7, conf["theme"], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font("DejaVu", "", 12)
    pdf.multi_cell(0, 7, dates_line(data, locale), align="C", new_x=XPos.LMARGIN,
                   new_y=YPos.NEXT)
    if conf["moderators"]:
        pdf.ln(4)
        pdf.set_font("DejaVu", "", 10.5)
        names = ", ".join(m["name"] + (f" ({_('lead')})" if m["lead"] else "")
                          for m in conf["moderators"])
        pdf.multi_cell(0, 6, _("Moderated by %(names)s", names=names), align="C",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if conf["partners"]:
        pdf.ln(14)
        pdf.set_font("DejaVu", "B", 10.5)
        pdf.multi_cell(0, 6, _("With the partners"), align="C", new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
        pdf.ln(3)
        for partner in conf["partners"]:
            y = pdf.get_y()
            if y > pdf.h - 40:
                break
            width = _logo(pdf, partner, pdf.w / 2 - 40, y, 14)
            pdf.set_xy(pdf.w / 2 - 40 + (width + 4 if width else 0), y + (4 if width else 0))
            pdf.set_font("DejaVu", "", 10.5)
            pdf.cell(0, 6, partner["name"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_y(y + (17 if width else 8))
    pdf.set_y(pdf.h - 40)
    pdf.set_font("DejaVu", "", 9)
    pdf.set_text_color(*MUTED)
    published = data.get("published_at")
    if published:
        pdf.multi_cell(0, 5, _("Published %(date)s", date=_date(published, locale)),
                       align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.multi_cell(0, 5, links["url"], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)

    # -- the body ----------------------------------------------------------------------------
    pdf.add_page()
    if data.get("introduction"):
        pdf.heading(_("Introduction"))
        pdf.para(data["introduction"])
    posts = data["posts"]
    for item in data["rounds"]:
        pdf.heading(_("Round %(n)d: %(title)s", n=item["number"], title=item["title"]))
        pdf.para(f"{_date(item['opens_at'], locale)} – {_date(item['closes_at'], locale)}",
                 size=9.5, color=MUTED)
        pdf.para(_("Question"), size=10.5, style="B")
        pdf.para(item["question"])
        if item.get("summary"):
            pdf.para(_("Moderators' summary"), size=10.5, style="B")
            pdf.para(item["summary"])
        mine = [p for p in posts if p["round"] == item["number"]]
        if mine:
            pdf.para(_("Contributions"), size=10.5, style="B")
        for post in mine:
            _post(pdf, post)
    others = [p for p in posts if p["round"] is None]
    if others:
        pdf.heading(_("Other contributions"))
        for post in others:
            _post(pdf, post, topic=True)
    if data.get("conclusions"):
        pdf.heading(_("Conclusions"))
        pdf.para(data["conclusions"])

    pdf.heading(_("Participants (%(n)d)", n=len(data["participants"])))
    for person in data["participants"]:
        line = ", ".join(x for x in (person["name"], person["organization"],
                                     "" if person["anonymous"] else person["country"]) if x)
        pdf.para("• " + line, size=9.5)

    stats = data["statistics"]
    pdf.heading(_("Statistics"))
    pdf.para(_("Participants: %(n)d", n=stats["participants"]))
    pdf.para(_("Contributions: %(n)d", n=stats["posts"]))
    pdf.para(_("Participants who posted: %(n)d (%(share)d%%)", n=stats["posters"],
               share=round(stats["share_posted"] * 100)))
    for label, key in ((_("By country"), "by_country"), (_("By region"), "by_region"),
                       (_("By type of organization"), "by_org_type")):
        _table(pdf, label, [(r["label"], r["participants"], r["posts"]) for r in stats[key]],
               (_("Participants"), _("Contributions")))
    _table(pdf, _("Contributions per round"),
           [(f"{r['number']}. {r['title']}", r["posts"]) for r in stats["per_round"]],
           (_("Contributions"),))
    return bytes(pdf.output())


def _post(pdf: Document, post: dict[str, Any], topic: bool = False) -> None:
    if pdf.get_y() > pdf.h - 40:
        pdf.add_page()
    heading = post_heading(post) + (f" — {post['topic']}" if topic else "")
    pdf.para(heading, size=10, style="B", color=ACCENT)
    pdf.para(post["body"], size=10, indent=5)
    if post.get("edited_by_moderator"):
        pdf.para(_("(edited by the moderator)"), size=8.5, style="I", indent=5, color=MUTED)


def _table(pdf: Document, title: str, rows: list[tuple[Any, ...]],
           columns: tuple[str, ...]) -> None:
    if pdf.get_y() > pdf.h - 50:
        pdf.add_page()
    pdf.para(title, size=10.5, style="B")
    pdf.set_font("DejaVu", "", 9.5)
    widths = (pdf.epw - 30 * len(columns), *(30,) * len(columns))
    with pdf.table(col_widths=widths, text_align=("LEFT", *("RIGHT",) * len(columns)),
                   line_height=5.5, first_row_as_headings=True) as table:
        head = table.row()
        head.cell("")
        for column in columns:
            head.cell(column)
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(str(value))
    pdf.ln(3)
