"""A new visitor applies, verifies with the link from the email that crossed SMTP, is
approved by the Secretariat and signs in, all in headless Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from hub.extensions import db
from hub.models import Member, MemberStatus, Role

pytestmark = pytest.mark.browser


def test_apply_verify_approve_login(live_server, page, smtp, run_jobs, make_member):
    make_member("secretariat@example.org", role=Role.SECRETARIAT, name="Amina Diallo")

    page.goto(live_server + "/")
    page.get_by_role("link", name="Join the network").first.click()
    page.get_by_label("Full name").fill("Tomás Ruiz")
    page.get_by_label("Email address").fill("tomas@example.org")
    page.get_by_label("Password", exact=True).fill("a very good password")
    page.get_by_label("Repeat the password").fill("a very good password")
    page.get_by_label("Organization", exact=True).fill("SENASA")
    page.get_by_label("Type of organization").select_option("government")
    page.get_by_label("Country").select_option("AR")
    page.get_by_label("Risk assessment").check()
    page.get_by_label("Time zone").select_option("America/Argentina/Buenos_Aires")
    page.get_by_label("I accept the network's rules").check()
    page.get_by_role("button", name="Send my application").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    run_jobs()
    [mail] = smtp.to("tomas@example.org")
    link = re.search(r"http://127\.0\.0\.1:\d+/verify/\S+",
                     mail.get_body(preferencelist=("plain",)).get_content()).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Thank you, your address is confirmed")).to_be_visible()
    # The Secretariat approves in its own browser session.
    page.get_by_role("banner").get_by_role("link", name="Sign in").click()
    page.get_by_label("Email address").fill("secretariat@example.org")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Secretariat").click()
    page.get_by_role("link", name="Applications").click()
    expect(page.get_by_text("Tomás Ruiz")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Tomás Ruiz is approved")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    member = db.session.scalar(db.select(Member).where(Member.email == "tomas@example.org"))
    db.session.refresh(member)
    assert member.status == MemberStatus.ACTIVE

    page.get_by_role("banner").get_by_role("link", name="Sign in").click()
    page.get_by_label("Email address").fill("tomas@example.org")
    page.get_by_label("Password").fill("a very good password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Tomás Ruiz")).to_be_visible()
def test_the_interface_follows_the_browser_language(live_server, chromium):
    context = chromium.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(live_server + "/login")
        assert page.locator("html").get_attribute("lang") == "fr"
        expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    finally:
        context.close()
