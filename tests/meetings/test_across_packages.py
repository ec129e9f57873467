"""Meetings as the other packages reach them, end to end: `register` by email to the
meeting's SLUG-request@ over a real LMTP socket (listserv sends `registration_requested`,
which the meetings answer), and the country page that lists the meetings held there."""

from __future__ import annotations

from hub.extensions import db
from meetings import registration
from tests.listserv.helpers import compose


def test_register_for_a_meeting_by_email(app, smtp, run_jobs, people, workshop, gateway):
    rcpt = f"{workshop.board.slug}-request@lists.hub.test"
    raw = compose(sender=people.bob.email, to=rcpt, subject="register",
                  body="register\n\nJe présente notre cadre national.")
    gateway.lmtp(raw, rcpt, mail_from=people.bob.email)
    db.session.rollback()
    row = registration.registration_of(people.bob, workshop)
    assert row is not None and row.status == "confirmed" and row.source == "email"
    run_jobs()
    answers = [m for m in smtp.to(people.bob.email) if "request" in m["Subject"].lower()
               or "register" in m["Subject"].lower()]
    assert answers, [m["Subject"] for m in smtp.to(people.bob.email)]
    text = answers[0].get_body(("plain",)).get_content()
    assert "inscrit" in text.lower() or "enregistr" in text.lower()  # Bob reads French


def test_the_country_page_lists_the_meetings_held_there(client, people, workshop,
                                                         make_meeting):
    hidden = make_meeting(title="Closed liaison meeting in Kenya", visibility="group",
                          group="liaison")
    page = client.get("/countries/KE").get_data(as_text=True)
    assert workshop.title in page
    assert hidden.title not in page  # a visitor may not see the liaison group's meeting
    assert client.get("/countries/AR").get_data(as_text=True).count(workshop.title) == 0
