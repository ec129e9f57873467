"""`hub gateway ingest` (MTA pipe) and `hub gateway check` (dry run) from the command
line, and the `hub dev` service registration."""

from __future__ import annotations

import json

from forums.models import Post
from hub.extensions import db
from listserv.models import InboundMessage
from tests.listserv.helpers import compose


def test_ingest_posts_and_exits_zero(app, runner, board, make_member):
    member = make_member()
    raw = compose(sender=member.email, to="risk@lists.hub.test", subject="By pipe",
                  body="Posted through the MTA pipe.")
    result = runner.invoke(args=["gateway", "ingest", "--rcpt", "risk@lists.hub.test",
                                 "--sender", member.email], input=raw)
    assert result.exit_code == 0, result.output
    post = db.session.scalar(db.select(Post))
    assert post.body == "Posted through the MTA pipe." and post.source == "email"
    assert db.session.scalar(db.select(InboundMessage.channel)) == "pipe"


def test_ingest_exits_67_for_an_unknown_recipient(app, runner, board):
    raw = compose(sender="a@example.org", to="nobody@lists.hub.test")
    result = runner.invoke(args=["gateway", "ingest", "--rcpt", "nobody@lists.hub.test"],
                           input=raw)
    assert result.exit_code == 67
    assert db.session.scalar(db.select(db.func.count(InboundMessage.id))) == 0


def test_ingest_exits_75_when_the_message_cannot_be_kept(app, runner, board, monkeypatch):
    """No commit succeeds (the disk is full): neither the post nor its quarantined copy
    is kept, so the MTA must try again."""
    def broken(*args, **kwargs):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(db.session, "commit", broken)
    raw = compose(sender="a@example.org", to="risk@lists.hub.test")
    result = runner.invoke(args=["gateway", "ingest", "--rcpt", "risk@lists.hub.test"],
                           input=raw)
    assert result.exit_code == 75
    monkeypatch.undo()
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(InboundMessage.id))) == 0


def test_check_prints_one_json_line_per_file_and_stores_nothing(app, runner, board,
                                                                make_member, tmp_path):
    member = make_member(email="raj@example.org")
    good = tmp_path / "good.eml"
    good.write_bytes(compose(
        sender=member.email, to="risk@lists.hub.test", subject="Re: [risk] Field trials",
        body="Count me in.\n\n-- \nRaj Patel\nICAR"))
    stranger = tmp_path / "stranger.eml"
    stranger.write_bytes(compose(sender="x@example.com", to="risk@lists.hub.test"))
    away = tmp_path / "away.eml"
    away.write_bytes(compose(sender=member.email, to="risk@lists.hub.test",
                             subject="Out of office", body="Back soon"))
    result = runner.invoke(args=["gateway", "check", str(good), str(stranger), str(away)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [set(line) for line in lines] == [
        {"file", "verdict", "reason", "board", "topic_id", "body"}] * 3
    assert lines[0] == {"file": str(good), "verdict": "accept", "reason": lines[0]["reason"],
                        "board": "risk", "topic_id": None, "body": "Count me in."}
    assert (lines[1]["verdict"], lines[1]["body"]) == ("reject", None)
    assert lines[2]["verdict"] == "discard"
    assert db.session.scalar(db.select(db.func.count(InboundMessage.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Post.id))) == 0


def test_check_names_the_topic_a_reply_would_join(app, runner, board, make_member,
                                                  start_topic, tmp_path):
    member = make_member()
    first = start_topic(make_member(), board)
    path = tmp_path / "reply.eml"
    path.write_bytes(compose(sender=member.email, to="risk@lists.hub.test", subject="Re: x",
                             headers={"In-Reply-To": first.message_id}, body="Agreed."))
    result = runner.invoke(args=["gateway", "check", str(path)])
    line = json.loads(result.output)
    assert (line["verdict"], line["topic_id"], line["body"]) == ("accept", first.topic_id,
                                                                 "Agreed.")


def test_the_gateway_is_a_hub_dev_service(app):
    from listserv import gateway

    assert app.extensions["hub_services"]["gateway"] is gateway.service


def test_hub_gateway_serves_lmtp_and_smtp_until_terminated(app, board, make_member,
                                                           tmp_path):
    """The production role in its own process: a message over LMTP becomes a post."""
    import os
    import signal
    import smtplib
    import subprocess
    import sys
    import time

    from tests.listserv.helpers import free_port

    member = make_member()
    db.session.commit()
    lmtp_port, smtp_port = free_port(), free_port()
    env = dict(os.environ, HUB_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               HUB_SECRET_KEY=app.config["SECRET_KEY"],
               HUB_MAIL_DOMAIN=app.config["HUB_MAIL_DOMAIN"])
    log = (tmp_path / "gateway.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from hub.cli import main; main()", "gateway",
         "--host", "127.0.0.1", "--lmtp-port", str(lmtp_port), "--smtp-port", str(smtp_port)],
        env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = smtplib.LMTP("127.0.0.1", lmtp_port)
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "gateway.log").read_text()
                time.sleep(0.1)
        with client:
            client.sendmail(member.email, ["risk@lists.hub.test"],
                            compose(sender=member.email, to="risk@lists.hub.test",
                                    subject="From another process", body="Hello."))
        with smtplib.SMTP("127.0.0.1", smtp_port) as smtp_client:
            assert smtp_client.noop()[0] == 250
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(20)
        log.close()
    assert code == 0, (tmp_path / "gateway.log").read_text()
    db.session.rollback()
    assert db.session.scalar(db.select(Post.body)) == "Hello."


def test_check_says_what_commands_and_confirmations_would_do(app, runner, board,
                                                             make_member, tmp_path):
    from forums import subscriptions
    from hub.models import Job
    from listserv import confirmations
    from listserv.models import CommandRequest

    member = make_member(email="raj@example.org")
    subscriptions.set_subscription(member, board, "each")
    result = runner.invoke(args=["gateway", "ingest", "--rcpt", "risk-request@lists.hub.test",
                                 "--sender", member.email],
                           input=compose(sender=member.email, to="risk-request@lists.hub.test",
                                         subject="unsubscribe"))
    assert result.exit_code == 0, result.output
    request = db.session.scalar(db.select(CommandRequest))
    token = confirmations.token(request)
    files = {
        "ask.eml": compose(sender=member.email, to="risk-request@lists.hub.test",
                           subject="digest weekly"),
        "help.eml": compose(sender=member.email, to="risk-request@lists.hub.test",
                            subject="help"),
        "stranger.eml": compose(sender="x@example.com", to="risk-request@lists.hub.test",
                                subject="unsubscribe"),
        "reply.eml": compose(sender=member.email, to=confirmations.reply_address(request),
                             subject=f"Re: confirm {token}", body=""),
        "forged.eml": compose(sender=member.email, to="risk-request@lists.hub.test",
                              subject=f"confirm {token[:-3]}abc"),
        "other.eml": compose(sender="someone@example.org", to="risk-request@lists.hub.test",
                             subject=f"confirm {token}"),
    }
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
    stored = db.session.scalar(db.select(db.func.count(InboundMessage.id)))
    jobs = db.session.scalar(db.select(db.func.count(Job.id)))
    result = runner.invoke(args=["gateway", "check", *(str(tmp_path / n) for n in files)])
    assert result.exit_code == 0, result.output
    lines = {line["file"].rsplit("/", 1)[1]: line
             for line in map(json.loads, result.output.splitlines())}
    assert lines["ask.eml"]["verdict"] == "command"
    assert lines["ask.eml"]["reason"] == ("digest weekly: a confirmation request would go "
                                          "to raj@example.org; nothing changes until it is "
                                          "confirmed.")
    assert lines["help.eml"]["reason"] == "help: answered at once."
    assert "x@example.com is not a member, nothing changes" in lines["stranger.eml"]["reason"]
    assert lines["reply.eml"]["verdict"] == "confirm"
    assert lines["reply.eml"]["reason"] == (f"raj@example.org confirms request {request.id} "
                                            "for risk: unsubscribe.")
    assert (lines["forged.eml"]["verdict"], lines["other.eml"]["verdict"]) == ("reject",
                                                                               "reject")
    assert "not valid" in lines["forged.eml"]["reason"]
    assert "another email address" in lines["other.eml"]["reason"]
    assert all(line["board"] == "risk" for line in lines.values())
    # A dry run: nothing stored, nothing sent, nothing confirmed.
    assert db.session.scalar(db.select(db.func.count(InboundMessage.id))) == stored
    assert db.session.scalar(db.select(db.func.count(Job.id))) == jobs
    assert db.session.scalar(db.select(db.func.count(CommandRequest.id))) == 1
    assert db.session.get(CommandRequest, request.id).confirmed_at is None
    assert subscriptions.subscription_mode(member, board=board) == "each"
