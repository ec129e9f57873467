"""The pages: the list by status, creating a conference on the web (times typed in the
Secretariat's zone), partners with logos and background documents, the public page's
schedule with the deadline spelled out in the viewer's zone, the nav item, page weight;
and the demo seed."""

from __future__ import annotations

import io

import pytest

from conferences import editing, services
from conferences.models import Conference
from hub.extensions import db
from hub.models import AuditEntry

from .conftest import T0, day, make


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (60, 30), (11, 93, 59)).save(buffer, "PNG")
    return buffer.getvalue()


def test_create_on_the_web(client, auth, people, at):
    at(T0)
    people.secretariat.timezone = "Asia/Kolkata"  # UTC+5:30
    db.session.commit()
    auth.login(people.secretariat)
    assert client.get("/conferences/new").status_code == 200
    response = client.post("/conferences/new", data={
        "slug": "gmo-detection", "title": "Detection of LMOs", "theme": "Labs and methods",
        "description": "Labs share **methods**.",
        "registration_opens_at": "2030-03-01T17:30", "opens_at": "2030-03-10T09:00",
        "closes_at": "2030-03-20T17:30", "moderators": "mod@example.org",
        "premoderated": "y", "announce": "y", "thematic_area": "detection-identification"})
    assert response.status_code == 302, response.get_data(as_text=True)
    conference = db.session.scalar(db.select(Conference).where(Conference.slug ==
                                                               "gmo-detection"))
    assert conference.opens_at.isoformat() == "2030-03-10T03:30:00+00:00"
    assert conference.board.premoderated and conference.board.thematic_area.slug == \
        "detection-identification"
    assert services.moderators(conference) == [people.moderator]
    bad = client.post("/conferences/new", data={
        "slug": "later", "title": "Later", "registration_opens_at": "2030-03-11T00:00",
        "opens_at": "2030-03-10T09:00", "closes_at": "2030-03-20T17:30"})
    assert bad.status_code == 422
    assert "Registration must open before the conference opens." in bad.get_data(as_text=True)
    auth.logout()
    auth.login(people.moderator)
    assert client.get("/conferences/new").status_code == 403


def test_the_public_page_spells_out_the_deadline_in_the_viewers_zone(client, auth,
                                                                       conference, people):
    page = client.get("/conferences/risk").get_data(as_text=True)
    assert "Registration closes on <strong><time datetime=\"2030-03-22T12:00:00+00:00\">" \
           "Friday, March 22, 2030, 12:00\u202fPM</time>" in page
    assert "Sign in to register" in page and "Times are in your time zone, UTC." in page
    auth.login(people.participant)  # Nairobi
    page = client.get("/conferences/risk").get_data(as_text=True)
    assert "Friday, March 22, 2030, 3:00\u202fPM" in page and "Africa/Nairobi" in page
    assert "You are a participant." in page
    assert len(page.encode()) < 100_000


def test_partners_and_documents(client, auth, conference, people):
    auth.login(people.moderator)
    response = client.post("/conferences/risk/partners", data={
        "name": "Biosafety Institute", "url": "https://example.org/bi",
        "logo": (io.BytesIO(_png()), "logo.png")}, content_type="multipart/form-data")
    assert response.status_code == 302
    client.post("/conferences/risk/documents", data={
        "title": "Background paper", "file": (io.BytesIO(b"%PDF-1.4 test"), "paper.pdf")},
        content_type="multipart/form-data")
    client.post("/conferences/risk/documents", data={
        "title": "Guidance", "url": "https://example.org/guidance"},
        content_type="multipart/form-data")
    refused = client.post("/conferences/risk/partners", data={
        "name": "Bad logo", "logo": (io.BytesIO(b"not an image"), "logo.png")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "is not really a PNG file" in refused.get_data(as_text=True)
    auth.logout()
    page = client.get("/conferences/risk").get_data(as_text=True)
    db.session.expire_all()
    partner = conference.partners[0]
    document = conference.documents[0]
    assert "Biosafety Institute" in page and "Background paper" in page and "Guidance" in page
    logo = client.get(f"/conferences/risk/partners/{partner.id}/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    logo.close()
    paper = client.get(f"/conferences/risk/documents/{document.id}/paper.pdf")
    assert paper.status_code == 200 and paper.mimetype == "application/pdf"
    paper.close()
    # Removing them is the moderators' too, and the audit log says who did it.
    outsider_try = client.post(f"/conferences/risk/partners/{partner.id}/delete")
    assert outsider_try.status_code in {302, 403, 404}
    assert "Biosafety Institute" in client.get("/conferences/risk").get_data(as_text=True)
    auth.login(people.moderator)
    client.post(f"/conferences/risk/partners/{partner.id}/delete")
    client.post(f"/conferences/risk/documents/{document.id}/delete")
    auth.logout()
    page = client.get("/conferences/risk").get_data(as_text=True)
    assert "Biosafety Institute" not in page and "Background paper" not in page
    actions = set(db.session.scalars(db.select(AuditEntry.action).where(
        AuditEntry.actor_id == people.moderator.id)))
    assert {"conference.partner.remove", "conference.document.remove"} <= actions


def test_the_list_sorts_by_status_and_the_home_page_shows_what_is_on(client, app, people,
                                                                       at):
    make(people, slug="first")
    make(people, slug="second")
    second = db.session.scalar(db.select(Conference).where(Conference.slug == "second"))
    editing.update_conference(people.secretariat, second, editing.ConferenceData(
        title="Second conference"))
    at(day(8))
    page = client.get("/conferences/").get_data(as_text=True)
    assert page.index("In session") < page.index("/conferences/first")
    assert '<a href="/conferences/" aria-current="page">E-conferences</a>' in page  # nav
    home = client.get("/").get_data(as_text=True)
    assert "Second conference" in home and "in session" in home
    at(day(30))
    page = client.get("/conferences/").get_data(as_text=True)
    assert page.index("Past") < page.index("Second conference")


@pytest.mark.parametrize("role", ["moderator", "secretariat", "participant"])
def test_every_page_renders(client, auth, in_session, people, role):
    auth.login(people.who(role))
    first = in_session.rounds[0]
    urls = ["/conferences/", "/conferences/risk", "/conferences/risk/discussion",
            "/conferences/risk/register"]
    if role != "participant":
        urls += ["/conferences/risk/participants", "/conferences/risk/invite",
                 "/conferences/risk/moderation", "/conferences/risk/statistics",
                 "/conferences/risk/edit", "/conferences/risk/rounds/new",
                 f"/conferences/risk/rounds/{first.id}/edit",
                 f"/conferences/risk/rounds/{first.id}/summary"]
    if role == "secretariat":
        urls.append("/conferences/risk/proceedings/edit")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.data) < 100_000, url


def test_the_demo_seed(app, runner):
    from hub import clock

    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    states = {c.slug: services.status(c) for c in db.session.scalars(db.select(Conference))}
    assert states == {"lmo-risk-assessment": "in_session",
                      "public-participation": "registration_open",
                      "socio-economic-decisions": "published"}
    closed = db.session.scalar(db.select(Conference).where(
        Conference.slug == "socio-economic-decisions"))
    assert clock.aware(closed.closes_at) < clock.now()
    from conferences import schedule

    assert schedule.run() == {}  # nothing stale to announce
    client = app.test_client()
    assert client.get("/conferences/socio-economic-decisions/proceedings").status_code == 200
    pdf = client.get("/conferences/socio-economic-decisions/proceedings.pdf")
    assert pdf.data.startswith(b"%PDF")


def test_the_demo_seed_ships_spanish_and_french(app, runner):
    from forums.models import Board
    from hub.content import shown
    from hub.models import ThematicArea

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    conference = db.session.scalar(db.select(Conference).where(
        Conference.slug == "lmo-risk-assessment"))
    assert shown(conference, "title", "es") == \
        "La evaluación del riesgo de los OVM en la práctica"
    assert "<strong>évaluation des risques</strong>" in shown(
        conference, "description_html", "fr")
    assert shown(conference.board, "name", "fr") == "L'évaluation des risques des OVM en pratique"
    assert shown(conference.rounds[0], "title", "fr") == "La formulation du problème"
    areas = list(db.session.scalars(db.select(ThematicArea)))
    assert len(areas) == 12 and all(a.translations.get("es", {}).get("name") and
                                    a.translations.get("fr", {}).get("name") for a in areas)
    general = db.session.scalar(db.select(Board).where(Board.slug == "general"))
    assert shown(general, "name", "es") == "Debate general"
    assert shown(general, "category", "fr") == "Réseau"


def test_the_public_page_names_its_countries_and_links_their_pages(client, conference):
    conference.countries = ["KE", "UG"]
    db.session.commit()
    page = client.get(f"/conferences/{conference.slug}").get_data(as_text=True)
    assert '<a href="/countries/KE">Kenya</a>, <a href="/countries/UG">Uganda</a>' in page
    conference.countries = []
    db.session.commit()
    page = client.get(f"/conferences/{conference.slug}").get_data(as_text=True)
    assert "/countries/KE" not in page
