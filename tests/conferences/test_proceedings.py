"""Proceedings: compiled from the closed conference into a draft the Secretariat edits,
then published as a public page, a PDF and a plain text; every approved contribution is
numbered with author, organization and country (or only the country for those who opted
out), with the moderators' summaries, the participants and the statistics."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from conferences import agenda, participation, proceedings, schedule
from forums import editing
from forums import services as forums
from hub import events
from hub.extensions import db

from .conftest import day, round_topic


@pytest.fixture
def closed(in_session, people, at, app):
    """Three contributions in round 1 (one by a participant who opted out, one edited by
    the moderator), one in round 2, one in a side topic, a summary, and a held post that
    must not appear."""
    participation.set_anonymous(people.participant2, in_session, True)
    topic = round_topic(in_session, 1)
    forums.create_reply(people.participant, topic, "Kenya starts from protection goals.")
    forums.create_reply(people.participant2, topic, "A checklist helps us.")
    edited = forums.create_reply(people.participant, topic, "Teh last word.")
    editing.edit_post(people.moderator, edited, "The last word.")
    item = next(r for r in in_session.rounds if r.number == 1)
    agenda.post_summary(people.moderator, item, "Protection goals come **first**.")
    forums.create_topic(people.participant2, in_session.board, "Capacity needs",
                        "We need training on detection.")
    at(day(15))
    schedule.run()
    forums.create_reply(people.participant, round_topic(in_session, 2),
                        "Uncertainty is normal — see Żółć ünïcödé Ελληνικά кириллица.")
    in_session.board.premoderated = True
    db.session.commit()
    forums.create_reply(people.participant, round_topic(in_session, 2), "Never approved")
    at(day(22))
    schedule.run()
    db.session.expire_all()
    return in_session


def test_compiling_waits_for_the_closing(client, in_session, people, token_for):
    response = client.post("/api/v1/conferences/risk/proceedings",
                           headers=token_for(people.secretariat))
    assert response.status_code == 409
    assert response.get_json()["error"]["message"].startswith(
        "Proceedings can be compiled once the conference has closed")


def test_only_the_secretariat_compiles_and_publishes(client, closed, people, token_for):
    for role in ("moderator", "participant"):
        headers = token_for(people.who(role))
        assert client.post("/api/v1/conferences/risk/proceedings",
                           headers=headers).status_code == 403
        assert client.post("/api/v1/conferences/risk/proceedings/publish",
                           headers=headers).status_code == 403


def test_the_draft_holds_everything_in_order(closed, people):
    row = proceedings.compile_draft(people.secretariat, closed)
    content = row.content
    posts = [(p["n"], p["round"], p["author"], p["organization"], p["country"], p["body"])
             for p in content["posts"]]
    assert posts == [
        (1, 1, "Wanjiru Participant", "National Biosafety Authority", "Kenya",
         "Kenya starts from protection goals."),
        (2, 1, "A participant from India", "", "India", "A checklist helps us."),
        (3, 1, "Wanjiru Participant", "National Biosafety Authority", "Kenya",
         "The last word."),
        (4, 2, "Wanjiru Participant", "National Biosafety Authority", "Kenya",
         "Uncertainty is normal — see Żółć ünïcödé Ελληνικά кириллица."),
        (5, None, "A participant from India", "", "India", "We need training on detection."),
    ]
    assert [p["edited_by_moderator"] for p in content["posts"]] == [False, False, True, False,
                                                                    False]
    assert row.summaries[str(closed.rounds[0].id)] == "Protection goals come **first**."
    assert row.summaries[str(closed.rounds[1].id)] == ""
    assert [p["name"] for p in content["participants"]] == ["A participant from India",
                                                            "Wanjiru Participant"]
    stats = content["statistics"]
    assert (stats["participants"], stats["posts"], stats["posters"]) == (2, 5, 2)
    assert [(r["number"], r["posts"]) for r in stats["per_round"]] == [(1, 3), (2, 1)]
    assert stats["other_posts"] == 1
    assert row.title == "Proceedings of the e-conference “Risk assessment in practice”"
    assert row.introduction == "We discuss **risk assessment**."


def test_edit_publish_and_read_anywhere(client, closed, people, token_for, app, smtp,
                                        run_jobs):
    received = []

    def listener(sender, event, **_kw):
        received.append(event)

    events.proceedings_published.connect(listener)
    try:
        headers = token_for(people.secretariat)
        draft = client.post("/api/v1/conferences/risk/proceedings", headers=headers)
        assert draft.status_code == 201 and draft.get_json()["status"] == "draft"
        round2 = str(closed.rounds[1].id)
        response = client.patch("/api/v1/conferences/risk/proceedings", headers=headers, json={
            "introduction": "Thirty regulators met online.",
            "conclusions": "Write it **down**.",
            "summaries": {round2: "Uncertainty was the hardest part."}})
        assert response.status_code == 200
        # Recompiling keeps what the Secretariat wrote.
        client.post("/api/v1/conferences/risk/proceedings", headers=headers)
        run_jobs()
        smtp.clear()
        response = client.post("/api/v1/conferences/risk/proceedings/publish", headers=headers)
        assert response.status_code == 200
        links = response.get_json()
        assert links["url"] == "http://hub.test/conferences/risk/proceedings"
        assert links["pdf_url"] == "http://hub.test/conferences/risk/proceedings.pdf"
    finally:
        events.proceedings_published.disconnect(listener)
    [event] = received
    assert event.key == "conference:risk" and event.pdf_url == links["pdf_url"]
    assert (event.timeframe_start.isoformat(), event.timeframe_end.isoformat()) == (
        "2030-03-08", "2030-03-22")
    assert event.keywords == ("risk", "assessment") and event.actor_id == people.secretariat.id
    # Anyone reads the page, the PDF and the text; nobody needs to sign in.
    page = client.get("/conferences/risk/proceedings").get_data(as_text=True)
    for text in ("Thirty regulators met online.", "Uncertainty was the hardest part.",
                 "Write it <strong>down</strong>.", "Protection goals come <strong>first",
                 "A participant from India", "Kenya starts from protection goals.",
                 "(edited by the moderator)"):
        assert text in page, text
    assert "Never approved" not in page and "Raj Second" not in page
    api = client.get("/api/v1/conferences/risk/proceedings").get_json()
    assert [p["n"] for p in api["posts"]] == [1, 2, 3, 4, 5]
    text = client.get("/conferences/risk/proceedings.txt").get_data(as_text=True)
    assert "2. A participant from India\n    A checklist helps us." in text
    assert "1. Wanjiru Participant, National Biosafety Authority, Kenya" in text
    assert "Participants who posted: 2 (100%)" in text
    assert client.get("/conferences/risk/proceedings.pdf").mimetype == "application/pdf"
    # The participants get the text version by email.
    run_jobs()
    mail = smtp.to("pat@example.org")[0]
    assert mail["Subject"] == "Proceedings published: Risk assessment in practice"
    assert "2. A participant from India" in mail.get_body(("plain",)).get_content()
    assert "published" in client.get("/api/v1/conferences/risk").get_json()["status"]


def test_the_pdf_is_valid_and_renders(closed, people, tmp_path):
    proceedings.compile_draft(people.secretariat, closed)
    proceedings.update_draft(people.secretariat, closed,
                             introduction="An introduction\n\nin two paragraphs.")
    row = proceedings.publish(people.secretariat, closed)
    reader = PdfReader(io.BytesIO(row.pdf))
    assert len(reader.pages) >= 3
    assert reader.metadata.title == row.title
    text = "\n".join(page.extract_text() for page in reader.pages)
    for needle in ("Proceedings of the e-conference", "Learning from each other",
                   "March 8, 2030", "Round 1: Problem formulation", "A participant from India",
                   "Żółć ünïcödé Ελληνικά кириллица", "Moderators' summary",
                   "Participants (2)", "Statistics", "Page 2"):
        assert needle in text, needle
    assert "Never approved" not in text
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    path = tmp_path / "proceedings.pdf"
    path.write_bytes(row.pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(path), str(tmp_path / "page")],
                   check=True, capture_output=True, timeout=60)
    pngs = sorted(Path(tmp_path).glob("page-*.png"))
    assert len(pngs) == len(reader.pages)
    from PIL import Image

    with Image.open(pngs[0]) as cover:
        # Not blank: the cover has dark text on white.
        assert cover.convert("L").getextrema()[0] < 100


@pytest.mark.config(HUB_PDF_FONT_DIR="/nonexistent/fonts")
def test_a_missing_font_is_a_clear_error(client, closed, people, token_for):
    headers = token_for(people.secretariat)
    client.post("/api/v1/conferences/risk/proceedings", headers=headers)
    response = client.post("/api/v1/conferences/risk/proceedings/publish", headers=headers)
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "pdf_font_missing" and "fonts-dejavu-core" in error["message"]
    assert client.get("/conferences/risk/proceedings").status_code == 404


def test_the_draft_is_the_secretariats_alone(client, auth, closed, people):
    proceedings.compile_draft(people.secretariat, closed)
    assert client.get("/conferences/risk/proceedings?draft=1").status_code == 404
    auth.login(people.moderator)
    assert client.get("/conferences/risk/proceedings?draft=1").status_code == 404
    assert client.get("/conferences/risk/proceedings/edit").status_code == 403
    auth.logout()
    auth.login(people.secretariat)
    page = client.get("/conferences/risk/proceedings?draft=1").get_data(as_text=True)
    assert "Draft preview" in page and "A participant from India" in page
    response = client.post("/conferences/risk/proceedings/edit", data={
        "title": "Proceedings: risk assessment", "introduction": "Intro",
        "conclusions": "", f"summary-{closed.rounds[0].id}": "Edited summary"})
    assert response.status_code == 302
    client.post("/conferences/risk/proceedings/publish")
    page = client.get("/conferences/risk/proceedings").get_data(as_text=True)
    assert "<h1>Proceedings: risk assessment</h1>" in page and "Edited summary" in page


def test_publishing_files_the_proceedings_among_the_registrys_reports(closed, people):
    from hub.registry.models import Report

    proceedings.compile_draft(people.secretariat, closed)
    proceedings.publish(people.secretariat, closed)
    report = db.session.scalar(db.select(Report).where(Report.external_id == "conference:risk"))
    assert report is not None and report.state == "published"
    proceedings.update_draft(people.secretariat, closed, title="Proceedings, second edition")
    proceedings.publish(people.secretariat, closed)
    assert db.session.scalars(db.select(Report).where(
        Report.external_id == "conference:risk")).all() == [report]


def test_a_long_text_is_cut_at_a_paragraph_for_email():
    text = "\n\n".join(f"Paragraph {n} " + "word " * 30 for n in range(100))
    short, cut = proceedings.mail_text(text, limit=1000)
    assert cut and len(short) <= 1000 and short.endswith("word\n")
    assert text.startswith(short.rstrip())
    assert proceedings.mail_text("Short.\n") == ("Short.\n", False)
