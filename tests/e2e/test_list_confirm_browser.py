"""A forged "unsubscribe" by email changes nothing; the member confirms the real request
on the page its link opens, in headless Chromium with JavaScript off."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from forums import subscriptions
from forums.models import Board
from hub.extensions import db
from listserv import inbound
from tests.listserv.helpers import compose

pytestmark = pytest.mark.browser


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_confirming_a_change_on_the_web_needs_the_button(live_server, chromium, smtp,
                                                         run_jobs, make_member,
                                                         tmp_path: Path):
    board = Board(slug="risk", name="Risk assessment", visibility="members", posting="all")
    db.session.add(board)
    db.session.commit()
    member = make_member("wanjiru@example.org", name="Wanjiru Kamau")
    subscriptions.set_subscription(member, board, "each")
    request = "risk-request@lists.hub.test"
    inbound.ingest(compose(sender=member.email, to=request, subject="digest weekly"),
                   request, "mallory@evil.example", "smtp")
    run_jobs()
    [mail] = smtp.to(member.email)
    link = re.search(r"http://127\.0\.0\.1:\d+/lists/confirm/\S+",
                     mail.get_body(preferencelist=("plain",)).get_content()).group(0)

    context = chromium.new_context(locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(link)
        expect(page.get_by_role("heading", name="Confirm your request")).to_be_visible()
        expect(page.get_by_text("Receive one digest of Risk assessment a week.")).to_be_visible()
        page.screenshot(path=str(tmp_path / "confirm.png"), full_page=True)
        # The visit did nothing.
        assert subscriptions.subscription_mode(member, board=board) == "each"
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_text("You now receive one digest of Risk assessment a week.")
               ).to_be_visible()
        page.screenshot(path=str(tmp_path / "confirmed.png"), full_page=True)
        db.session.rollback()
        assert subscriptions.subscription_mode(member, board=board) == "weekly"
        page.goto(link)
        expect(page.get_by_text("This request was confirmed already")).to_be_visible()
        page.screenshot(path=str(tmp_path / "used.png"), full_page=True)
    finally:
        context.close()
