"""Joining means delivery, one digest per member per period, and the Secretariat's
announcements: asserted on what crossed the SMTP socket."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from forums import services as forums
from forums.models import Subscription
from hub import clock
from hub import services as hub_services
from hub.extensions import db
from hub.models import MemberStatus, Role, ThematicArea
from listserv import announcements, digests, membership
from listserv.announcements import AnnouncementForm


@pytest.fixture
def frozen():
    yield clock.freeze
    clock.freeze(None)


def _modes(member) -> dict[str, str]:
    db.session.expire_all()
    return {s.board_id: s.mode for s in db.session.scalars(
        db.select(Subscription).where(Subscription.member_id == member.id))}


def test_an_approved_member_follows_the_defaults_and_is_told_how_to_change_them(
        app, smtp, run_jobs, make_member, make_board):
    area = ThematicArea(slug="seed-tests", name="Seed tests")
    db.session.add(area)
    db.session.commit()
    news = make_board("announcements", name="Announcements", posting="moderators")
    risk = make_board("risk", name="Risk assessment", thematic_area_id=area.id)
    other = make_board("other", name="Other")
    secretariat = make_member(role=Role.SECRETARIAT)
    applicant = make_member(status=MemberStatus.PENDING, language="es",
                            email="ana@example.org", name="Ana")
    applicant.expertise = [area]
    db.session.commit()
    with app.test_request_context():
        hub_services.approve(secretariat, applicant)
    assert _modes(applicant) == {news.id: "each", risk.id: "daily"}
    assert other.id not in _modes(applicant)
    run_jobs()
    (welcome,) = [m for m in smtp.to("ana@example.org") if "-request" in
                  str(m.get("Reply-To", ""))]
    text = welcome.get_body(("plain",)).get_content()
    assert "Announcements" in text and "Risk assessment" in text
    assert "/lists/settings" in text
    assert "digest daily" in text  # the commands, in Spanish around them
    assert "Estimado/a Ana" in text and welcome["Subject"] == "Su correo de la red"


def test_new_defaults_leave_existing_members_alone(app, client, auth, make_member,
                                                   make_board):
    news = make_board("announcements", name="Announcements")
    extra = make_board("extra")
    old = make_member()
    secretariat = make_member(role=Role.SECRETARIAT)
    auth.login(secretariat)
    page = client.get("/lists/defaults")
    assert page.status_code == 200 and b"Announcements" in page.data
    client.post("/lists/defaults", data={"board": [str(news.id), str(extra.id)],
                                         "board_mode": "weekly", "thematic_mode": "none"})
    assert membership.current().board_mode == "weekly"
    assert _modes(old) == {}
    new = make_member(status=MemberStatus.PENDING)
    with app.test_request_context():
        hub_services.approve(secretariat, new)
    assert _modes(new) == {news.id: "weekly", extra.id: "weekly"}


def test_one_digest_for_all_digest_boards_with_contents_and_sections(
        app, smtp, make_member, make_board, subscribe, start_topic, frozen):
    a, b = make_board("seeds", name="Seed banks"), make_board("lab", name="Laboratories")
    reader = make_member(timezone="UTC")
    subscribe(reader, a, "daily")
    subscribe(reader, b, "daily")
    author = make_member()
    frozen(datetime(2026, 11, 3, 9, 0, tzinfo=UTC))
    start_topic(author, a, title="Storage", body="About storage.")
    start_topic(author, b, title="Detection", body="About detection.")
    frozen(datetime(2026, 11, 4, 7, 0, tzinfo=UTC))
    assert digests.send_due() == 1
    (mail,) = smtp.to(reader.email)
    assert mail["Subject"] == "Daily digest of 2 boards, November 3, 2026"
    text = mail.get_body(("plain",)).get_content()
    contents = text.index("Contents")
    assert contents < text.index("1. Seed banks") < text.index("About storage.")
    assert text.index("2. Laboratories") < text.index("About detection.")
    assert text.count("/reply") >= 2 or "Reply:" in text
    html = mail.get_body(("html",)).get_content()
    assert 'href="#board-' in html
    assert digests.send_due() == 0


def test_a_mime_digest_bursts_into_one_message_per_post(
        app, smtp, client, auth, make_member, board, subscribe, start_topic, frozen):
    reader = make_member(timezone="UTC")
    subscribe(reader, board, "daily")
    auth.login(reader)
    client.post("/lists/settings", data={"digest_format": "mime"})
    author = make_member(name="Amina Diallo")
    frozen(datetime(2026, 11, 3, 9, 0, tzinfo=UTC))
    first = start_topic(author, board, title="Storage", body="First words.")
    forums.create_reply(author, first.topic, "Second words.")
    frozen(datetime(2026, 11, 4, 7, 0, tzinfo=UTC))
    assert digests.send_due() == 1
    (mail,) = smtp.to(reader.email)
    assert mail.get_content_type() == "multipart/mixed"
    toc, digest = mail.get_payload()
    assert "Contents" in toc.get_content() and "First words." not in toc.get_content()
    assert digest.get_content_type() == "multipart/digest"
    posts = [part.get_payload()[0] for part in digest.get_payload()]
    assert [p["Subject"] for p in posts] == ["[risk] Storage", "[risk] Storage"]
    assert "Amina Diallo via Risk assessment" in posts[0]["From"]
    assert "Second words." in posts[1].get_content()


def test_an_announcement_to_a_country_reaches_its_members_who_want_mail(
        app, smtp, run_jobs, client, auth, make_member, make_board, subscribe):
    news = make_board("announcements", name="Announcements", visibility="public",
                      posting="moderators")
    secretariat = make_member(role=Role.SECRETARIAT)
    kenyan = make_member(country="KE")  # never chose: gets it
    quiet = make_member(country="KE")
    subscribe(quiet, news, "none")  # chose no email: respected
    french = make_member(country="FR", region="weog")
    auth.login(secretariat)
    assert client.get("/lists/announce").status_code == 200
    response = client.post("/lists/announce", data={
        "board": "announcements", "audience": "country", "country": "KE",
        "subject": "Workshop in Nairobi", "body": "Register by Friday."})
    assert response.status_code == 302
    run_jobs()
    got = smtp.to(kenyan.email)
    assert [m["Subject"] for m in got] == ["[announcements] Workshop in Nairobi"]
    assert got[0]["List-Unsubscribe"] and got[0]["Precedence"] == "list"
    assert smtp.to(quiet.email) == [] and smtp.to(french.email) == []
    topic = forums.readable_boards(None)  # archived on the web
    page = client.get("/forums/announcements")
    assert b"Workshop in Nairobi" in page.data and topic is not None


def test_only_the_secretariat_announces(app, make_member, make_board):
    make_board("announcements")
    with pytest.raises(Exception) as exc:
        announcements.send(make_member(), AnnouncementForm("announcements", "x", "y"))
    assert getattr(exc.value, "status", None) == 403
