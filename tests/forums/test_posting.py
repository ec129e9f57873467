"""The one posting path: access, flood limit, stored HTML, published or held, thread
order, and the events other packages listen to."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forums import moderation, services
from forums.models import Board, Post, Topic
from hub import clock, events
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.models import AuditEntry


@pytest.fixture
def recorded(app):
    """Every post signal as (signal name, event)."""
    seen: list[tuple[str, events.PostEvent]] = []
    receivers = []
    for name in ("post_pending", "post_published", "post_held", "post_edited",
                 "post_rejected", "post_deleted"):
        signal = getattr(events, name)

        def receiver(sender, event, _name=name):
            seen.append((_name, event))

        signal.connect(receiver)
        receivers.append((signal, receiver))
    yield seen
    for signal, receiver in receivers:
        signal.disconnect(receiver)


def test_a_topic_is_published_with_stored_html_and_counted(cast, recorded):
    post = services.create_topic(cast.member, cast.public, "  Risk   assessment of GM maize ",
                                 "We need **comparative** assessment.")
    topic = post.topic
    assert topic.title == "Risk assessment of GM maize"
    assert post.status == "published" and post.position == 1 and post.parent_id is None
    assert "<strong>comparative</strong>" in post.html
    db.session.refresh(cast.public)
    assert (cast.public.topic_count, cast.public.post_count) == (1, 1)
    assert topic.post_count == 1 and topic.last_post_id == post.id
    assert [name for name, *_ in recorded] == ["post_pending", "post_published"]
    assert recorded[0][1] == events.PostEvent(post.id, topic.id, cast.public.id,
                                              cast.member.id, "published", "web")


def test_post_pending_listeners_write_in_the_same_transaction(cast):
    def add_row(sender, event):
        db.session.add(AuditEntry(action="outbox.test", target_type="post",
                                  target_id=event.post_id))

    events.post_pending.connect(add_row)
    try:
        post = services.create_topic(cast.member, cast.public, "Title", "Body")
    finally:
        events.post_pending.disconnect(add_row)
    db.session.rollback()  # nothing left uncommitted: the row went in with the post
    assert db.session.scalar(db.select(AuditEntry.target_id).where(
        AuditEntry.action == "outbox.test")) == post.id


def test_a_listener_failure_inside_the_transaction_stores_nothing(cast):
    def explode(sender, event):
        raise RuntimeError("outbox down")

    events.post_pending.connect(explode)
    try:
        with pytest.raises(RuntimeError):
            services.create_topic(cast.member, cast.public, "Title", "Body")
    finally:
        events.post_pending.disconnect(explode)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Post.id))) == 0


def test_premoderated_boards_hold_members_posts_but_not_moderators(cast, recorded):
    cast.public.premoderated = True
    db.session.commit()
    held = services.create_topic(cast.member, cast.public, "Held", "Wait for me")
    assert held.status == "held" and held.topic.status == "held"
    db.session.refresh(cast.public)
    assert cast.public.topic_count == 0
    assert [n for n, *_ in recorded] == ["post_pending", "post_held"]
    assert recorded[0][1].status == "held"
    by_moderator = services.create_topic(cast.moderator, cast.public, "Rules", "Read these")
    assert by_moderator.status == "published"


@pytest.mark.parametrize("role, board, error", [
    ("member", "closed", NotFound),  # a group board does not exist for outsiders
    ("moderator", "closed", NotFound),  # network moderators do not see closed forums
    ("group_member", "closed", None),
    ("secretariat", "closed", None),
    ("member", "members", None),
    ("member", "public", None),
])
def test_who_may_start_a_topic(cast, role, board, error):
    place = getattr(cast, board)
    if error is None:
        assert services.create_topic(cast.who(role), place, "T", "B").status == "published"
    else:
        with pytest.raises(error):
            services.create_topic(cast.who(role), place, "T", "B")


def test_announcement_boards_take_posts_from_moderators_only(cast):
    cast.public.posting = "moderators"
    db.session.commit()
    with pytest.raises(Forbidden) as refused:
        services.create_topic(cast.member, cast.public, "T", "B")
    assert refused.value.code == "moderators_only"
    services.create_topic(cast.moderator, cast.public, "Announcement", "News")


def test_a_locked_topic_takes_replies_from_moderators_only(cast):
    topic = services.create_topic(cast.member, cast.public, "T", "B").topic
    moderation.set_locked(cast.moderator, topic, True)
    with pytest.raises(Forbidden) as refused:
        services.create_reply(cast.member, topic, "me too")
    assert refused.value.code == "locked"
    assert services.create_reply(cast.moderator, topic, "Closing this.").status == "published"


def test_empty_or_oversized_text_is_refused(cast):
    with pytest.raises(Invalid):
        services.create_topic(cast.member, cast.public, "   ", "body")
    with pytest.raises(Invalid):
        services.create_topic(cast.member, cast.public, "Title", "  \n ")
    with pytest.raises(Invalid):
        services.create_topic(cast.member, cast.public, "x" * 301, "body")


@pytest.mark.config(HUB_FLOOD_POSTS=3, HUB_FLOOD_SECONDS=60)
def test_the_service_limits_flooding_on_every_channel(cast):
    topic = services.create_topic(cast.member, cast.public, "T", "1").topic
    services.create_reply(cast.member, topic, "2", source="email")
    services.create_reply(cast.member, topic, "3", source="api")
    with pytest.raises(services.TooFast) as refused:
        services.create_reply(cast.member, topic, "4")
    assert refused.value.status == 429
    services.create_reply(cast.moderator, topic, "moderators are not limited")
    clock.freeze(clock.now() + timedelta(seconds=61))
    try:
        services.create_reply(cast.member, topic, "a minute later")
    finally:
        clock.freeze(None)


def test_replies_take_the_next_position_and_a_thread_key(cast):
    first = services.create_topic(cast.member, cast.public, "T", "1")
    topic = first.topic
    a = services.create_reply(cast.group_member, topic, "to the topic")
    b = services.create_reply(cast.moderator, topic, "to the first post", parent=first)
    c = services.create_reply(cast.member, topic, "to b", parent=b)
    assert [p.position for p in (first, a, b, c)] == [1, 2, 3, 4]
    assert (a.depth, b.depth, c.depth) == (0, 1, 2)
    ordered = db.session.scalars(db.select(Post.id).where(Post.topic_id == topic.id)
                                 .order_by(Post.thread_key)).all()
    assert ordered == [first.id, b.id, c.id, a.id]  # the sub-thread before the next reply
    db.session.refresh(topic)
    assert topic.post_count == 4 and topic.last_post_id == c.id


def test_deep_reply_chains_stay_within_the_depth_cap(cast):
    post = services.create_topic(cast.member, cast.public, "T", "0")
    topic = post.topic
    chain = [post]
    for n in range(services.MAX_DEPTH + 4):
        chain.append(services.create_reply(cast.moderator, topic, f"{n}", parent=chain[-1]))
    assert max(p.depth for p in chain) == services.MAX_DEPTH
    keys = [p.thread_key for p in chain]
    assert keys == sorted(keys)  # capped replies follow their parent in order
    assert chain[-1].parent_id == chain[-2].id  # "in reply to" is kept exactly


def test_a_reply_must_answer_a_post_of_the_same_topic(cast):
    one = services.create_topic(cast.member, cast.public, "One", "1")
    two = services.create_topic(cast.member, cast.public, "Two", "2")
    with pytest.raises(Invalid):
        services.create_reply(cast.member, two.topic, "x", parent=one)


def test_a_duplicate_message_id_is_a_conflict(cast):
    topic = services.create_topic(cast.member, cast.public, "T", "1",
                                  message_id="<a@example.org>", source="email").topic
    with pytest.raises(Conflict):
        services.create_reply(cast.member, topic, "again", message_id="<a@example.org>",
                              source="email")
    assert db.session.scalar(db.select(db.func.count(Post.id))) == 1


def test_the_registry_hook_opens_one_topic_per_record(app, cast):
    discuss = app.extensions["hub_discuss"]
    with app.test_request_context():
        url = discuss(cast.member, "project:12", "Biosafety lab in Nairobi",
                      "/registry/projects/12")
        again = discuss(cast.secretariat, "project:12", "ignored", "/registry/projects/12")
    assert url == again
    topic = db.session.scalar(db.select(Topic).where(Topic.external_key == "project:12"))
    assert url.endswith(f"/forums/topics/{topic.id}")
    board = db.session.get(Board, topic.board_id)
    assert board.slug == "registry"
    assert 'href="/registry/projects/12"' in db.session.scalar(
        db.select(Post.html).where(Post.topic_id == topic.id))


def test_mentions_link_to_the_profile_and_mail_the_member_after_commit(cast, make_member,
                                                                      smtp, run_jobs):
    lucia = make_member(name="Lucía Fernández", email="lucia@example.org")
    post = services.create_topic(
        cast.member, cast.public, "Seed banks",
        "@lucia.fernandez what do you think? (not `@lucia.fernandez` in code, "
        "nor mail@lucia.fernandez.org)")
    assert f'href="/members/{lucia.id}"' in post.html
    assert post.html.count("/members/") == 1
    run_jobs()
    mail = smtp.to("lucia@example.org")
    assert len(mail) == 1
    assert "Seed banks" in mail[0]["Subject"]
    assert f"/forums/posts/{post.id}" in mail[0].get_body(("plain",)).get_content()


def test_mentions_of_outsiders_on_a_closed_board_send_nothing(cast, smtp, run_jobs):
    services.create_topic(cast.group_member, cast.closed, "Private",
                          "@plain.member should not hear of this")
    run_jobs()
    assert smtp.to(cast.member.email) == []
