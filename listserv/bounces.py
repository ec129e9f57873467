"""Bounce scores: each member's record of mail that could not be delivered.

After Mailman: a hard bounce adds 1 and a soft one 0.5, at most once a day (a burst of
failures on one bad day counts once); a score with no new bounce for
HUB_BOUNCE_STALE_DAYS starts again from zero. At HUB_BOUNCE_THRESHOLD the member's list
mail stops (`Member.delivery_disabled`), a notice appears on their pages and a probe
message tells them how to turn it back on. Imports `hub` and `listserv`.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from hub import clock
from hub.extensions import db
from hub.mailer import send_mail
from hub.models import Member
from hub.services import audit
from listserv import links
from listserv.models import Bounce

WEIGHT = {"hard": 1.0, "soft": 0.5}


def _config(key: str, default: float) -> float:
    return float(current_app.config.get(key, default))


def record(member: Member, kind: str, detail: str = "", inbound_id: int | None = None) -> bool:
    """Note a bounce (in the current transaction); True when it disabled delivery."""
    now = clock.now()
    last = db.session.scalar(
        db.select(Bounce).where(Bounce.member_id == member.id, Bounce.scored.is_(True))
        .order_by(Bounce.created_at.desc()).limit(1))
    last_at = clock.aware(last.created_at) if last else None
    stale = timedelta(days=_config("HUB_BOUNCE_STALE_DAYS", 7))
    if last_at is not None and now - last_at > stale:
        member.bounce_score = 0.0
    same_day = last if last_at is not None and last_at.date() == now.date() else None
    if same_day is None:
        added = WEIGHT.get(kind, 1.0)
    elif kind == "hard" and same_day.kind == "soft":
        added = WEIGHT["hard"] - WEIGHT["soft"]  # today's failure turned out to be hard
    else:
        added = 0.0
    db.session.add(Bounce(member_id=member.id, inbound_id=inbound_id, kind=kind,
                          scored=added > 0, detail=detail[:2000], created_at=now))
    if not added:
        return False
    member.bounce_score = (member.bounce_score or 0.0) + added
    threshold = _config("HUB_BOUNCE_THRESHOLD", 5.0)
    if member.bounce_score >= threshold and not member.delivery_disabled:
        disable(member)
        return True
    return False


def disable(member: Member) -> None:
    member.delivery_disabled = True
    audit(None, "listserv.delivery_disabled", member,
          f"bounce score {member.bounce_score:g}")
    send_mail(member.email, "listserv_probe", language=member.language or "en",
              name=member.name, member=member,
              settings_url=links.absolute("listserv.settings"))


def enable(member: Member) -> None:
    """The member says their address works again: start from a clean slate."""
    member.delivery_disabled = False
    member.bounce_score = 0.0
    audit(member, "listserv.delivery_enabled", member)
