"""Topic pages kept for readers who are not signed in: served again without rendering,
current after every change readers would see, never in place of an access decision,
never to members."""

from __future__ import annotations

import pytest

from forums import services


@pytest.fixture
def topic(cast):
    first = services.create_topic(cast.member, cast.public, "Cached topic", "First text.")
    return first.topic


def test_a_second_anonymous_view_is_served_from_the_cache(client, topic, statements):
    url = f"/forums/topics/{topic.id}"
    with statements:
        first = client.get(url).get_data(as_text=True)
    rendered = statements.count
    with statements:
        again = client.get(url).get_data(as_text=True)
    assert again == first
    assert statements.count == 1 < rendered  # the topic (and its board): access, revision
    assert "csrf_token" not in first  # nothing personal in a shared page


def test_every_change_readers_see_shows_at_once(client, cast, topic):
    url = f"/forums/topics/{topic.id}"
    assert "First text." in client.get(url).get_data(as_text=True)
    reply = services.create_reply(cast.moderator, topic, "A new reply.")
    assert "A new reply." in client.get(url).get_data(as_text=True)
    services.edit_post(cast.moderator, reply, "An edited reply.")
    assert "An edited reply." in client.get(url).get_data(as_text=True)
    services.delete_post(cast.moderator, reply)
    assert "This post was deleted." in client.get(url).get_data(as_text=True)
    services.set_locked(cast.moderator, topic, True)
    assert ">locked<" in client.get(url).get_data(as_text=True)


def test_access_is_decided_before_the_cache(client, cast, topic):
    url = f"/forums/topics/{topic.id}"
    assert client.get(url).status_code == 200
    services.update_board(cast.secretariat, cast.public,
                          services.BoardData(visibility="group", group=cast.group.slug))
    assert client.get(url).status_code == 404


def test_members_get_their_own_page(client, auth, cast, topic):
    url = f"/forums/topics/{topic.id}"
    client.get(url)  # cached for readers who are not signed in
    auth.login(cast.member)
    page = client.get(url).get_data(as_text=True)
    assert "Mark the topic as read" in page and "Edit" in page


@pytest.mark.config(HUB_FORUM_PAGE_CACHE=0)
def test_the_cache_can_be_switched_off(client, topic, statements):
    url = f"/forums/topics/{topic.id}"
    client.get(url)
    with statements:
        client.get(url)
    assert statements.count == 3
