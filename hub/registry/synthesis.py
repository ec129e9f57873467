"""The Secretariat's synthesis report builder: choose published reports (by type, thematic
area, period, country), compile their summaries and lessons learned grouped by thematic
area into a draft `synthesis` report (Markdown, shown as HTML and as a PDF), edit it as
any record, and publish it. Imports only `hub`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from hub import access, countries
from hub.errors import Forbidden, Invalid
from hub.extensions import db
from hub.models import Member
from hub.registry import actions, fields, listing, search
from hub.registry.kinds import DRAFT, PUBLISHED
from hub.registry.models import Record, Report

MAX_REPORTS = 200
MAX_TEXT = 100_000


@dataclass(frozen=True)
class Choice:
    types: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None


def choice_from(args: Any) -> Choice:
    """A Choice from a query string or form (type, theme, country, from, to); Invalid
    names what is wrong."""
    listing.check_names(args, ("type", "theme", "country", "from", "to", "report", "title",
                                "csrf_token", "format"))
    wanted = MultiDict([(k, v) for k in args for v in args.getlist(k)
                        if k in {"type", "theme", "country", "from", "to"} and v])
    f, _sort = listing.parse_filters(wanted, "reports", None)
    return Choice(types=f.facets.get("type", ()), themes=f.facets.get("theme", ()),
                  countries=f.facets.get("country", ()), date_from=f.date_from,
                  date_to=f.date_to)


def candidates(viewer: Member, choice: Choice) -> list[Record]:
    """The published reports the choice finds, oldest first (syntheses left out)."""
    facets = {name: values for name, values in (("type", choice.types),
                                                ("theme", choice.themes),
                                                ("country", choice.countries)) if values}
    f = search.Filters(kind="reports", facets=facets, date_from=choice.date_from,
                       date_to=choice.date_to, state=PUBLISHED)
    found = [r for r in search.results(viewer, f, "date", limit=MAX_REPORTS)
             if r.type != "synthesis"]
    return list(reversed(found))


def _period(record: Record) -> str:
    start, end = record.timeframe_start, record.timeframe_end
    if not (start or end):
        return ""
    return " – ".join(format_date(d, "medium") if d else "…" for d in (start, end))


def compile_text(reports: Iterable[Record], vocab: fields.Vocabulary, title: str) -> str:
    """Markdown: per thematic area, each report's summary and lessons learned, with a
    reference ([[report:N]]) that links to it on the web."""
    reports = list(reports)
    by_theme: dict[str, list[Record]] = {}
    for report in reports:
        for slug in report.thematic_areas or [""]:
            by_theme.setdefault(slug, []).append(report)
    order = sorted(by_theme, key=lambda s: (s == "", (vocab.by_slug[s].position, vocab
                                                      .theme_name(s)) if s in vocab.by_slug
                                            else (0, s)))
    lines = [f"# {title}", "",
             _("A synthesis of %(n)d reports, grouped by thematic area.", n=len(reports)), ""]
    for slug in order:
        lines += [f"## {vocab.theme_name(slug) if slug else _('Other reports')}", ""]
        for report in by_theme[slug]:
            about = [report.organization, _period(report),
                     ", ".join(countries.country_name(c, actions.current_locale())
                               for c in report.countries or [])]
            lines += [f"### {actions.display_title(report)} ([[report:{report.id}]])", ""]
            if any(about):
                lines += ["*" + " · ".join(a for a in about if a) + "*", ""]
            summary = (fields.edition_for(report, actions.current_locale()) or {}).get(
                "abstract") or report.abstract
            lines += [f"**{_('Summary')}.** " + (summary or _("No summary was recorded.")),
                      ""]
            if report.lessons_learned:
                lines += [f"**{_('Lessons learned')}.** {report.lessons_learned}", ""]
    return "\n".join(lines).strip()[:MAX_TEXT] + "\n"


def compile_draft(actor: Member, report_ids: Iterable[int], title: str) -> Record:
    """A draft synthesis report of these published reports, owned by the Secretariat;
    edited and published like any record."""
    if not access.is_secretariat(actor):
        raise Forbidden(_("Only the Secretariat compiles synthesis reports."))
    title = " ".join((title or "").split())[:300]
    if not title:
        raise Invalid(_("Give the synthesis a title."), fields={"title": "required"})
    ids = list(dict.fromkeys(int(i) for i in report_ids))[:MAX_REPORTS]
    reports = list(db.session.scalars(select(Report).where(
        Report.id.in_(ids), Report.state == PUBLISHED, Report.type != "synthesis")))
    if not reports:
        raise Invalid(_("Choose at least one published report."), fields={"report": "required"})
    reports.sort(key=lambda r: (r.timeframe_start or date.min, r.id))
    vocab = fields.Vocabulary.load()
    starts = [r.timeframe_start for r in reports if r.timeframe_start]
    ends = [r.timeframe_end for r in reports if r.timeframe_end]
    data = {
        "title": title, "type": "synthesis",
        "organization": actor.organization or "",
        "thematic_areas": list(dict.fromkeys(s for r in reports for s in r.thematic_areas
                                             or [] if s in vocab.by_slug)),
        "countries": list(dict.fromkeys(c for r in reports for c in r.countries or []))[:50],
        "timeframe": {"start": min(starts).isoformat() if starts else None,
                      "end": max(ends).isoformat() if ends else None},
        "language": actions.current_locale(),
        "abstract": compile_text(reports, vocab, title),
        "links": [{"url": actions.record_url(r), "title": actions.display_title(r)}
                  for r in reports][:50],
    }
    return actions.create_record(actor, "reports", data, state=DRAFT, vocab=vocab)
