"""A topic page's cost: keyset pages (never OFFSET), a pinned number of SQL queries
whatever the page or the topic's length, and no database write on a page view. Also
the unread markers, which therefore move only by explicit POSTs."""

from __future__ import annotations

import re

import pytest

from forums import attachments, queries, services
from forums.models import Post
from hub.extensions import db

SIZE = 20


def _positions(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"<p>post (\d+)</p>", html)]


@pytest.mark.config(HUB_FORUM_PAGE_SIZE=SIZE)
def test_flat_pages_are_cut_by_stored_position(client, long_topic):
    topic = long_topic(65)
    assert _positions(client.get(f"/forums/topics/{topic.id}?view=flat").get_data(
        as_text=True)) == list(range(1, 21))
    page3 = client.get(f"/forums/topics/{topic.id}?view=flat&page=3").get_data(as_text=True)
    assert _positions(page3) == list(range(41, 61))
    assert "Page 3 of 4" in page3
    last = client.get(f"/forums/topics/{topic.id}?view=flat&page=4").get_data(as_text=True)
    assert _positions(last) == list(range(61, 66))


@pytest.mark.config(HUB_FORUM_PAGE_SIZE=SIZE)
def test_threaded_pages_walk_the_whole_topic_once_by_thread_key(client, long_topic):
    topic = long_topic(65)
    expected = [int(p.body.split()[1]) for p in db.session.scalars(
        db.select(Post).where(Post.topic_id == topic.id).order_by(Post.thread_key))]
    seen, url = [], f"/forums/topics/{topic.id}"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += _positions(html)
        match = re.search(r'rel="next" href="([^"]+)"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert seen == expected and len(seen) == 65
    # And back: "earlier posts" from the last page returns the page before it.
    page = queries.topic_page(None, topic, after=None, size=SIZE)
    second = queries.topic_page(None, topic, **page.next_args, size=SIZE)
    back = queries.topic_page(None, topic, **second.prev_args, size=SIZE)
    assert [p.id for p in back.posts] == [p.id for p in page.posts]


def test_a_permalink_lands_on_the_page_that_holds_the_post(client, long_topic, app):
    app.config["HUB_FORUM_PAGE_SIZE"] = SIZE
    topic = long_topic(45)
    post = db.session.scalar(db.select(Post).where(Post.topic_id == topic.id,
                                                   Post.position == 42))
    response = client.get(f"/forums/posts/{post.id}")
    assert response.headers["Location"].endswith(f"view=flat&page=3#p{post.id}")
    assert f'id="p{post.id}"' in client.get(response.headers["Location"]).get_data(
        as_text=True)


@pytest.mark.config(HUB_FORUM_PAGE_SIZE=SIZE)
@pytest.mark.parametrize("role", ["anonymous", "member", "moderator"])
def test_the_number_of_queries_per_page_is_pinned(client, auth, cast, long_topic, statements,
                                                  role):
    """No N+1: the same count for the first and a deep page, whatever is on them
    (authors, replies to posts on other pages, attachments)."""
    topic = long_topic(90)
    services.create_reply(cast.group_member, topic, "with a file", attachments=[
        attachments.Upload("a.txt", "text/plain", b"x")])
    if role != "anonymous":
        auth.login(cast.who(role))
    counts = {}
    for label, url in [("first", f"/forums/topics/{topic.id}"),
                       ("flat 1", f"/forums/topics/{topic.id}?view=flat"),
                       ("flat 4", f"/forums/topics/{topic.id}?view=flat&page=4"),
                       ("flat 5", f"/forums/topics/{topic.id}?view=flat&page=5")]:
        db.session.expire_all()
        with statements:
            assert client.get(url).status_code == 200
        counts[label] = statements.count
        if role != "anonymous":  # the page kept for members, filled in for this one
            db.session.expire_all()
            with statements:
                assert client.get(url).status_code == 200
            counts[f"{label}, kept"] = statements.count
    # Rendered: the topic (with its board), its posts (with authors, parents, files);
    # a member's topic and what they have read come in their own load; kept: no posts
    # loaded.
    expected = {"anonymous": [2], "member": [1, 2], "moderator": [1, 2]}[role]
    assert sorted(set(counts.values())) == expected, counts
    assert all(counts[label] == expected[0] for label in counts if label.endswith("kept"))


@pytest.mark.parametrize("url", ["/forums/topics/{id}", "/forums/topics/{id}?view=flat",
                                 "/forums/open-board", "/forums/", "/",
                                 "/api/v1/topics/{id}/posts"])
def test_reading_never_writes_to_the_database(client, auth, cast, statements, url):
    post = services.create_topic(cast.member, cast.public, "T", "B")
    services.create_reply(cast.group_member, post.topic, "new to the member")
    auth.login(cast.member)
    with statements:
        assert client.get(url.format(id=post.topic_id)).status_code == 200
    assert statements.writes == []


def test_unread_markers_move_only_by_explicit_actions(client, auth, cast):
    first = services.create_topic(cast.group_member, cast.public, "T", "one")
    topic = first.topic
    auth.login(cast.member)
    board = lambda: client.get("/forums/open-board").get_data(as_text=True)  # noqa: E731
    assert "posts: go to the first unread" in board()
    client.get(f"/forums/topics/{topic.id}")
    assert "posts: go to the first unread" in board()  # a view alone changes nothing
    # The page's beacon (what forums.js sends) marks what was on screen.
    assert client.post(f"/forums/topics/{topic.id}/read",
                       data={"up_to": first.id, "beacon": "1"}).status_code == 204
    assert "posts: go to the first unread" not in board()
    second = services.create_reply(cast.group_member, topic, "two")
    assert "posts: go to the first unread" in board()
    response = client.get(f"/forums/topics/{topic.id}/unread")
    assert response.headers["Location"].endswith(f"#p{second.id}")
    # Posting marks the topic read for its author.
    services.create_reply(cast.member, topic, "three")
    assert "posts: go to the first unread" not in board()
    services.create_reply(cast.group_member, topic, "four")
    assert client.post("/forums/open-board/read").status_code == 302
    assert "posts: go to the first unread" not in board()


def test_new_posts_are_marked_on_the_page_until_read(client, auth, cast):
    first = services.create_topic(cast.group_member, cast.public, "T", "one")
    auth.login(cast.member)
    client.post(f"/forums/topics/{first.topic_id}/read", data={"beacon": "1"})
    reply = services.create_reply(cast.moderator, first.topic, "two")
    html = client.get(f"/forums/topics/{first.topic_id}").get_data(as_text=True)
    assert re.search(rf'id="p{reply.id}" class="[^"]*unread', html)
    assert not re.search(rf'id="p{first.id}" class="[^"]*unread', html)
