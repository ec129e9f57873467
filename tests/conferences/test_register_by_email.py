"""Registering for an e-conference by email: `register` (the motivation in the body) to
SLUG-request@, over a real LMTP socket; the conferences package answers listserv's
`registration_requested` through the web's own registration service."""

from __future__ import annotations

from conferences.models import PENDING, Registration
from hub import clock
from hub.extensions import db
from tests.conferences.conftest import T0, make
from tests.listserv.helpers import compose


def test_register_by_email_waits_for_the_moderators_and_says_so(
        app, smtp, run_jobs, people, gateway):
    conference = make(people)
    clock.freeze(T0)
    slug = conference.board.slug
    rcpt = f"{slug}-request@lists.hub.test"
    raw = compose(sender=people.outsider.email, to=rcpt, subject="register",
                  body="register\n\nI assess GM maize for our ministry.\n\n-- \nOutsider")
    gateway.lmtp(raw, rcpt, mail_from=people.outsider.email)
    db.session.rollback()
    registration = db.session.scalar(db.select(Registration).where(
        Registration.member_id == people.outsider.id))
    assert registration is not None and registration.status == PENDING
    assert registration.motivation == "I assess GM maize for our ministry."
    assert registration.source == "email"
    run_jobs()
    clock.freeze(None)
    (answer,) = [m for m in smtp.to(people.outsider.email) if "request" in m["Subject"]]
    text = answer.get_body(("plain",)).get_content()
    assert text.count("> register") == 1  # subject and body: one command
    assert "waits for the moderators" in text
    assert [m for m in smtp.to(people.moderator.email)]  # the moderators are told


def test_register_on_an_open_board_has_nothing_to_register_for(app, smtp, run_jobs,
                                                               make_member, gateway):
    from forums.models import Board

    db.session.add(Board(slug="open", name="Open", visibility="members", posting="all"))
    db.session.commit()
    member = make_member()
    rcpt = "open-request@lists.hub.test"
    gateway.lmtp(compose(sender=member.email, to=rcpt, subject="register",
                         body="Please."), rcpt, mail_from=member.email)
    run_jobs()
    (answer,) = smtp.to(member.email)
    assert "nothing to register for" in answer.get_body(("plain",)).get_content()
