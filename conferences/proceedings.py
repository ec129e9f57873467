"""Proceedings: the Secretariat compiles a draft from the closed conference, edits it,
and publishes it as a public page, a PDF and a plain-text version for email.

The compiled record (`Proceedings.content`) is a snapshot: cover (title, dates,
partners), rounds with their questions, every approved contribution numbered with its
author, organization and country (or "A participant from <country>" for those who opted
out of being named), the participant list and the statistics. The Secretariat edits the
title, introduction, the moderators' summaries per round and the conclusions;
publishing freezes the whole as `Proceedings.edition` and renders the PDF and the text
once. Publishing sends `hub.events.proceedings_published`. Imports `hub`, `forums`,
`conferences`.
"""

from __future__ import annotations

import textwrap
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from conferences import agenda, services, times
from conferences.models import APPROVED, Conference, Proceedings
from forums import urls
from forums.models import Post
from hub import access, clock, countries, events, markup
from hub import services as hub_services
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.i18n import isotime
from hub.mailer import send_mail
from hub.models import Member

MAX_TEXT = 100_000
MAX_MAIL_TEXT = 100_000  # characters of the proceedings in the participants' email
# In the draft's content: each round's summary as last compiled, and from which posts.
COMPILED_SUMMARIES = "compiled_summaries"


def _require_secretariat(actor: Any) -> Member:
    if not access.is_secretariat(actor):
        raise Forbidden(str(_l("Only the Secretariat can compile and publish proceedings.")))
    return actor


def get(conference: Conference) -> Proceedings | None:
    return db.session.scalar(db.select(Proceedings).where(
        Proceedings.conference_id == conference.id))


def published(conference: Conference) -> Proceedings:
    """The published edition, for anyone; 404 until it exists."""
    row = get(conference)
    if row is None or row.published_at is None or not row.edition:
        raise NotFound(str(_l("These proceedings are not published.")))
    return row


# -- compiling --------------------------------------------------------------------------------

def _country(code: str | None, locale: str) -> str:
    return countries.country_name(code, locale) if code else ""


def _person(member: Member | None, anonymous: bool, locale: str) -> dict[str, Any]:
    if member is None:
        return {"name": _("A former member"), "organization": "", "country": "",
                "anonymous": True}
    country = _country(member.country, locale)
    if anonymous:
        name = (_("A participant from %(country)s", country=country) if country
                else _("A participant"))
        return {"name": name, "organization": "", "country": country, "anonymous": True}
    return {"name": member.name, "organization": member.organization, "country": country,
            "anonymous": False}


def compile_content(conference: Conference, locale: str) -> dict[str, Any]:
    """The record of the conference, in `locale`, as plain data (JSON)."""
    regs = {r.member_id: r for r in services.registrations(conference)}
    mods = services.moderators(conference)
    mod_ids = {m.id for m in mods}

    def anonymous(member_id: int | None) -> bool:
        reg = regs.get(member_id) if member_id is not None else None
        return bool(reg and reg.anonymous and member_id not in mod_ids)

    rounds = sorted(conference.rounds, key=lambda r: r.number)
    topic_round = {r.topic_id: r for r in rounds if r.topic_id}
    posts = list(db.session.scalars(
        services.contributions_query(conference)
        .options(db.joinedload(Post.author), db.joinedload(Post.topic))
        .order_by(Post.created_at, Post.id)).unique())
    order = {r.topic_id: i for i, r in enumerate(rounds) if r.topic_id}
    posts.sort(key=lambda p: (order.get(p.topic_id, len(rounds)),
                              p.topic_id if p.topic_id not in order else 0,
                              p.position if p.topic_id in order else 0,
                              clock.aware(p.created_at), p.id))
    numbered = []
    for n, post in enumerate(posts, start=1):
        item = topic_round.get(post.topic_id)
        person = _person(post.author, anonymous(post.author_id), locale)
        numbered.append({
            "n": n, "id": post.id, "round": item.number if item else None,
            "topic": post.topic.title, "author": person["name"],
            "organization": person["organization"], "country": person["country"],
            "anonymous": person["anonymous"], "created_at": isotime(post.created_at),
            "body": post.body, "html": post.html,
            "edited_by_moderator": bool(post.edited_by_id and
                                        post.edited_by_id != post.author_id),
        })
    default_summaries = {}
    round_rows = []
    for item in rounds:
        default_summaries[str(item.id)] = [[p.id, p.body] for p in agenda.summaries(item)]
        round_rows.append({"id": item.id, "number": item.number, "title": item.title,
                           "question": item.question, "question_html": item.question_html,
                           "opens_at": isotime(item.opens_at),
                           "closes_at": isotime(item.closes_at),
                           "posts": sum(1 for p in numbered if p["round"] == item.number)})
    participants = []
    for reg in services.registrations(conference, [APPROVED]):
        participants.append(_person(reg.member, reg.anonymous, locale))
    participants.sort(key=lambda p: (p["country"], p["anonymous"], p["name"].lower()))
    stats = services.statistics(conference, locale)
    lead = conference.lead_moderator
    return {
        "conference": {
            "slug": conference.slug, "title": conference.title, "theme": conference.theme,
            "opens_at": isotime(conference.opens_at), "closes_at": isotime(conference.closes_at),
            "partners": [{"id": p.id, "name": p.name, "url": p.url,
                          "logo": p.logo_sha256, "logo_type": p.logo_type}
                         for p in conference.partners],
            "moderators": [{"name": m.name, "organization": m.organization,
                            "country": _country(m.country, locale),
                            "lead": lead is not None and m.id == lead.id} for m in mods],
            "contact": {"name": conference.contact_name, "email": conference.contact_email},
        },
        "rounds": round_rows,
        "posts": numbered,
        "participants": participants,
        "statistics": stats.as_dict(),
        "default_summaries": default_summaries,
    }


def compile_draft(actor: Member, conference: Conference, language: str | None = None
                  ) -> Proceedings:
    """Compile (or recompile) the draft from the closed conference. Texts the Secretariat
    has edited are kept; empty ones are filled from the conference."""
    _require_secretariat(actor)
    services.refuse_if_cancelled(conference)
    if clock.now() < clock.aware(conference.closes_at):
        raise Conflict(str(_l("Proceedings can be compiled once the conference has closed "
                              "(%(when)s).", when=times.spelled(conference.closes_at))),
                       code="not_closed")
    row = get(conference)
    if row is None:
        row = Proceedings(conference_id=conference.id, summaries={}, content={})
        db.session.add(row)
    if language is not None:
        if language not in current_app.config["LANGUAGES"]:
            raise Invalid(str(_l("Unknown language.")), fields={"language": "choice"})
        row.language = language
    row.language = row.language or "en"
    with force_locale(row.language):
        content = compile_content(conference, row.language)
        if not row.title:
            row.title = _("Proceedings of the e-conference “%(title)s”", title=conference.title)
    if not row.introduction:
        row.introduction = conference.description
    row.summaries, content[COMPILED_SUMMARIES] = _merge_summaries(
        row, content.pop("default_summaries"))
    row.content = content
    row.compiled_at = row.updated_at = clock.now()
    hub_services.audit(actor, "proceedings.compile", conference, conference.slug)
    db.session.commit()
    return row


def _merge_summaries(row: Proceedings, posted: dict[str, list[list[Any]]]
                     ) -> tuple[dict[str, str], dict[str, Any]]:
    """The draft's summary of each round after a (re)compilation, and what it was
    compiled from. A text the Secretariat has not touched follows the moderators'
    summary posts (those posted since, after the closing say, included); an edited one
    is kept, with the summaries posted since the last compilation added below it."""
    before = (row.content or {}).get(COMPILED_SUMMARIES)
    summaries = dict(row.summaries or {})
    compiled: dict[str, Any] = {}
    for key, posts in posted.items():
        text = "\n\n".join(body for _id, body in posts)
        compiled[key] = {"text": text, "posts": [post_id for post_id, _body in posts]}
        current = summaries.get(key, "")
        if before is None:  # a draft compiled before this was kept: fill empty ones only
            summaries[key] = current or text
            continue
        last = before.get(key, {"text": "", "posts": []})
        if not current or current == last["text"]:
            summaries[key] = text
        else:
            new = [body for post_id, body in posts if post_id not in set(last["posts"])]
            summaries[key] = "\n\n".join([current, *new])
    return summaries, compiled


def update_draft(actor: Member, conference: Conference, *, title: str | None = None,
                 introduction: str | None = None, conclusions: str | None = None,
                 summaries: dict[str, str] | None = None) -> Proceedings:
    _require_secretariat(actor)
    row = get(conference)
    if row is None or not row.content:
        raise Conflict(str(_l("Compile the proceedings first.")), code="not_compiled")
    if title is not None:
        title = " ".join(title.split())
        if not title:
            raise Invalid(str(_l("A title is required.")), fields={"title": "required"})
        row.title = title[:300]
    for name, value in (("introduction", introduction), ("conclusions", conclusions)):
        if value is not None:
            if len(value) > MAX_TEXT:
                raise Invalid(str(_l("That is too long (at most %(n)d characters).",
                                     n=MAX_TEXT)), fields={name: "too_long"})
            setattr(row, name, value.strip())
    if summaries is not None:
        known = {str(r["id"]) for r in row.content.get("rounds", [])}
        merged = dict(row.summaries or {})
        for key, value in summaries.items():
            if str(key) not in known:
                raise Invalid(str(_l("No such round.")), fields={"summaries": "unknown"})
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise Invalid(str(_l("A summary is text.")), fields={"summaries": "type"})
            merged[str(key)] = value.strip()
        row.summaries = merged
    row.updated_at = clock.now()
    hub_services.audit(actor, "proceedings.edit", conference, conference.slug)
    db.session.commit()
    return row


def edition(row: Proceedings) -> dict[str, Any]:
    """The draft as it would be published: texts rendered once, here."""
    content = dict(row.content or {})
    content.pop(COMPILED_SUMMARIES, None)
    rounds = []
    for item in content.get("rounds", []):
        summary = (row.summaries or {}).get(str(item["id"]), "")
        rounds.append({**item, "summary": summary,
                       "summary_html": markup.render(summary) if summary else ""})
    return {
        **content,
        "rounds": rounds,
        "language": row.language,
        "title": row.title,
        "introduction": row.introduction,
        "introduction_html": markup.render(row.introduction) if row.introduction else "",
        "conclusions": row.conclusions,
        "conclusions_html": markup.render(row.conclusions) if row.conclusions else "",
    }


# -- the plain-text version -------------------------------------------------------------------



def _wrap(text: str, width: int = 72, indent: str = "") -> str:
    out = []
    for line in (text or "").strip().splitlines():
        if not line.strip():
            out.append("")
            continue
        out.append(textwrap.fill(line, width=width, initial_indent=indent,
                                 subsequent_indent=indent, break_long_words=False,
                                 break_on_hyphens=False) or indent)
    return "\n".join(out)


def _date(value: str | None, locale: str) -> str:
    from babel.dates import format_date

    if not value:
        return ""
    return format_date(datetime.fromisoformat(value), "long", locale=locale)


def dates_line(data: dict[str, Any], locale: str) -> str:
    conf = data["conference"]
    return f"{_date(conf['opens_at'], locale)} – {_date(conf['closes_at'], locale)}"


def post_heading(post: dict[str, Any]) -> str:
    country = "" if post.get("anonymous") else post["country"]
    who = ", ".join(x for x in (post["author"], post["organization"], country) if x)
    return f"{post['n']}. {who}"


def render_text(data: dict[str, Any], urls_: dict[str, str]) -> str:
    """The proceedings as plain text (UTF-8, 72 columns), for email."""
    locale = data.get("language") or "en"
    conf = data["conference"]
    rule = "=" * 72
    parts = [data["title"], rule, conf["title"]]
    if conf.get("theme"):
        parts.append(conf["theme"])
    parts.append(dates_line(data, locale))
    if conf["partners"]:
        parts.append(_("Partners: %(names)s", names=", ".join(p["name"]
                                                                for p in conf["partners"])))
    if conf["moderators"]:
        parts.append(_("Moderators: %(names)s", names=", ".join(
            m["name"] + (" (" + _("lead") + ")" if m["lead"] else "")
            for m in conf["moderators"])))
    parts += [_("Online: %(url)s", url=urls_["url"])]
    if urls_.get("pdf_url"):
        parts.append(_("PDF: %(url)s", url=urls_["pdf_url"]))
    if data.get("introduction"):
        parts += ["", rule, _("Introduction"), rule, "", _wrap(data["introduction"])]
    posts = data["posts"]
    for item in data["rounds"]:
        parts += ["", rule, _("Round %(n)d: %(title)s", n=item["number"], title=item["title"]),
                  f"{_date(item['opens_at'], locale)} – {_date(item['closes_at'], locale)}",
                  rule, "", _("Question"), "", _wrap(item["question"])]
        if item.get("summary"):
            parts += ["", _("Moderators' summary"), "", _wrap(item["summary"])]
        mine = [p for p in posts if p["round"] == item["number"]]
        if mine:
            parts += ["", _("Contributions")]
        for post in mine:
            parts += ["", post_heading(post), _wrap(post["body"], indent="    ")]
            if post["edited_by_moderator"]:
                parts.append("    " + _("(edited by the moderator)"))
    others = [p for p in posts if p["round"] is None]
    if others:
        parts += ["", rule, _("Other contributions"), rule]
        for post in others:
            parts += ["", post_heading(post) + f" — {post['topic']}",
                      _wrap(post["body"], indent="    ")]
    if data.get("conclusions"):
        parts += ["", rule, _("Conclusions"), rule, "", _wrap(data["conclusions"])]
    parts += ["", rule, _("Participants (%(n)d)", n=len(data["participants"])), rule]
    for person in data["participants"]:
        parts.append("- " + ", ".join(x for x in (person["name"], person["organization"],
                                                   "" if person["anonymous"]
                                                   else person["country"]) if x))
    stats = data["statistics"]
    parts += ["", rule, _("Statistics"), rule,
              _("Participants: %(n)d", n=stats["participants"]),
              _("Contributions: %(n)d", n=stats["posts"]),
              _("Participants who posted: %(n)d (%(share)d%%)", n=stats["posters"],
                share=round(stats["share_posted"] * 100))]
    for label, key in ((_("By country"), "by_country"), (_("By region"), "by_region"),
                       (_("By type of organization"), "by_org_type")):
        parts += ["", label]
        for row in stats[key]:
            parts.append(f"  {row['label']}: "
                         + ngettext("%(num)d participant", "%(num)d participants",
                                    row["participants"]) + ", "
                         + ngettext("%(num)d contribution", "%(num)d contributions",
                                    row["posts"]))
    parts += ["", _("Contributions per round")]
    for row in stats["per_round"]:
        parts.append(f"  {row['number']}. {row['title']}: {row['posts']}")
    return "\n".join(parts).strip() + "\n"


# -- publishing ---------------------------------------------------------------------------------

def mail_text(text: str, limit: int = MAX_MAIL_TEXT) -> tuple[str, bool]:
    """The text for the participants' email: whole up to `limit` characters, else cut at
    a paragraph (the message then points to the full text online). Every recipient's
    copy is a job of its own, so a large conference's text is not copied hundreds of
    times in full."""
    if len(text) <= limit:
        return text, False
    cut = text.rfind("\n\n", 0, limit)
    return text[:cut if cut > 0 else limit].rstrip() + "\n", True


def public_urls(conference: Conference) -> dict[str, str]:
    return {"url": urls.absolute("conferences.proceedings", slug=conference.slug),
            "pdf_url": urls.absolute("conferences.proceedings_pdf", slug=conference.slug),
            "text_url": urls.absolute("conferences.proceedings_text", slug=conference.slug)}


def publish(actor: Member, conference: Conference) -> Proceedings:
    """Freeze the draft as the public edition: page, PDF and text; tell the participants
    and the registry. Publishing again replaces the edition."""
    from conferences import pdf

    _require_secretariat(actor)
    row = get(conference)
    if row is None or not row.content:
        raise Conflict(str(_l("Compile the proceedings first.")), code="not_compiled")
    links = public_urls(conference)
    with force_locale(row.language or "en"):
        data = edition(row)
        data["published_at"] = isotime(clock.now())
        row.pdf = pdf.render(data, links)
        row.text = render_text(data, links)
    row.edition = data
    first = row.published_at is None
    row.published_at = clock.now()
    conference.board.summaries_after_close = False  # the record is made: summaries end
    row.published_by_id = actor.id
    hub_services.audit(actor, "proceedings.publish", conference, conference.slug)
    if first:
        from conferences.schedule import recipients

        text, cut = mail_text(row.text)
        for member in recipients(conference):
            send_mail(member.email, "conference_proceedings", language=member.language,
                      name=member.name, member=member, conference=conference,
                      title=row.title, text=text, cut=cut, **links)
    db.session.commit()
    area = conference.board.thematic_area
    events.proceedings_published.send(
        current_app._get_current_object(),
        event=events.ProceedingsEvent(
            key=f"conference:{conference.slug}", title=row.title, url=links["url"],
            pdf_url=links["pdf_url"],
            timeframe_start=clock.aware(conference.opens_at).date(),
            timeframe_end=clock.aware(conference.closes_at).date(),
            organization=", ".join(p.name for p in conference.partners)
            or current_app.config.get("HUB_NAME", ""),
            thematic_areas=(area.slug,) if area else (),
            keywords=tuple(conference.keyword_list), actor_id=actor.id,
            countries=tuple(conference.countries or ())))
    return row

