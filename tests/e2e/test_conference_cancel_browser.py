"""Cancelling an e-conference in Chromium with JavaScript off: the Secretariat goes from
the Settings tab to the cancel page, gives the reason, and the conference's page and the
list show to anyone that it was cancelled, and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conferences import editing
from hub import clock
from hub.models import Role

pytestmark = pytest.mark.browser

T0 = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@pytest.fixture
def frozen():
    clock.freeze(T0)
    yield
    clock.freeze(None)


def test_the_secretariat_cancels_and_everyone_sees_why(live_server, chromium, make_member,
                                                       frozen, tmp_path: Path):
    secretariat = make_member("secretariat@example.org", role=Role.SECRETARIAT,
                              name="Amina Diallo")
    moderator = make_member("moderator@example.org", name="Carlos Mendoza")
    editing.create_conference(secretariat, editing.ConferenceData(
        slug="gene-drives", title="Gene drives: what regulators need",
        theme="Risk assessment of engineered gene drives",
        description="Four weeks on **gene drives**.", registration_opens_at=T0,
        opens_at=T0 + timedelta(days=14), closes_at=T0 + timedelta(days=35),
        moderators=[moderator.email], contact_name="The Secretariat",
        contact_email="secretariat@example.org"))
    context = chromium.new_context(locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(live_server + "/login")
        page.get_by_label("Email address").fill("secretariat@example.org")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(live_server + "/conferences/gene-drives")
        page.get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="Cancel this e-conference").click()
        page.get_by_label("Why it is cancelled").fill(
            "The partner organization could not confirm its moderators in time.\n"
            "We will announce new dates on this page.")
        page.get_by_role("button", name="Cancel the e-conference").click()
        expect(page.get_by_text("The e-conference is cancelled.")).to_be_visible()
        context.clear_cookies()
        page.goto(live_server + "/conferences/gene-drives")
        expect(page.get_by_role("heading", name="This e-conference was cancelled")
               ).to_be_visible()
        expect(page.get_by_text("We will announce new dates on this page.")).to_be_visible()
        expect(page.get_by_role("link", name="Sign in to register")).to_have_count(0)
        page.screenshot(path=str(tmp_path / "cancelled-conference.png"), full_page=True)
        page.goto(live_server + "/conferences/")
        past = page.locator("h2:text('Past') + ul")
        expect(past.get_by_text("Gene drives: what regulators need")).to_be_visible()
        expect(past.get_by_text("Cancelled", exact=True)).to_be_visible()
        page.screenshot(path=str(tmp_path / "conference-list.png"), full_page=True)
    finally:
        context.close()
