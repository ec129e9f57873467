"""The registry in the browser: submitting with the forms, reviewing, my records, the
navigation, the Secretariat's desk, the home page and the demo records."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from hub.extensions import db
from hub.registry.kinds import KINDS
from hub.registry.models import Record


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_form_labels_every_field(client, auth, owner, kind):
    auth.login(owner)
    page = client.get(f"/registry/{kind}/new")
    html = page.data.decode()
    assert page.status_code == 200
    for spec in KINDS[kind].fields:
        assert str(spec.label) in html
    # Every input, select and textarea has a label (no JavaScript, no inline style).
    ids = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html))
    ids -= {"csrf_token"}
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    assert ids <= labelled, ids - labelled
    assert "<script>" not in html and "style=" not in html
    assert len(page.data) < 100_000


def test_a_focal_point_registers_needs_in_the_browser(client, auth, owner, secretariat,
                                                      run_jobs, smtp):
    auth.login(owner)
    response = client.post("/registry/needs/new", data={
        "country": "KE", "thematic_areas": ["risk-assessment", "public-awareness"],
        "needs": "1. Train regulators\n2. Translate guidance into Kiswahili\n",
        "desired_means": "Training", "measures_taken": "Biosafety Act 2009",
        "contacts-0-name": "Wanjiru", "contacts-0-email": "wanjiru@example.org",
        "contacts-1-name": "", "links-0-url": "https://bch.cbd.int/kenya",
        "links-0-title": "On the BCH", "action": "submit"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).data.decode()
    assert "Capacity needs of Kenya" in page and "Waiting for review" in page
    assert "<li>Translate guidance into Kiswahili</li>" in page
    assert "wanjiru@example.org" in page and "On the BCH" in page
    run_jobs()
    assert any("waits for review" in m["Subject"] for m in smtp.to(secretariat.email))


def test_mistakes_are_shown_next_to_the_fields(client, auth, owner):
    auth.login(owner)
    response = client.post("/registry/needs/new", data={
        "country": "KE", "needs": "", "contacts-0-name": "X", "contacts-0-email": "nope",
        "action": "submit"})
    assert response.status_code == 422
    html = response.data.decode()
    assert "Please correct the marked fields." in html
    assert '<p class="error" id="thematic_areas-error">is required</p>' in html
    assert '<p class="error" id="needs-error">is required</p>' in html
    assert "nope is not an email address" in html
    assert db.session.scalar(select(func.count()).select_from(Record)) == 0


def test_an_opportunity_with_a_timeframe_and_countries(client, auth, owner):
    auth.login(owner)
    response = client.post("/registry/opportunities/new", data={
        "title": "Internship", "type": "internship", "countries": ["KE", "UG"],
        "regions": ["africa"], "thematic_areas": ["information-sharing"],
        "timeframe_start": "2026-01-05", "timeframe_end": "2026-06-30",
        "deadline": "2025-11-30", "action": "draft"})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).data.decode()
    assert "Kenya" in html and "Uganda" in html and "African Group" in html
    assert "January 5, 2026" in html and "Draft" in html
    edit = client.get(response.headers["Location"] + "/edit").data.decode()
    assert 'value="2026-01-05"' in edit and '<option selected value="UG">' in edit


def test_the_secretariat_reviews_publishes_and_returns(client, auth, owner, secretariat,
                                                       make_record, smtp, run_jobs):
    good = make_record("projects", owner=owner, state="submitted", title="Good project")
    weak = make_record("reports", owner=owner, state="submitted", title="Weak report")
    auth.login(secretariat)
    queue = client.get("/registry/review").data.decode()
    assert "Good project" in queue and "Weak report" in queue
    client.post(f"/registry/projects/{good.id}/publish", data={"next": "/registry/review"})
    client.post(f"/registry/reports/{weak.id}/return",
                data={"note": "Please add the organization.", "next": "/registry/review"})
    queue = client.get("/registry/review").data.decode()
    assert "Good project" not in queue and "Nothing is waiting" in queue
    auth.logout()
    assert client.get(f"/registry/projects/{good.id}").status_code == 200
    auth.login(owner)
    mine = client.get("/registry/mine").data.decode()
    assert "Please add the organization." in mine
    run_jobs()
    body = smtp.to(owner.email)[-1].get_body(preferencelist=("plain",)).get_content()
    assert "Please add the organization." in body


def test_members_cannot_review(client, auth, owner):
    auth.login(owner)
    assert client.get("/registry/review").status_code == 403


def test_navigation_desk_and_home(client, auth, secretariat, make_record):
    make_record("opportunities", title="Fresh scholarship", type="scholarship",
                thematic_areas=["education-training"])
    make_record("opportunities", title="Closed grant", type="funding",
                thematic_areas=["education-training"], deadline="2001-01-01")
    home = client.get("/").data.decode()
    assert 'href="/registry/"' in home and "Fresh scholarship" in home
    assert "Closed grant" not in home
    auth.login(secretariat)
    desk = client.get("/secretariat/").data.decode()
    assert 'href="/registry/review"' in desk


def test_the_demo_has_records_of_every_kind(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    counts = dict(db.session.execute(
        select(Record.kind, func.count()).where(Record.state == "published")
        .group_by(Record.kind)).all())
    assert set(counts) == set(KINDS) and min(counts.values()) >= 3
    from hub.registry import matching
    from hub.registry.models import Need

    kenya = db.session.scalar(select(Need).where(Need.country == "KE"))
    assert len(matching.matches_for(None, kenya)) >= 2
    runner.invoke(args=["seed-demo"])  # a second run adds nothing
    assert db.session.scalar(select(func.count()).select_from(Record)) == sum(
        counts.values()) + 2  # plus one draft and one record waiting for review
