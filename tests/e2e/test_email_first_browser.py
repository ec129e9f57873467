"""The Secretariat's email pages and a trimmed reply's "Show quoted text", in headless
Chromium with JavaScript off, at desktop and phone widths (screenshots in
HUB_SCREENSHOTS when set)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from forums import services as forums
from forums.models import Board
from hub.extensions import db
from hub.models import Role

pytestmark = pytest.mark.browser


def _shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("HUB_SCREENSHOTS") or tmp_path)


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_defaults_announce_and_quoted_text_without_javascript(live_server, chromium, smtp,
                                                             run_jobs, make_member,
                                                             tmp_path: Path):
    news = Board(slug="announcements", name="Announcements", visibility="public",
                 posting="moderators", position=1)
    risk = Board(slug="risk", name="Risk assessment", visibility="members", posting="all",
                 position=2)
    db.session.add_all([news, risk])
    db.session.commit()
    make_member("secretariat@example.org", role=Role.SECRETARIAT, name="The Secretariat")
    kenyan = make_member("wanjiru@example.org", name="Wanjiru Kamau", country="KE")
    post = forums.create_topic(kenyan, risk, "Maize trials", "We agree.\n\n> Shall we?",
                               source="email",
                               elided="On Mon, 5 Feb 2024, Ana <ana@example.org> wrote:\n"
                                      "> Shall we?\n> Ana")
    shots = _shots(tmp_path)
    for width in (1280, 375):
        context = chromium.new_context(locale="en-GB", java_script_enabled=False,
                                       viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            page.goto(live_server + "/login")
            page.get_by_label("Email address").fill("secretariat@example.org")
            page.get_by_label("Password").fill("correct horse battery")
            page.get_by_role("button", name="Sign in").click()
            page.goto(live_server + "/lists/defaults")
            expect(page.get_by_role("heading", name="Email defaults for new members")
                   ).to_be_visible()
            page.screenshot(path=str(shots / f"defaults-{width}.png"), full_page=True)
            if width == 1280:
                page.get_by_label("Risk assessment").check()
                page.get_by_role("button", name="Save the defaults").click()
                expect(page.get_by_text("The defaults are saved.")).to_be_visible()
            page.goto(live_server + "/lists/announce")
            page.screenshot(path=str(shots / f"announce-{width}.png"), full_page=True)
            if width == 1280:
                page.get_by_label("The members in a country").check()
                page.get_by_label("Country", exact=True).select_option("KE")
                page.get_by_label("Subject").fill("Workshop in Nairobi")
                page.get_by_label("Message (Markdown)").fill("Register by **Friday**.")
                page.get_by_role("button", name="Post and send").click()
                expect(page.get_by_text("goes to 1 member.")).to_be_visible()
            page.goto(live_server + f"/forums/posts/{post.id}")
            expect(page.get_by_text("Show quoted text")).to_be_visible()
            page.get_by_text("Show quoted text").click()
            expect(page.get_by_text("Ana <ana@example.org> wrote:")).to_be_visible()
            page.screenshot(path=str(shots / f"quoted-{width}.png"), full_page=True)
            page.goto(live_server + "/lists/settings")
            page.screenshot(path=str(shots / f"settings-{width}.png"), full_page=True)
        finally:
            context.close()
    run_jobs()
    assert [m["Subject"] for m in smtp.to(kenyan.email)] == [
        "[announcements] Workshop in Nairobi"]
