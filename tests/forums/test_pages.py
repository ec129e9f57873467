"""The forums' pages: the board list, a board, a topic threaded and flat, posting and
replying in the browser (without JavaScript), quoting, editing and the home page."""

from __future__ import annotations

import re

import pytest

from forums import services
from forums.models import Post, Topic
from hub.extensions import db


def test_the_board_list_groups_boards_by_category(client, cast):
    cast.public.category = "Thematic areas"
    db.session.commit()
    page = client.get("/forums/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Thematic areas" in html and "Open board" in html
    assert "Closed board" not in html and "Members board" not in html


def test_a_member_starts_a_topic_and_replies_in_the_browser(client, auth, cast):
    auth.login(cast.member)
    response = client.post("/forums/open-board/new",
                           data={"title": "Coexistence measures", "body": "What **works**?"})
    assert response.status_code == 302
    topic = db.session.scalar(db.select(Topic).where(Topic.title == "Coexistence measures"))
    assert response.headers["Location"].endswith(f"/forums/topics/{topic.id}")
    first = db.session.scalar(db.select(Post).where(Post.topic_id == topic.id))
    response = client.post(f"/forums/topics/{topic.id}/reply",
                           data={"body": "Buffer zones.", "parent_id": str(first.id)})
    assert response.status_code == 302
    reply = db.session.scalar(db.select(Post).where(Post.topic_id == topic.id,
                                                    Post.position == 2))
    assert reply.parent_id == first.id and reply.source == "web"
    # Back to the threaded view (the default) the member was reading, on the reply.
    assert response.headers["Location"].endswith(f"/forums/topics/{topic.id}#p{reply.id}")
    html = client.get(f"/forums/topics/{topic.id}").get_data(as_text=True)
    assert "<strong>works</strong>" in html and "Buffer zones." in html
    assert f'id="p{reply.id}"' in html and "depth-1" in html
    # Its Reply, Quote and Edit links keep the flat view for a reader of the flat view.
    flat = client.get(f"/forums/topics/{topic.id}?view=flat").get_data(as_text=True)
    replies = re.findall(r'href="([^"]*/reply\?[^"]*)"', flat)
    assert replies and all("view=flat" in href for href in replies), replies
    assert any(f"parent={first.id}" in href and "quote=1" in href for href in replies)
    assert f"/forums/posts/{reply.id}/edit?view=flat" in flat
    response = client.post(f"/forums/topics/{topic.id}/reply?view=flat",
                           data={"body": "Isolation distances.", "parent_id": str(first.id)})
    third = db.session.scalar(db.select(Post).where(Post.topic_id == topic.id,
                                                    Post.position == 3))
    assert response.headers["Location"].endswith(f"view=flat&page=1#p{third.id}")
    response = client.post(f"/forums/posts/{reply.id}/edit",
                           data={"body": "Buffer zones, mostly."})
    assert response.headers["Location"].endswith(f"/forums/topics/{topic.id}#p{reply.id}")
    quote = client.get(f"/forums/topics/{topic.id}/reply?parent={first.id}&quote=1")
    assert f"/forums/topics/{topic.id}/reply\"" in quote.get_data(as_text=True)


def test_a_refused_post_keeps_the_text_and_says_why(client, auth, cast):
    auth.login(cast.member)
    response = client.post("/forums/open-board/new", data={"title": "", "body": "Kept text"})
    assert response.status_code == 422
    assert "Kept text" in response.get_data(as_text=True)


def test_quoting_prefills_the_reply_with_the_quoted_text(client, auth, cast):
    post = services.create_topic(cast.group_member, cast.public, "T", "Line one\nLine two")
    auth.login(cast.member)
    html = client.get(f"/forums/topics/{post.topic_id}/reply?parent={post.id}&quote=1"
                      ).get_data(as_text=True)
    link = f"/forums/posts/{post.id}?view=threaded"
    assert f"[Group Member wrote:]({link})\n&gt; Line one\n&gt; Line two" in html
    # Posted, the attribution is a link back to the quoted post.
    client.post(f"/forums/topics/{post.topic_id}/reply",
                data={"body": f"[Group Member wrote:]({link})\n> Line one\n\nAgreed.",
                      "parent_id": str(post.id)})
    page = client.get(f"/forums/topics/{post.topic_id}").get_data(as_text=True)
    assert f'<a href="{link.replace("?view", "?view")}">Group Member wrote:</a>' in page


def test_threaded_and_flat_views_order_posts_differently(client, cast):
    first = services.create_topic(cast.member, cast.public, "T", "first")
    topic = first.topic
    services.create_reply(cast.moderator, topic, "second, to the topic")
    services.create_reply(cast.group_member, topic, "third, to the first", parent=first)
    threaded = client.get(f"/forums/topics/{topic.id}").get_data(as_text=True)
    flat = client.get(f"/forums/topics/{topic.id}?view=flat").get_data(as_text=True)
    order = lambda html: re.findall(r"<p>(first|second|third)", html)  # noqa: E731
    assert order(threaded) == ["first", "third", "second"]
    assert order(flat) == ["first", "second", "third"]
    assert "in reply to" in flat  # flat view says what a post answers


def test_editing_keeps_history_for_moderators_and_marks_the_post(client, auth, cast):
    post = services.create_topic(cast.member, cast.public, "Old title", "old text")
    auth.login(cast.member)
    response = client.post(f"/forums/posts/{post.id}/edit",
                           data={"title": "New title", "body": "new text"})
    assert response.status_code == 302
    html = client.get(f"/forums/topics/{post.topic_id}").get_data(as_text=True)
    assert "New title" in html and "new text" in html and "edited" in html
    assert client.get(f"/forums/posts/{post.id}/history").status_code == 403
    auth.logout()
    auth.login(cast.moderator)
    history = client.get(f"/forums/posts/{post.id}/history").get_data(as_text=True)
    assert "old text" in history and "Old title" in history


def test_others_cannot_edit_or_delete_a_post(client, auth, cast):
    post = services.create_topic(cast.member, cast.public, "T", "mine")
    auth.login(cast.group_member)
    assert client.post(f"/forums/posts/{post.id}/edit", data={"body": "x"}).status_code == 403
    assert client.post(f"/forums/posts/{post.id}/delete").status_code == 403
    db.session.refresh(post)
    assert post.body == "mine" and post.deleted_at is None


def test_a_deleted_post_leaves_a_placeholder(client, auth, cast):
    first = services.create_topic(cast.member, cast.public, "T", "first")
    reply = services.create_reply(cast.member, first.topic, "regrettable words")
    auth.login(cast.member)
    assert client.post(f"/forums/posts/{reply.id}/delete").status_code == 302
    html = client.get(f"/forums/topics/{first.topic_id}").get_data(as_text=True)
    assert "This post was deleted." in html and "regrettable words" not in html


def test_the_home_page_lists_readable_boards_and_recent_topics(client, auth, cast):
    services.create_topic(cast.group_member, cast.closed, "Liaison secrets", "x")
    services.create_topic(cast.member, cast.public, "Open talk", "x")
    html = client.get("/").get_data(as_text=True)
    assert "Open talk" in html and "Liaison secrets" not in html and "Closed board" not in html
    auth.login(cast.group_member)
    html = client.get("/").get_data(as_text=True)
    assert "Liaison secrets" in html and 'href="/forums/"' in html


@pytest.mark.parametrize("path", ["/forums/", "/forums/open-board"])
def test_pages_stay_light(client, cast, path):
    services.create_topic(cast.member, cast.public, "T", "x")
    assert len(client.get(path).data) < 100_000
