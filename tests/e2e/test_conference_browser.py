"""A whole e-conference in headless Chromium, with the clock moved instead of waiting:
the Secretariat creates it, a member registers, the moderator approves, the schedule
opens it, the participant posts, the moderator approves the held post and summarizes
the round, the schedule closes it, the Secretariat compiles, edits and publishes the
proceedings, and an anonymous visitor reads them and downloads the PDF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conferences import schedule
from hub import clock
from hub.models import Role

pytestmark = pytest.mark.browser

T0 = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


def _sign_in(context, base: str, email: str):  # noqa: ANN202
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(base + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


@pytest.fixture
def frozen():
    clock.freeze(T0)
    yield
    clock.freeze(None)


def test_a_conference_from_registration_to_published_proceedings(
        live_server, chromium, page, make_member, frozen, tmp_path: Path):
    make_member("secretariat@example.org", role=Role.SECRETARIAT, name="Amina Diallo")
    make_member("moderator@example.org", name="Carlos Mendoza", country="MX",
                organization="Instituto de Bioseguridad")
    make_member("wanjiru@example.org", name="Wanjiru Kamau", country="KE",
                organization="National Biosafety Authority", timezone="Africa/Nairobi")
    contexts = []

    def browser_for(email: str):  # noqa: ANN202
        context = chromium.new_context(locale="en-GB")
        contexts.append(context)
        return _sign_in(context, live_server, email)

    try:
        # The Secretariat creates the conference and its first round.
        sec = browser_for("secretariat@example.org")
        sec.get_by_role("link", name="E-conferences").first.click()
        sec.get_by_role("link", name="New e-conference").click()
        sec.get_by_label("Short name (slug)").fill("detection")
        sec.get_by_label("Title", exact=True).fill("Detecting LMOs")
        sec.get_by_label("Theme", exact=True).fill("Laboratories compare methods")
        sec.get_by_label("Registration opens").fill("2030-03-01T12:00")
        sec.get_by_label("The conference opens").fill("2030-03-08T12:00")
        sec.get_by_label("The conference closes").fill("2030-03-22T12:00")
        sec.get_by_label("Hold participants' posts").check()
        sec.get_by_label("Moderators (email addresses").fill("moderator@example.org")
        sec.get_by_role("button", name="Create the e-conference").click()
        expect(sec.get_by_text("The e-conference is created")).to_be_visible()
        sec.get_by_role("link", name="Add a round").click()
        sec.get_by_label("Title", exact=True).fill("Sampling")
        sec.get_by_label("Question for the participants", exact=True).fill(
            "How do you **sample** grain?")
        sec.get_by_label("The round opens").fill("2030-03-08T12:00")
        sec.get_by_label("The round closes").fill("2030-03-22T12:00")
        sec.get_by_role("button", name="Save the round").click()
        expect(sec.get_by_role("heading", name="Round 1: Sampling")).to_be_visible()
        # A member registers; the deadline is spelled out in her zone (Nairobi).
        member = browser_for("wanjiru@example.org")
        member.goto(live_server + "/conferences/detection")
        expect(member.get_by_text("Friday, March 22, 2030, 3:00").first).to_be_visible()
        member.get_by_role("link", name="Register to take part").click()
        member.get_by_label("Why do you want to take part?").fill("I run the reference lab.")
        member.get_by_role("button", name="Register").click()
        expect(member.get_by_text("The moderators will look at your registration")).to_be_visible()
        # The moderator approves.
        mod = browser_for("moderator@example.org")
        mod.goto(live_server + "/conferences/detection/participants")
        expect(mod.get_by_text("I run the reference lab.")).to_be_visible()
        mod.get_by_role("button", name="Approve").first.click()
        expect(mod.get_by_text("Wanjiru Kamau is a participant now")).to_be_visible()
        # Before it opens, the discussion says when it opens.
        member.goto(live_server + "/conferences/detection/discussion")
        expect(member.get_by_text("This discussion opens on").first).to_be_visible()
        # A week later the worker's schedule opens it and starts round 1.
        clock.freeze(T0 + timedelta(days=7, hours=1))
        schedule.run()
        member.reload()
        member.get_by_role("link", name="Round 1: Sampling").click()
        member.get_by_label("Your reply").fill("We take ten samples per lot.")
        member.get_by_role("button", name="Post the reply").click()
        expect(member.get_by_text("A moderator will look at your reply")).to_be_visible()
        mod.goto(live_server + "/conferences/detection/moderation")
        expect(mod.get_by_text("We take ten samples per lot.")).to_be_visible()
        mod.get_by_role("button", name="Approve and publish").click()
        expect(mod.get_by_text("Nothing is waiting")).to_be_visible()
        mod.goto(live_server + "/conferences/detection")
        mod.get_by_role("link", name="Post a summary").click()
        mod.get_by_label("Summary of the round").fill("Labs sample **each lot**.")
        mod.get_by_role("button", name="Post the summary").click()
        expect(mod.get_by_text("summary", exact=True).first).to_be_visible()
        mod.goto(live_server + "/conferences/detection/statistics")
        assert mod.get_by_role("meter").get_attribute("value") == "1.0"

        # Two weeks later it closes; nobody can post any more.
        clock.freeze(T0 + timedelta(days=21, hours=1))
        schedule.run()
        member.goto(live_server + "/conferences/detection/discussion")
        expect(member.get_by_text("This discussion closed on").first).to_be_visible()
        # The Secretariat compiles, edits and publishes the proceedings.
        sec.goto(live_server + "/conferences/detection/proceedings/edit")
        sec.get_by_role("button", name="Compile the draft").click()
        assert sec.get_by_label("Moderators' summary of round 1: Sampling").input_value() == \
            "Labs sample **each lot**."
        sec.get_by_label("Introduction").fill("Twelve laboratories compared methods.")
        sec.get_by_role("button", name="Save the draft").click()
        expect(sec.get_by_text("The draft is saved")).to_be_visible()
        sec.get_by_role("link", name="Preview the draft").click()
        expect(sec.get_by_text("Draft preview")).to_be_visible()
        sec.goto(live_server + "/conferences/detection/proceedings/edit")
        sec.once("dialog", lambda dialog: dialog.accept())
        sec.get_by_role("button", name="Publish the proceedings").click()
        expect(sec.get_by_text("The proceedings are published")).to_be_visible()
        # Anyone reads them; the PDF downloads.
        page.goto(live_server + "/conferences/detection/proceedings")
        expect(page.get_by_role("heading", name="Proceedings of the e-conference")).to_be_visible()
        expect(page.get_by_text("1. Wanjiru Kamau, National Biosafety Authority, Kenya")
               ).to_be_visible()
        expect(page.get_by_text("Twelve laboratories compared methods.")).to_be_visible()
        page.screenshot(path=str(tmp_path / "proceedings.png"), full_page=True)
        pdf = page.request.get(live_server + "/conferences/detection/proceedings.pdf")
        assert pdf.ok and pdf.body().startswith(b"%PDF")
        # The discussion itself stays closed to the visitor.
        response = page.goto(live_server + "/conferences/detection/discussion")
        assert response.status == 404
    finally:
        for context in contexts:
            context.close()
