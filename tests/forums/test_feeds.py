"""Atom feeds: valid Atom (parsed, with the elements RFC 4287 requires), for public
boards and their topics only, advertised on the pages, with conditional GET."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

import pytest

from forums import attachments, editing, moderation, services

NS = {"a": "http://www.w3.org/2005/Atom"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _parse(response):
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    _check_atom(root)
    return root


def _check_atom(feed):
    """What RFC 4287 requires: a feed has one id, title and updated, and an author (or
    every entry has one); an entry has one id, title and updated; times are RFC 3339."""
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"a:{name}", NS)) == 1, name
    assert feed.find("a:link[@rel='self']", NS) is not None
    feed_author = feed.find("a:author/a:name", NS) is not None
    for entry in feed.findall("a:entry", NS):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"a:{name}", NS)) == 1, name
        assert feed_author or entry.find("a:author/a:name", NS) is not None
        for stamp in entry.findall("a:updated", NS) + entry.findall("a:published", NS):
            assert datetime.fromisoformat(stamp.text).tzinfo is not None
    assert datetime.fromisoformat(feed.find("a:updated", NS).text).tzinfo is not None


def test_a_public_board_feed_lists_its_newest_topics(client, cast):
    older = services.create_topic(cast.member, cast.public, "Older topic", "First *words*.")
    newer = services.create_topic(cast.moderator, cast.public, "Newer & <better>",
                                  "Second [link](/forums/).",
                                  attachments=[attachments.Upload("chart.png", "image/png", PNG)])
    services.create_reply(cast.member, older.topic, "A reply is not a topic.")
    feed = _parse(client.get(f"/forums/{cast.public.slug}/feed.atom"))
    assert feed.find("a:title", NS).text == "Open board"
    entries = feed.findall("a:entry", NS)
    assert [e.find("a:title", NS).text for e in entries] == ["Newer & <better>", "Older topic"]
    first = entries[0]
    assert first.find("a:author/a:name", NS).text == "Network Moderator"
    assert first.find("a:content", NS).get("type") == "html"
    assert '<a href="/forums/">link</a>' in first.find("a:content", NS).text
    assert feed.get("{http://www.w3.org/XML/1998/namespace}base") == "http://hub.test/"
    assert first.find("a:link[@rel='alternate']", NS).get("href").endswith(
        f"/forums/posts/{newer.id}")
    enclosure = first.find("a:link[@rel='enclosure']", NS)
    assert enclosure.get("type") == "image/png" and enclosure.get("length") == str(len(PNG))


def test_a_topic_feed_lists_its_newest_posts(client, cast):
    first = services.create_topic(cast.member, cast.public, "Seed banks", "Opening.")
    reply = services.create_reply(cast.moderator, first.topic, "A reply.")
    gone = services.create_reply(cast.moderator, first.topic, "Deleted later.")
    editing.delete_post(cast.moderator, gone)
    editing.edit_post(cast.member, first, "Opening, edited.")
    feed = _parse(client.get(f"/forums/topics/{first.topic_id}/feed.atom"))
    entries = feed.findall("a:entry", NS)
    assert [e.find("a:id", NS).text.rsplit("/", 1)[1] for e in entries] == [
        str(reply.id), str(first.id)]
    assert entries[0].find("a:title", NS).text == "Re: Seed banks"
    assert "Opening, edited." in entries[1].find("a:content", NS).text
    assert entries[1].find("a:updated", NS).text != entries[1].find("a:published", NS).text


@pytest.mark.parametrize("board", ["members", "closed"])
def test_closed_boards_have_no_feed_and_no_advert(client, auth, cast, board):
    place = getattr(cast, board)
    post = services.create_topic(cast.secretariat, place, "Private", "Not for feeds.")
    auth.login(cast.secretariat)  # not even for those who may read the board
    assert client.get(f"/forums/{place.slug}/feed.atom").status_code == 404
    assert client.get(f"/forums/topics/{post.topic_id}/feed.atom").status_code == 404
    for url in (f"/forums/{place.slug}", f"/forums/topics/{post.topic_id}"):
        assert "application/atom+xml" not in client.get(url).get_data(as_text=True)


def test_held_and_deleted_topics_have_no_feed(client, cast, make_board):
    board = make_board("held-feeds", premoderated=True)
    held = services.create_topic(cast.member, board, "Held", "Waiting.")
    assert client.get(f"/forums/topics/{held.topic_id}/feed.atom").status_code == 404
    assert [e for e in _parse(client.get("/forums/held-feeds/feed.atom")).findall(
        "a:entry", NS)] == []
    shown = services.create_topic(cast.moderator, board, "Shown", "Visible.")
    moderation.delete_topic(cast.moderator, shown.topic)
    assert client.get(f"/forums/topics/{shown.topic_id}/feed.atom").status_code == 404
    assert client.get("/forums/no-such-board/feed.atom").status_code == 404
    assert client.get("/forums/topics/999999/feed.atom").status_code == 404


def test_pages_of_public_boards_advertise_their_feeds(client, cast):
    post = services.create_topic(cast.member, cast.public, "Advertised", "Text.")
    board_page = client.get(f"/forums/{cast.public.slug}").get_data(as_text=True)
    assert (f'<link rel="alternate" type="application/atom+xml" title="New topics on Open '
            f'board" href="/forums/{cast.public.slug}/feed.atom">') in board_page
    topic_page = client.get(f"/forums/topics/{post.topic_id}").get_data(as_text=True)
    assert f'href="/forums/topics/{post.topic_id}/feed.atom"' in topic_page


def test_feed_readers_that_are_up_to_date_get_304(client, cast):
    services.create_topic(cast.member, cast.public, "Cached", "Text.")
    url = f"/forums/{cast.public.slug}/feed.atom"
    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    since = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    services.create_topic(cast.member, cast.public, "News", "Changed.")
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
