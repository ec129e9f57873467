"""Board pages and the forum index kept for visitors: served again without rendering,
current after every change they show (new topics and posts, pins, moves, the board's
settings), never in place of an access decision. And the index's per-board summary:
the latest topic, its time, a member's unread topics; the hub's one date style."""

from __future__ import annotations

import re
from datetime import timedelta

from forums import moderation, read_markers, services
from hub import clock
from hub.extensions import db


def test_a_board_page_is_kept_and_renewed_by_every_change_it_shows(client, cast,
                                                                   statements):
    url = "/forums/open-board"
    first = services.create_topic(cast.member, cast.public, "First topic", "Text.")
    assert "First topic" in client.get(url).get_data(as_text=True)
    with statements:
        again = client.get(url).get_data(as_text=True)
    assert statements.count == 1 and "First topic" in again  # the board: access, revision

    services.create_topic(cast.member, cast.public, "Second topic", "Text.")
    assert "Second topic" in client.get(url).get_data(as_text=True)
    services.create_reply(cast.moderator, first.topic, "A reply.")
    assert re.search(rf'data-topic="{first.topic_id}".*?<td class="count">1<',
                     client.get(url).get_data(as_text=True), re.S)
    moderation.set_pinned(cast.moderator, first.topic, True)
    assert ">pinned<" in client.get(url).get_data(as_text=True)
    services.update_board(cast.secretariat, cast.public,
                          services.BoardData(description="A new description."))
    assert "A new description." in client.get(url).get_data(as_text=True)


def test_a_moved_topic_leaves_both_kept_pages_at_once(client, cast):
    other = services.create_board(cast.secretariat, services.BoardData(
        slug="second-open", name="Second open", visibility="public", posting="all"))
    post = services.create_topic(cast.member, cast.public, "Wandering topic", "Text.")
    assert "Wandering topic" in client.get("/forums/open-board").get_data(as_text=True)
    assert "Wandering topic" not in client.get("/forums/second-open").get_data(as_text=True)
    moderation.move_topic(cast.secretariat, post.topic, other)
    assert "Wandering topic" not in client.get("/forums/open-board").get_data(as_text=True)
    assert "Wandering topic" in client.get("/forums/second-open").get_data(as_text=True)


def test_a_board_closed_to_visitors_is_never_served_from_its_copy(client, cast):
    services.create_topic(cast.member, cast.public, "Soon closed", "Text.")
    assert client.get("/forums/open-board").status_code == 200
    assert "Open board" in client.get("/forums/").get_data(as_text=True)
    services.update_board(cast.secretariat, cast.public,
                          services.BoardData(visibility="members"))
    response = client.get("/forums/open-board")
    assert response.status_code in (302, 403, 404)
    assert "Soon closed" not in response.get_data(as_text=True)
    assert "Open board" not in client.get("/forums/").get_data(as_text=True)


def test_the_index_shows_each_boards_latest_topic_and_a_members_unread_topics(
        client, auth, cast, make_member):
    reader = make_member(name="Index Reader")
    db.session.commit()
    services.create_topic(cast.member, cast.public, "Older topic", "Text.")
    services.create_topic(cast.moderator, cast.public, "Newest topic", "Text.")
    page = client.get("/forums/").get_data(as_text=True)
    assert re.search(r"Latest:.*Newest topic.*just now.*Network Moderator", page, re.S)
    auth.login(reader)
    page = client.get("/forums/").get_data(as_text=True)
    assert "2 unread topics" in page
    post = services.create_topic(cast.member, cast.public, "Third topic", "Text.")
    read_markers.mark_topic_read(reader, post.topic, None)
    assert "2 unread topics" in client.get("/forums/").get_data(as_text=True)
    read_markers.mark_board_read(reader, cast.public)
    assert "unread topic" not in client.get("/forums/").get_data(as_text=True)


def test_times_read_relative_within_a_week_and_absolute_beyond(client, cast):
    post = services.create_topic(cast.member, cast.public, "Dated topic", "Text.")
    when = clock.aware(post.created_at)
    try:
        clock.freeze(when + timedelta(hours=3, minutes=10))
        page = client.get(f"/forums/topics/{post.topic_id}").get_data(as_text=True)
        tag = re.search(r'class="when"[^>]*><time datetime="([^"]+)" title="([^"]+)">'
                        r'([^<]+)</time>', page)
        assert tag.group(3) == "3 hours ago" and tag.group(1) == when.isoformat()
        assert "(UTC)" in tag.group(2) and str(when.year) in tag.group(2)
        clock.freeze(when + timedelta(days=8))
        services.create_reply(cast.moderator, post.topic, "Much later.")  # a new copy
        page = client.get(f"/forums/topics/{post.topic_id}").get_data(as_text=True)
        first = re.search(r'class="when"[^>]*><time datetime="[^"]+" title="[^"]+">'
                          r'([^<]+)</time>', page)
        assert "ago" not in first.group(1) and re.search(r"\d", first.group(1))
    finally:
        clock.freeze(None)
