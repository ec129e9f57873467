"""Follows (members follow thematic areas and countries) and the announcements of new
opportunities they bring; reminders to the owners of records not updated for a long
time. Imports only `hub`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update

from hub import access, clock, countries, jobs
from hub.errors import Forbidden, Invalid
from hub.extensions import db
from hub.mailer import send_mail
from hub.models import Member, MemberStatus
from hub.registry import fields
from hub.registry.actions import (
    display_title,
    link,
    record_url,
)
from hub.registry.kinds import (
    KINDS,
    PUBLISHED,
    Field,
)
from hub.registry.models import Follow, Record

# -- follows and announcements -------------------------------------------------------------------

_THEMES = Field("themes", "themes", "themes")
_COUNTRIES = Field("countries", "countries", "countries")


def follows(member: Member) -> dict[str, list[str]]:
    rows = db.session.scalars(select(Follow).where(Follow.member_id == member.id)
                              .order_by(Follow.facet, Follow.value))
    found: dict[str, list[str]] = {"themes": [], "countries": []}
    for row in rows:
        found["themes" if row.facet == "theme" else "countries"].append(row.value)
    return found


def set_follows(member: Member, themes: Any, country_codes: Any) -> dict[str, list[str]]:
    """Replace what a member follows (thematic area slugs and country codes)."""
    if not access.is_active_member(member):
        raise Forbidden(_("Only active members can follow the registry."))
    vocab = fields.Vocabulary.load()
    errors: dict[str, str] = {}
    try:
        slugs = fields.clean(_THEMES, themes, vocab)
    except fields.FieldError as exc:
        errors["themes"] = exc.message
    try:
        codes = fields.clean(_COUNTRIES, country_codes, vocab)
    except fields.FieldError as exc:
        errors["countries"] = exc.message
    if errors:
        raise Invalid("; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors)
    db.session.execute(Follow.__table__.delete().where(Follow.member_id == member.id))
    for slug in slugs:
        db.session.add(Follow(member_id=member.id, facet="theme", value=slug))
    for code in codes:
        db.session.add(Follow(member_id=member.id, facet="country", value=code))
    db.session.commit()
    return follows(member)


@jobs.handler("registry.announce")
def announce(payload: dict[str, Any]) -> None:
    """Tell the members who follow its thematic areas or countries of a new opportunity."""
    record = db.session.get(Record, payload["record_id"])
    if record is None or record.kind != "opportunities" or record.state != PUBLISHED:
        return
    covered = set(record.countries or [])
    for region in record.regions or []:
        covered |= set(countries.countries_in_region(region))
    worldwide = not record.countries and not record.regions
    country_match = Follow.facet == "country"
    if not worldwide:
        country_match = and_(country_match, Follow.value.in_(sorted(covered)))
    rows = db.session.scalars(select(Follow).where(or_(
        and_(Follow.facet == "theme", Follow.value.in_(record.thematic_areas or [])),
        country_match)))
    why: dict[int, list[Follow]] = defaultdict(list)
    for row in rows:
        why[row.member_id].append(row)
    if not why:
        return
    vocab = fields.Vocabulary.load()
    members = db.session.scalars(select(Member).where(Member.id.in_(list(why))))
    for member in members:
        if (member.status != MemberStatus.ACTIVE or member.delivery_disabled
                or member.id == record.owner_id
                or not access.can_read_record(member, record)):
            continue
        reasons = [vocab.theme_name(f.value) if f.facet == "theme"
                   else countries.country_name(f.value, member.language or "en")
                   for f in why[member.id]]
        send_mail(member.email, "registry_opportunity", language=member.language,
                  name=member.name, member=member, record=record,
                  title=display_title(record), url=record_url(record), reasons=reasons,
                  deadline=record.deadline, following_url=link("registry.following"))
    db.session.commit()


# -- reminders -----------------------------------------------------------------------------------

def send_reminders(now: datetime | None = None) -> int:
    """Remind owners of published records not updated for HUB_REGISTRY_REMIND_DAYS; one
    message per owner, at most once per period per record, however many workers run this
    (each record is claimed by a conditional UPDATE before its reminder is queued)."""
    days = int(current_app.config.get("HUB_REGISTRY_REMIND_DAYS") or 0)
    if days <= 0:
        return 0
    now = now or clock.now()
    cutoff = now - timedelta(days=days)
    table = Record.__table__
    due = and_(table.c.state == PUBLISHED, table.c.owner_id.is_not(None),
               table.c.updated_at <= cutoff,
               or_(table.c.reminded_at.is_(None), table.c.reminded_at <= cutoff))
    ids = list(db.session.scalars(select(table.c.id).where(due).order_by(table.c.id)
                                  .limit(1000)))
    claimed = [rid for rid in ids if db.session.execute(
        update(table).where(table.c.id == rid, due).values(reminded_at=now)).rowcount == 1]
    if not claimed:
        db.session.commit()
        return 0
    by_owner: dict[int, list[Record]] = defaultdict(list)
    for record in db.session.scalars(select(Record).where(Record.id.in_(claimed))
                                     .order_by(Record.updated_at)):
        by_owner[record.owner_id].append(record)
    sent = 0
    for owner in db.session.scalars(select(Member).where(Member.id.in_(list(by_owner)))):
        if owner.status != MemberStatus.ACTIVE:
            continue
        items = [{"title": display_title(r), "kind": KINDS[r.kind], "url": record_url(r),
                  "updated_at": r.updated_at} for r in by_owner[owner.id]]
        send_mail(owner.email, "registry_reminder", language=owner.language, name=owner.name,
                  member=owner, items=items, days=days, mine_url=link("registry.mine"))
        sent += 1
    db.session.commit()
    return sent


def periodic() -> None:
    """The worker calls this every round; the scan itself runs about once an hour."""
    state = current_app.extensions["registry"]
    if clock.due(state, "next_scan", state.get("scan_seconds", 3600)):
        send_reminders(clock.now())
