"""Held posts by email, over real sockets: every moderator of a pre-moderated board is
mailed the held post (a forum board, and a conference's board made through the
conferences' services: a premoderated group board with a moderator group), and answers
"approve" or "reject <reason>" to it through the gateway; everyone else is refused."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

import pytest

from forums import editing as forum_editing
from forums import moderation
from forums import services as forums
from forums.models import Board, Post
from hub import clock
from hub.extensions import db
from hub.models import AuditEntry, GroupMembership, Member, Role
from listserv import addresses
from listserv.moderation import read_decision
from tests.listserv.helpers import compose, inbound_rows

T0 = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
QUOTE = ("\n\nOn Mon, 11 Mar 2030, Biosafety Network <noreply@lists.hub.test> wrote:\n"
         "> Hello,\n> A reply waits for your approval.\n")


@dataclass
class World:
    board: Board
    moderators: list[Member]  # who must be mailed
    others: list[Member]  # who must not (the Secretariat or network moderators among them)
    author: Member
    reader: Member  # follows the board by email
    first_id: int  # the topic's first post, which the held post answers

    @property
    def moderator(self) -> Member:
        return self.moderators[0]

    def hold(self, body: str = "Field trials need two seasons of data.") -> Post:
        topic = db.session.get(Post, self.first_id).topic
        post = forums.create_reply(self.author, topic, body)
        assert post.status == "held"
        return post


def _forum_world(make_member, make_board, subscribe) -> World:
    sec = make_member("sec@example.org", name="Sara Secretariat", role=Role.SECRETARIAT)
    netmod = make_member("netmod@example.org", name="Nina Netmod", role=Role.MODERATOR)
    author = make_member("amina@example.org", name="Amina Diallo")
    reader = make_member("raj@example.org", name="Raj Patel")
    bystander = make_member("otto@example.org", name="Otto Bystander")
    make_member("gone@example.org", role=Role.MODERATOR, status="deactivated")
    board = make_board("vetted", name="Vetted discussion", premoderated=True)
    subscribe(reader, board)
    first = forums.create_topic(sec, board, "Drought-tolerant maize", "What data?")
    return World(board, [sec, netmod], [bystander, reader, author], author, reader, first.id)


def _conference_world(make_member) -> World:
    from conferences import agenda, editing, participation, schedule

    sec = make_member("sec@example.org", name="Sara Secretariat", role=Role.SECRETARIAT)
    netmod = make_member("netmod@example.org", name="Nina Netmod", role=Role.MODERATOR)
    carla = make_member("carla@example.org", name="Carla Moderator")
    author = make_member("amina@example.org", name="Amina Diallo")
    reader = make_member("raj@example.org", name="Raj Patel")
    clock.freeze(T0 - timedelta(days=1))
    conference = editing.create_conference(sec, editing.ConferenceData(
        slug="vetted", title="Vetted conference", description="On risk.",
        registration_opens_at=T0, opens_at=T0 + timedelta(days=7),
        closes_at=T0 + timedelta(days=21), premoderated=True, moderators=[carla.email]))
    agenda.add_round(carla, conference, agenda.RoundData(
        title="Problem formulation", question="How do you frame the problem?",
        opens_at=T0 + timedelta(days=7), closes_at=T0 + timedelta(days=21)))
    clock.freeze(T0 + timedelta(days=1))
    for member in (author, reader):
        participation.approve(carla, participation.apply(member, conference, "I work on it."))
    clock.freeze(T0 + timedelta(days=8))
    schedule.run()
    db.session.expire_all()
    board = db.session.get(Board, conference.board_id)
    topic = conference.rounds[0].topic
    assert board.moderator_group_id is not None and board.premoderated
    first_id = db.session.scalar(db.select(Post.id).where(Post.topic_id == topic.id,
                                                          Post.position == 1))
    return World(board, [carla], [sec, netmod, reader, author], author, reader, first_id)


@pytest.fixture(params=["forum", "conference"])
def world(request, app, smtp, run_jobs, make_member, make_board, subscribe):
    if request.param == "forum":
        built = _forum_world(make_member, make_board, subscribe)
    else:
        built = _conference_world(make_member)
    run_jobs()
    smtp.clear()
    yield built
    clock.freeze(None)


@pytest.fixture
def forum(app, smtp, run_jobs, make_member, make_board, subscribe):
    built = _forum_world(make_member, make_board, subscribe)
    run_jobs()
    smtp.clear()
    return built


def _notification(smtp, member):
    (msg,) = smtp.to(member.email)
    return msg, parseaddr(msg["Reply-To"])[1]


def _answer(gateway, smtp, run_jobs, world, post, body, *, moderator=None, sender=None,
            to=None):
    """The moderator's reply to their notification, through the gateway (LMTP)."""
    moderator = moderator or world.moderator
    if to is None:
        notification, to = _notification(smtp, moderator)
        headers = {"In-Reply-To": notification["Message-ID"]}
    else:
        headers = {}
    smtp.clear()
    sender = sender or moderator.email
    raw = compose(sender=sender, to=to, subject="Re: Waiting for approval", body=body,
                  headers=headers)
    assert gateway.lmtp(raw, to, mail_from=sender) == {}
    run_jobs()
    return db.session.get(Post, post.id)


def _decisions(post):
    return list(db.session.scalars(
        db.select(AuditEntry.action).where(AuditEntry.target_type == "post",
                                           AuditEntry.target_id == post.id)))


def test_every_moderator_is_mailed_the_held_post_and_no_one_else(world, smtp, run_jobs):
    post = world.hold()
    run_jobs()
    for moderator in world.moderators:
        msg, reply_to = _notification(smtp, moderator)
        assert reply_to == addresses.moderation_address(world.board.slug, post.id,
                                                        moderator.id)
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg["List-Id"] is None and msg["List-Post"] is None
        assert msg["List-Unsubscribe"] is None and msg["Precedence"] is None
        assert msg["Subject"].endswith(world.board.name + ": " + post.topic.title)
        text = msg.get_body(("plain",)).get_content()
        assert "Amina Diallo wrote a reply that waits for your approval" in text
        assert "Field trials need two seasons of data." in text
        assert f"http://hub.test/forums/moderation#q{post.id}" in text
        assert "approve" in text and "reject <reason>" in text
    for other in world.others:
        assert smtp.to(other.email) == []
    assert len(smtp.messages) == len(world.moderators)


def test_the_notification_is_in_each_moderators_language(forum, smtp, run_jobs):
    sec, netmod = forum.moderators
    sec.language, netmod.language = "es", "fr"
    db.session.commit()
    forum.hold()
    run_jobs()
    assert "Estimado/a Sara Secretariat:" in _notification(smtp, sec)[0].get_body(
        ("plain",)).get_content()
    assert "Bonjour Nina Netmod," in _notification(smtp, netmod)[0].get_body(
        ("plain",)).get_content()


def test_a_group_board_without_moderators_is_the_secretariats(app, smtp, run_jobs,
                                                               make_member, make_board,
                                                               make_group):
    sec = make_member(role=Role.SECRETARIAT)
    netmod = make_member(role=Role.MODERATOR)
    author = make_member()
    board = make_board("study", visibility="group", premoderated=True,
                       group_id=make_group("study", members=(author, netmod)).id)
    forums.create_topic(author, board, "Minutes", "Draft minutes.")
    run_jobs()
    assert len(smtp.to(sec.email)) == 1 and smtp.to(netmod.email) == []


def test_no_mail_for_a_post_decided_before_the_worker_came(forum, smtp, run_jobs):
    post = forum.hold()
    moderation.approve_post(forum.moderator, post)
    run_jobs()
    assert all("approval" not in m["Subject"] for m in smtp.messages)


def test_approve_by_email_publishes_and_sends_the_post_to_the_list(
        world, gateway, smtp, run_jobs, client, auth):
    post = world.hold()
    run_jobs()
    assert smtp.to(world.reader.email) == []
    post = _answer(gateway, smtp, run_jobs, world, post, "Approve" + QUOTE)

    assert post.status == "published"
    assert _decisions(post) == ["post.approve"]
    (copy,) = smtp.to(world.reader.email)  # the list's fan-out
    assert "Field trials need two seasons of data." in copy.get_body(("plain",)).get_content()
    (confirmation,) = smtp.to(world.moderator.email)
    assert confirmation.get_all("Auto-Submitted") == ["auto-replied"]
    assert "You approved the post by Amina Diallo" in confirmation.get_body(
        ("plain",)).get_content()
    (row,) = inbound_rows()
    assert (row.status, row.rule, row.post_id) == ("moderated", "moderation", post.id)
    auth.login("sec@example.org")
    log = client.get("/lists/mail").get_data(as_text=True)
    assert "moderated" in log and f"Post {post.id} approved by" in log


def test_reject_by_email_tells_the_author_why(world, gateway, smtp, run_jobs):
    post = world.hold()
    run_jobs()
    post = _answer(gateway, smtp, run_jobs, world, post,
                   "reject Please keep to the question\nof this round.\n\nCarla" + QUOTE)

    assert (post.status, post.reject_reason) == (
        "rejected", "Please keep to the question of this round.")
    assert _decisions(post) == ["post.reject"]
    (told,) = smtp.to(world.author.email)
    text = told.get_body(("plain",)).get_content()
    assert "Please keep to the question of this round." in text
    assert "Field trials need two seasons of data." in text  # their text, to revise
    assert smtp.to(world.reader.email) == []
    (confirmation,) = smtp.to(world.moderator.email)
    assert "You rejected the post by Amina Diallo" in confirmation.get_body(
        ("plain",)).get_content()


def test_a_spoofed_from_is_refused(forum, gateway, smtp, run_jobs, make_member):
    post = forum.hold()
    run_jobs()
    _, reply_to = _notification(smtp, forum.moderator)
    mallory = make_member("mallory@example.org")
    post = _answer(gateway, smtp, run_jobs, forum, post, "approve", sender=mallory.email,
                   to=reply_to)

    assert post.status == "held" and _decisions(post) == []
    (row,) = inbound_rows()
    assert (row.status, row.rule) == ("rejected", "sender")
    (notice,) = smtp.to(mallory.email)
    assert notice["Auto-Submitted"] == "auto-replied"
    assert smtp.to(forum.moderator.email) == []


def test_a_token_of_someone_who_does_not_moderate_is_refused(forum, gateway, smtp, run_jobs):
    post = forum.hold()
    member = forum.reader
    token_address = addresses.moderation_address(forum.board.slug, post.id, member.id)
    post = _answer(gateway, smtp, run_jobs, forum, post, "approve", moderator=member,
                   to=token_address)

    assert post.status == "held" and _decisions(post) == []
    (row,) = inbound_rows()
    assert (row.status, row.rule) == ("rejected", "moderation")
    (notice,) = smtp.to(member.email)
    assert "You do not moderate Vetted discussion" in notice.get_body(
        ("plain",)).get_content()


def test_a_moderator_removed_since_the_notification_is_refused(gateway, smtp, run_jobs,
                                                                make_member):
    world = _conference_world(make_member)
    try:
        run_jobs()
        smtp.clear()
        post = world.hold()
        run_jobs()
        _, reply_to = _notification(smtp, world.moderator)
        db.session.execute(db.delete(GroupMembership).where(
            GroupMembership.group_id == world.board.moderator_group_id,
            GroupMembership.member_id == world.moderator.id))
        db.session.commit()
        post = _answer(gateway, smtp, run_jobs, world, post, "approve", to=reply_to)
        assert post.status == "held"
        assert inbound_rows()[0].rule == "moderation"
    finally:
        clock.freeze(None)


def test_a_post_already_decided_on_the_web_is_explained(forum, gateway, smtp, run_jobs):
    post = forum.hold()
    run_jobs()
    sec, netmod = forum.moderators
    _, reply_to = _notification(smtp, netmod)
    moderation.approve_post(sec, post)
    post = _answer(gateway, smtp, run_jobs, forum, post, "reject Too late?",
                   moderator=netmod, to=reply_to)

    assert post.status == "published" and _decisions(post) == ["post.approve"]
    (notice,) = [m for m in smtp.to(netmod.email) if m["Auto-Submitted"] == "auto-replied"]
    assert ("was already approved by Sara Secretariat and is published"
            in notice.get_body(("plain",)).get_content())
    (row,) = inbound_rows()
    assert (row.status, row.rule, row.post_id) == ("rejected", "moderation", post.id)


def test_reject_without_a_reason_asks_for_one(forum, gateway, smtp, run_jobs):
    post = forum.hold()
    run_jobs()
    post = _answer(gateway, smtp, run_jobs, forum, post, "REJECT" + QUOTE)

    assert post.status == "held" and _decisions(post) == []
    (notice,) = smtp.to(forum.moderator.email)
    text = notice.get_body(("plain",)).get_content()
    assert "write your reason after the word “reject”" in text
    assert "Nothing was changed" in notice["Subject"]


def test_a_reply_that_is_no_command_gets_the_instructions(forum, gateway, smtp, run_jobs):
    post = forum.hold()
    run_jobs()
    post = _answer(gateway, smtp, run_jobs, forum, post,
                   "Looks fine to me, but ask Raj first." + QUOTE)

    assert post.status == "held" and _decisions(post) == []
    (notice,) = smtp.to(forum.moderator.email)
    text = notice.get_body(("plain",)).get_content()
    assert "We could not read a decision in your reply" in text
    assert "reject <reason>" in text and "http://hub.test/forums/moderation" in text
    (row,) = inbound_rows()
    assert (row.status, row.rule) == ("rejected", "moderation")


def test_gateway_check_reports_the_decision_and_changes_nothing(forum, runner, smtp,
                                                                run_jobs, tmp_path):
    post = forum.hold()
    run_jobs()
    _, reply_to = _notification(smtp, forum.moderator)
    files = []
    for name, body in (("approve", "approve"), ("reject", "reject Off topic"),
                       ("unclear", "hmm")):
        path = tmp_path / f"{name}.eml"
        path.write_bytes(compose(sender=forum.moderator.email, to=reply_to, body=body))
        files.append(str(path))
    result = runner.invoke(args=["gateway", "check", *files])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(line["verdict"], line["board"], line["topic_id"]) for line in lines] == [
        ("moderate", "vetted", post.topic_id), ("moderate", "vetted", post.topic_id),
        ("reject", "vetted", None)]
    assert "approves post" in lines[0]["reason"]
    assert "rejects post" in lines[1]["reason"] and "Off topic" in lines[1]["reason"]
    assert db.session.get(Post, post.id).status == "held" and inbound_rows() == []


@pytest.mark.parametrize("text,verb,reason", [
    ("approve", "approve", ""),
    ("  Approve.\n\nThanks", "approve", ""),
    ("approve it later", "", ""),
    ("Reject: off topic", "reject", "off topic"),
    ("reject - repeats round one,\nsee the summary\n\nCarla", "reject",
     "repeats round one, see the summary"),
    ("reject\n\nNot about biosafety.", "reject", "Not about biosafety."),
    ("reject", "reject", ""),
    ("rejected", "", ""),
    ("", "", ""),
])
def test_reading_the_first_line(text, verb, reason):
    decision = read_decision(text)
    assert (decision.verb, decision.reason) == (verb, reason)



# -- edits of published posts that wait for approval ----------------------------------------

def _published_then_edited(world, run_jobs, smtp):
    post = world.hold()
    moderation.approve_post(world.moderator, post)
    run_jobs()
    smtp.clear()
    forum_editing.edit_post(world.author, post, "Field trials need three seasons of data.")
    edit = forum_editing.pending_edit(post)
    assert edit is not None and post.body == "Field trials need two seasons of data."
    run_jobs()
    return post, edit


def test_an_edit_waiting_is_mailed_to_the_moderators_with_the_changes(world, smtp, run_jobs):
    post, edit = _published_then_edited(world, run_jobs, smtp)
    for moderator in world.moderators:
        msg, reply_to = _notification(smtp, moderator)
        assert reply_to == addresses.edit_moderation_address(world.board.slug, edit.id,
                                                             moderator.id)
        text = msg.get_body(("plain",)).get_content()
        assert "Amina Diallo edited a published post" in text
        assert "-Field trials need two seasons of data." in text
        assert "+Field trials need three seasons of data." in text
    for other in world.others:
        assert smtp.to(other.email) == []


def test_approve_an_edit_by_email(world, gateway, smtp, run_jobs):
    post, edit = _published_then_edited(world, run_jobs, smtp)
    post = _answer(gateway, smtp, run_jobs, world, post, "approve" + QUOTE)
    assert post.body == "Field trials need three seasons of data." and post.edited_at
    assert _decisions(post) == ["post.approve", "post.edit_approve"]
    (confirmation,) = smtp.to(world.moderator.email)
    assert "You approved the edit by Amina Diallo" in confirmation.get_body(
        ("plain",)).get_content()
    assert smtp.to(world.reader.email) == []  # an edit is not sent to the list again


def test_reject_an_edit_by_email_keeps_the_published_text(world, gateway, smtp, run_jobs):
    world.author.language = "es"
    db.session.commit()
    post, edit = _published_then_edited(world, run_jobs, smtp)
    post = _answer(gateway, smtp, run_jobs, world, post,
                   "reject Two seasons is what the protocol says." + QUOTE)
    assert post.body == "Field trials need two seasons of data." and post.edited_at is None
    assert (edit.state, edit.reason) == ("rejected", "Two seasons is what the protocol says.")
    (told,) = smtp.to(world.author.email)
    text = told.get_body(("plain",)).get_content()
    assert "Estimado/a Amina Diallo:" in text  # in the author's language
    assert "Two seasons is what the protocol says." in text
    assert "Field trials need three seasons of data." in text  # what they proposed
    # A second answer (another moderator, or the same twice) is told what happened.
    again = _answer(gateway, smtp, run_jobs, world, post, "approve",
                    to=addresses.edit_moderation_address(world.board.slug, edit.id,
                                                         world.moderator.id))
    assert again.body == "Field trials need two seasons of data."
    (answer,) = smtp.to(world.moderator.email)
    assert "already rejected" in answer.get_body(("plain",)).get_content()
