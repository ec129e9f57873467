"""A coordination meeting in headless Chromium, with the clock moved instead of waiting:
the Secretariat announces a regional workshop, a member registers and submits her work
plan, the workshop takes place, the Secretariat records a recommendation she owns, she
marks it done, and an anonymous visitor sees it done on the public follow-up tracker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

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


def test_a_workshop_from_announcement_to_a_recommendation_done(
        live_server, chromium, page, make_member, frozen):
    make_member("secretariat@example.org", role=Role.SECRETARIAT, name="Amina Diallo")
    make_member("wanjiru@example.org", name="Wanjiru Kamau", country="KE",
                timezone="Africa/Nairobi")
    contexts = []

    def browser_for(email: str):  # noqa: ANN202
        context = chromium.new_context(locale="en-GB", java_script_enabled=False)
        contexts.append(context)
        return _sign_in(context, live_server, email)

    try:
        sec = browser_for("secretariat@example.org")
        sec.goto(live_server + "/meetings/")
        sec.get_by_role("link", name="New meeting").click()
        sec.get_by_label("Short name (slug)").fill("east-africa-workshop")
        sec.get_by_label("Title").fill("East Africa biosafety workshop")
        sec.get_by_label("Kind").select_option("workshop")
        sec.get_by_label("Level").select_option("regional")
        sec.get_by_label("Country where it is held").select_option("KE")
        sec.get_by_label("The meeting's time zone").select_option("Africa/Nairobi")
        sec.get_by_label("Starts").fill("2030-03-10T09:00")
        sec.get_by_label("Ends").fill("2030-03-11T17:00")
        sec.get_by_label("Venue").fill("Nairobi")
        sec.get_by_label("Places").fill("20")
        sec.get_by_role("button", name="Save").click()
        expect(sec.locator(".flash")).to_contain_text("The meeting is created")

        member = browser_for("wanjiru@example.org")
        member.goto(live_server + "/meetings/?level=regional&country=KE")
        member.get_by_role("link", name="East Africa biosafety workshop").click()
        expect(member.locator(".facts")).to_contain_text("Africa/Nairobi")
        member.get_by_role("button", name="Register").click()
        expect(member.locator(".flash")).to_contain_text("You are registered")
        member.get_by_role("link", name="Your submissions").click()
        member.get_by_label("What you submit").select_option("work_plan")
        member.get_by_label("Text").fill("Two national trainings in 2030.")
        member.get_by_role("button", name="Submit").click()
        expect(member.locator(".flash")).to_contain_text("Thank you")
        member.get_by_role("link", name="Pre-meeting document").click()
        expect(member.locator("main")).to_contain_text("Two national trainings in 2030.")

        clock.freeze(T0 + timedelta(days=12))  # the workshop has taken place
        sec.goto(live_server + "/meetings/east-africa-workshop/followup")
        sec.get_by_label("Recommendation", exact=True).fill(
            "Share national guidelines in a regional library.")
        sec.get_by_label("Owner: a member (email address)").fill("wanjiru@example.org")
        sec.get_by_label("Due date").fill("2030-06-30")
        sec.get_by_role("button", name="Add", exact=True).click()
        expect(sec.locator(".flash")).to_contain_text("Recommendation added")

        member.goto(live_server + "/meetings/east-africa-workshop/followup")
        rec = member.locator(".recs > li").first
        rec.get_by_label("Progress").fill("The library is online.")
        rec.get_by_label("Status").select_option("done")
        rec.get_by_role("button", name="Record progress").click()
        expect(member.locator(".flash")).to_contain_text("Progress recorded")

        page.goto(live_server + "/meetings/followup?status=done")
        expect(page.locator("table.rows")).to_contain_text(
            "Share national guidelines in a regional library.")
        expect(page.locator("table.rows")).to_contain_text("Done")
        page.goto(live_server + "/meetings/east-africa-workshop/followup")
        expect(page.locator(".recs")).to_contain_text("The library is online.")
    finally:
        for context in contexts:
            context.close()
