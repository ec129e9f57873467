"""Every page this part of the hub changed, in headless Chromium at 1280 and 375 px: axe-core
finds no WCAG 2.1 A/AA violation, pages stay under 100 KB, the menu fits on one line at
1280 px and folds into a menu at 375 px. With HUB_SCREENSHOTS=DIR the pages are kept as
PNGs there, to look at."""

from __future__ import annotations

import os
from typing import Any

import pytest

from forums import services
from forums.models import Board
from hub.content import set_translations
from hub.extensions import db
from hub.models import MemberStatus, Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

WIDTHS = (1280, 375)


def _sign_in(page: Any, live_server: str, email: str) -> None:
    page.goto(live_server + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _network(make_member: Any) -> dict[str, Any]:
    secretariat = make_member("sec-a11y@example.org", name="Secretariat Desk",
                              role=Role.SECRETARIAT)
    lucia = make_member("lucia-a11y@example.org", name="Lucía Fernández", language="es",
                        organization="INTA")
    make_member("pending-a11y@example.org", name="Pending Applicant",
                status=MemberStatus.UNVERIFIED, email_verified_at=None)
    board = Board(slug="risk", name="Risk assessment", description="Annex III in practice",
                  category="Thematic areas", visibility="public", posting="all",
                  translations={})
    set_translations(board, {"es": {"name": "Evaluación del riesgo",
                                    "category": "Áreas temáticas"}})
    db.session.add(board)
    db.session.commit()
    first = services.create_topic(secretariat, board, "Stacked events",
                                  "How do you **assess** them?")
    services.create_reply(lucia, first.topic, "> How do you assess them?\n\nCase by case.",
                          parent=first)
    return {"secretariat": secretariat, "lucia": lucia, "board": board,
            "topic_id": first.topic_id}


def _check(page: Any, url: str, name: str, axe_violations: Any) -> list[str]:
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        response = page.goto(url)
        assert response is not None and response.status == 200, (url, response.status)
        size = len(response.body())
        if size >= 100_000:
            problems.append(f"{name}: {size} bytes")
        problems += [f"{name} at {width}px: {v}" for v in axe_violations(page)]
        folder = os.environ.get("HUB_SCREENSHOTS")
        if folder:
            page.screenshot(path=os.path.join(folder, f"{name}-{width}.png"), full_page=True)
    return problems


def test_changed_pages_are_accessible_and_light(live_server, chromium, make_member,
                                                axe_violations):
    cast = _network(make_member)
    # axe-core is injected by the test: the hub's own CSP rightly forbids inline scripts.
    context = chromium.new_context(locale="en-GB", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    try:
        _sign_in(page, live_server, cast["lucia"].email)
        for name, path in (("forums-es", "/forums/"), ("board-es", "/forums/risk"),
                           ("topic-es", f"/forums/topics/{cast['topic_id']}"),
                           ("directory-es", "/members/?q=lucia"),
                           ("profile-es", f"/members/{cast['lucia'].id}"),
                           ("email-settings-es", "/lists/settings")):
            problems += _check(page, live_server + path, name, axe_violations)
        page.goto(live_server + "/forums/")
        # Spanish reader: the board's Spanish name; the description is not translated, so
        # it shows in English with its mark.
        assert page.get_by_text("Evaluación del riesgo").count() >= 1
        context.clear_cookies()
        _sign_in(page, live_server, cast["secretariat"].email)
        for name, path in (("manage-board", "/forums/manage/risk"),
                           ("areas", "/secretariat/areas"), ("groups", "/groups/"),
                           ("applications", "/secretariat/applications"),
                           ("mailbox", "/secretariat/mailbox"),
                           ("conference-new", "/conferences/new"),
                           ("home", "/")):
            problems += _check(page, live_server + path, name, axe_violations)
        # The Secretariat's menu on one line at 1280 px; folded at 375 px.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(live_server + "/")
        bar = page.locator("header.site .bar").bounding_box()
        assert bar is not None and bar["height"] < 60, bar
        assert page.locator("details.narrow-menu").is_hidden()
        page.set_viewport_size({"width": 375, "height": 900})
        page.goto(live_server + "/")
        assert page.locator("nav.wide").is_hidden()
        page.locator("details.narrow-menu summary").click()
        assert page.locator("details.narrow-menu nav a", has_text="Forums").is_visible()
    finally:
        context.close()
    assert problems == []
