"""Two people read the same topic in two headless Chromium browsers: a reply posted in one
appears in the other without a reload, and each sees how many are reading."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from forums import services
from forums.models import Board
from hub.extensions import db
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "HUB_REDIS_URL": None}  # one process: no message queue needed


def _sign_in(page: Any, live_server: str, email: str) -> None:
    page.goto(live_server + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_reply_in_one_browser_appears_in_the_other(live_server, chromium, make_member):
    wanjiru = make_member("wanjiru@example.org", name="Wanjiru Kamau")
    lucia = make_member("lucia@example.org", name="Lucía Fernández")
    board = Board(slug="risk", name="Risk assessment", visibility="public", posting="all")
    db.session.add(board)
    db.session.commit()
    first = services.create_topic(wanjiru, board, "Stacked events", "How do you assess them?")
    url = f"{live_server}/forums/topics/{first.topic_id}"

    contexts = [chromium.new_context(locale="en-GB") for _ in range(2)]
    try:
        writer, reader = (context.new_page() for context in contexts)
        for page in (writer, reader):
            page.set_default_timeout(10_000)
        _sign_in(writer, live_server, lucia.email)
        _sign_in(reader, live_server, wanjiru.email)
        for page in (writer, reader):
            page.goto(url)
            page.locator("#live:not([hidden])").wait_for()
        reader.evaluate("window.stillTheSamePage = true")
        reader.get_by_text("2 people are reading now").wait_for()

        writer.get_by_label("Your reply").fill("We assess each **single event** first.")
        writer.get_by_role("button", name="Post the reply").click()

        arrived = reader.locator("article.post", has_text="We assess each single event first.")
        arrived.wait_for()
        assert arrived.locator("strong").inner_text() == "single event"
        assert reader.evaluate("window.stillTheSamePage") is True  # no reload happened
        # Adapted to this reader: a member who may reply and report it.
        expect(arrived.get_by_role("link", name="Reply")).to_be_visible()
        expect(arrived.get_by_role("link", name="Report")).to_be_visible()
        assert reader.locator("article.post").count() == 2
    finally:
        for context in contexts:
            context.close()
