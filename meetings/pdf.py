"""The pre-meeting document as a PDF, on the shared furniture of `hub.pdf`: the meeting,
its agenda, then every participant's submission by kind. Submissions go in as their
Markdown source read as plain text; nothing in them makes the renderer fetch anything.
Imports `hub`, `meetings`.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from hub import countries
from hub.pdf import MUTED, start
from meetings import services
from meetings.models import Meeting
from meetings.submissions import Section


def render(meeting: Meeting, sections: list[Section], locale: str, when: str) -> bytes:
    title = _("Pre-meeting document: %(title)s", title=meeting.title)
    pdf = start(title, _("Page %(n)d"))
    pdf.set_subject(meeting.title)
    pdf.set_creator("Biosafety Capacity-Building Network hub")
    pdf.add_page()
    pdf.para(current_app.config.get("HUB_NAME", ""), size=10, color=MUTED)
    pdf.heading(title, size=17)
    where = ", ".join(x for x in (
        meeting.venue,
        countries.country_name(meeting.country, locale) if meeting.country else "") if x)
    pdf.para(f"{services.KIND_LABELS[meeting.kind]} · {services.LEVEL_LABELS[meeting.level]}"
             f" · {when}", size=10)
    if where:
        pdf.para(where, size=10)
    if meeting.online_url:
        pdf.para(meeting.online_url, size=10)
    partners = ", ".join(o.name for o in meeting.organizers)
    if partners:
        pdf.para(_("Co-organized with %(names)s", names=partners), size=10, color=MUTED)
    if meeting.agenda:
        pdf.heading(_("Agenda"), size=13)
        for n, item in enumerate(meeting.agenda, 1):
            pdf.para(f"{n}. {item.title}", size=10.5, style="B")
            pdf.para(item.description, size=10, indent=5)
    for section in sections:
        pdf.heading(section.label, size=14)
        if not section.items:
            pdf.para(_("Nothing submitted."), size=10, style="I", color=MUTED)
        for item in section.items:
            who = ", ".join(x for x in (item["author"], item["organization"], item["country"])
                            if x)
            pdf.para(who, size=10.5, style="B")
            pdf.para(item["body"], size=10, indent=5)
            if item["filename"]:
                pdf.para(_("Attached file: %(name)s", name=item["filename"]), size=9,
                         indent=5, color=MUTED)
    return bytes(pdf.output())
