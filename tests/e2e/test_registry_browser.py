"""Issue 6's "done when", in headless Chromium: a national focal point registers its
country's needs, the Secretariat publishes them, and a visitor (a donor) finds them with
the facets and sees the matching opportunity and why it matches."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hub.models import Role
from hub.registry import actions

pytestmark = pytest.mark.browser


def _sign_in(page, live_server, email):
    page.goto(live_server + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()


def test_needs_registered_published_found_and_matched(live_server, page, make_member):
    secretariat = make_member("sec@example.org", role=Role.SECRETARIAT, name="Amina Diallo")
    make_member("focal@example.org", name="Wanjiru Kamau", country="KE",
                organization="National Biosafety Authority")
    course = actions.create_record(secretariat, "opportunities", {
        "title": "Regional course on risk assessment", "type": "training",
        "regions": ["africa"], "thematic_areas": ["risk-assessment"]}, state="published")

    _sign_in(page, live_server, "focal@example.org")
    page.get_by_role("link", name="Registry").first.click()
    page.get_by_role("link", name="Country needs").first.click()
    page.get_by_role("link", name="Add country need").click()
    assert page.get_by_label("Country (required)").input_value() == "KE"
    page.get_by_label("Risk assessment").check()
    page.get_by_label("Needs, most important first (required)").fill(
        "Train the regulators who review GM maize dossiers\nEquip the reference laboratory")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("heading", name="Capacity needs of Kenya")).to_be_visible()
    expect(page.get_by_text("Waiting for review").first).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, live_server, "sec@example.org")
    page.get_by_role("link", name="Secretariat").click()
    page.get_by_role("link", name="Registry: records to review").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Nothing is waiting for review")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    page.goto(live_server + "/registry/")
    page.get_by_role("link", name="Country needs").first.click()
    page.get_by_role("complementary").get_by_role("link", name="Kenya").click()
    page.get_by_role("link", name="Capacity needs of Kenya").click()
    matches = page.locator("section.matches")
    expect(matches.get_by_role("link", name=course.title)).to_be_visible()
    expect(matches.get_by_text("Region: African Group")).to_be_visible()
    expect(page.get_by_text("Train the regulators who review GM maize dossiers")).to_be_visible()
