"""The listserv's pages: help, the member's email settings, and the Secretariat's log of
received mail (verdicts, reasons, reprocessing) and failed deliveries."""

from __future__ import annotations

import pytest

from forums import subscriptions
from hub.extensions import db
from hub.models import Role
from listserv.models import Delivery, InboundMessage
from tests.listserv.helpers import compose, inbound_rows


@pytest.fixture
def secretariat(make_member, auth):
    member = make_member(role=Role.SECRETARIAT)
    auth.login(member)
    return member


def test_help_lists_the_addresses_a_visitor_may_see(app, client, board, make_board,
                                                    make_group):
    make_board("open-news", visibility="public")
    hidden = make_group("hidden-group")
    make_board("hidden", visibility="group", group_id=hidden.id)
    page = client.get("/lists/").get_data(as_text=True)
    assert "open-news@lists.hub.test" in page and "open-news-request@lists.hub.test" in page
    assert "hidden@lists.hub.test" not in page
    assert "risk@lists.hub.test" not in page  # a members' board, and nobody is signed in


def test_settings_change_the_mode_of_a_board(app, client, auth, make_member, board):
    member = make_member()
    auth.login(member)
    page = client.get("/lists/settings")
    assert page.status_code == 200 and "risk@lists.hub.test" in page.get_data(as_text=True)
    client.post("/lists/settings", data={"board": "risk", "mode": "weekly"})
    assert subscriptions.subscription_mode(member, board=board) == "weekly"
    client.post("/lists/settings", data={"delivery": "off"})
    db.session.refresh(member)
    assert member.delivery_disabled


def test_settings_need_a_login(app, client):
    assert client.get("/lists/settings").status_code == 302


def test_the_mail_log_is_for_the_secretariat(app, client, auth, make_member):
    auth.login(make_member())
    assert client.get("/lists/mail").status_code == 403


def test_the_log_shows_verdicts_and_a_quarantined_message_can_be_reprocessed(
        app, client, secretariat, gateway, board, make_member):
    member = make_member()
    broken = (f"From: {member.email}\r\nTo: risk@lists.hub.test\r\nSubject: Field report\r\n"
              "Message-ID: <q1@example.org>\r\nMIME-Version: 1.0\r\n"
              'Content-Type: multipart/mixed; boundary="zz"\r\n\r\n'
              "--zz\r\nContent-Type: text/plain\r\n\r\nPart one\r\n").encode()
    gateway.lmtp(compose(sender="x@example.com", to="risk@lists.hub.test", subject="Spam"),
                 "risk@lists.hub.test")
    gateway.lmtp(broken.replace(b"--zz\r\n", b""), "risk@lists.hub.test")
    rows = inbound_rows()
    assert [r.status for r in rows] == ["rejected", "quarantined"]

    page = client.get("/lists/mail").get_data(as_text=True)
    assert "Spam" in page and "rejected" in page and "quarantined" in page
    assert "Only members of the network" in page
    detail = client.get(f"/lists/mail/{rows[1].id}").get_data(as_text=True)
    assert "boundary" in detail and "Process again" in detail

    # Nothing to recover from it: the Secretariat drops it.
    client.post(f"/lists/mail/{rows[1].id}/drop")
    db.session.refresh(rows[1])
    assert rows[1].status == "dropped"


def test_reprocessing_posts_a_message_refused_before_the_sender_joined(
        app, client, secretariat, gateway, board, make_member):
    raw = compose(sender="newcomer@example.org", to="risk@lists.hub.test",
                  subject="Hello all", body="Glad to join.")
    gateway.lmtp(raw, "risk@lists.hub.test", mail_from="newcomer@example.org")
    (row,) = inbound_rows()
    assert row.status == "rejected"
    make_member(email="newcomer@example.org")  # the Secretariat approved them since
    client.post(f"/lists/mail/{row.id}/reprocess")
    db.session.rollback()
    row = db.session.get(InboundMessage, row.id)
    assert row.status == "posted" and row.post.body == "Glad to join."


def test_failed_deliveries_can_be_retried(app, client, secretariat, smtp, run_jobs,
                                          make_member, board, subscribe, start_topic):
    reader = make_member()
    subscribe(reader, board)
    smtp.fail_next.append("550 5.2.1 Mailbox disabled")
    start_topic(make_member(), board)
    run_jobs()
    row = db.session.scalar(db.select(Delivery))
    assert row.status == "failed"
    page = client.get("/lists/deliveries").get_data(as_text=True)
    assert reader.email in page and "550" in page
    client.post(f"/lists/deliveries/{row.id}/retry")
    run_jobs()
    assert len(smtp.to(reader.email)) == 1


def test_one_save_sets_every_board_of_the_email_settings(app, client, auth, make_member,
                                                          board):
    member = make_member()
    auth.login(member)
    page = client.get("/lists/settings").get_data(as_text=True)
    assert page.count('type="submit">Save</button>') == 1
    assert f'name="mode-{board.slug}"' in page
    client.post("/lists/settings", data={f"mode-{board.slug}": "daily"})
    assert subscriptions.subscription_mode(member, board=board) == "daily"
