"""Digests: one message per period per board, in each member's time zone, sent once."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parseaddr

import pytest

from hub import clock
from listserv import digests
from tests.listserv.helpers import compose, inbound_rows


@pytest.fixture
def frozen():
    yield clock.freeze
    clock.freeze(None)


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_daily_digest_holds_the_local_days_posts_and_goes_once(
        app, smtp, make_member, board, subscribe, start_topic, frozen):
    from forums import services as forums

    tokyo = make_member(timezone="Asia/Tokyo", name="Mei Tanaka")
    mexico = make_member(timezone="America/Mexico_City", name="Carlos Mendoza",
                         language="es")
    subscribe(tokyo, board, "daily")
    subscribe(mexico, board, "daily")
    author = make_member(name="Amina Diallo")
    # 01:00 UTC on Tuesday 3 November 2026: Tuesday 10:00 in Tokyo, Monday 19:00 in Mexico.
    frozen(_at(2026, 11, 3, 1, 0))
    first = start_topic(author, board, title="Seed banks", body="The first post.")
    # 16:00 UTC: Wednesday 01:00 in Tokyo, Tuesday 10:00 in Mexico.
    frozen(_at(2026, 11, 3, 16, 0))
    forums.create_reply(author, first.topic, "The reply.")

    # 22:00 UTC: Wednesday 07:00 in Tokyo (Tuesday is over), 16:00 Tuesday in Mexico
    # (Monday is over).
    frozen(_at(2026, 11, 3, 22, 0))
    assert digests.send_due() == 2
    (mail,) = smtp.to(tokyo.email)
    text = mail.get_body(("plain",)).get_content()
    assert "The first post." in text and "The reply." not in text
    assert mail["Subject"] == "[risk] Daily digest, November 3, 2026"
    assert mail["List-Id"] == "Risk assessment <risk.lists.hub.test>"
    assert "http://hub.test/forums/posts/" in text
    (monday,) = smtp.to(mexico.email)
    assert "The first post." in monday.get_body(("plain",)).get_content()
    assert digests.send_due() == 0  # the same period never goes twice

    frozen(_at(2026, 11, 4, 13, 0))  # Wednesday 07:00 in Mexico: Tuesday's digest
    assert digests.send_due() == 1
    tuesday = smtp.to(mexico.email)[-1]
    text = tuesday.get_body(("plain",)).get_content()
    assert "The reply." in text and "The first post." not in text
    assert "3 de noviembre de 2026" in tuesday["Subject"]


def test_a_weekly_digest_covers_monday_to_monday(app, smtp, make_member, board, subscribe,
                                                 start_topic, frozen):
    member = make_member(timezone="UTC")
    subscribe(member, board, "weekly")
    author = make_member()
    frozen(_at(2026, 11, 2, 9, 0))  # Monday
    start_topic(author, board, title="Week one", body="Early in the week.")
    frozen(_at(2026, 11, 8, 23, 0))  # Sunday night
    start_topic(author, board, title="Week one, late", body="Late in the week.")
    frozen(_at(2026, 11, 9, 5, 0))  # Monday before the send hour: not yet
    assert digests.send_due() == 0
    frozen(_at(2026, 11, 9, 6, 30))
    assert digests.send_due() == 1
    text = smtp.to(member.email)[0].get_body(("plain",)).get_content()
    assert "Early in the week." in text and "Late in the week." in text


def test_no_posts_no_digest(app, smtp, make_member, board, subscribe, frozen):
    subscribe(make_member(), board, "daily")
    frozen(_at(2026, 11, 3, 12, 0))
    assert digests.send_due() == 0 and smtp.received == []


def test_replying_to_a_digest_is_refused_helpfully(app, smtp, gateway, run_jobs, make_member,
                                                   board, subscribe, start_topic, frozen):
    member = make_member()
    subscribe(member, board, "daily")
    frozen(_at(2026, 11, 3, 9, 0))
    start_topic(make_member(), board)
    frozen(_at(2026, 11, 4, 7, 0))
    digests.send_due()
    (digest,) = smtp.to(member.email)
    frozen(None)
    reply_to = parseaddr(digest["Reply-To"])[1]
    smtp.clear()
    gateway.lmtp(compose(sender=member.email, to=reply_to, subject="Re: " + digest["Subject"],
                         headers={"In-Reply-To": digest["Message-ID"]}, body="Great!"),
                 reply_to, mail_from=member.email)
    (row,) = inbound_rows()
    assert (row.status, row.rule) == ("rejected", "digest-reply")
    run_jobs()
    (notice,) = smtp.to(member.email)
    assert "digest" in notice.get_body(("plain",)).get_content()
