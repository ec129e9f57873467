"""Atom feeds (RFC 4287) of public boards and of their topics, for feed readers.

A board's feed holds its newest topics (each with its first post); a topic's feed its
newest posts. Feeds are anonymous, so they exist only where an anonymous reader may read
(`hub.access.can_read(None, board)`): boards for members or for a group have none (404),
and neither do held or deleted topics. Content is the stored, sanitized HTML of the posts
(never rendered again); relative links resolve against HUB_BASE_URL (`xml:base`).
Responses carry Last-Modified and an ETag, and answer 304 to a reader that is up to date.

Imports `hub` and `forums`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from flask import Response, current_app, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from forums import urls
from forums.models import Board, Post, Topic
from hub import access, clock
from hub.errors import NotFound
from hub.extensions import db
from hub.i18n import isotime

ATOM = "http://www.w3.org/2005/Atom"
XML = "http://www.w3.org/XML/1998/namespace"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
ENTRIES = 30


def has_feed(board: Board) -> bool:
    """Only what anyone may read has a feed."""
    return access.can_read(None, board)


def _require_feed(board: Board) -> None:
    if not has_feed(board):
        raise NotFound(str(_l("No such feed.")))


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def _stamp(value: datetime | None) -> str:
    return isotime(value or clock.now()) or ""


def _feed(title: str, subtitle: str, page_url: str, entries: list[dict[str, Any]],
          updated: datetime) -> Response:
    base = current_app.config["HUB_BASE_URL"] + "/"
    feed = ET.Element(f"{{{ATOM}}}feed", {f"{{{XML}}}lang": str(get_locale() or "en"),
                                          f"{{{XML}}}base": base})
    _el(feed, "id", page_url)
    _el(feed, "title", title)
    if subtitle:
        _el(feed, "subtitle", subtitle)
    _el(feed, "updated", _stamp(updated))
    _el(feed, "link", rel="self", type="application/atom+xml",
        href=urls.absolute(request.endpoint, **(request.view_args or {})))
    _el(feed, "link", rel="alternate", type="text/html", href=page_url)
    author = _el(feed, "author")
    _el(author, "name", current_app.config["HUB_NAME"])
    _el(author, "uri", base)
    _el(feed, "generator", current_app.config["HUB_NAME"], uri=base)
    for entry in entries:
        node = _el(feed, "entry")
        _el(node, "id", entry["id"])
        _el(node, "title", entry["title"], type="text")
        _el(node, "link", rel="alternate", type="text/html", href=entry["url"])
        for enclosure in entry["enclosures"]:
            _el(node, "link", rel="enclosure", **enclosure)
        _el(node, "published", _stamp(entry["published"]))
        _el(node, "updated", _stamp(entry["updated"]))
        who = _el(node, "author")
        _el(who, "name", entry["author"])
        _el(node, "content", entry["html"], type="html")
    ET.register_namespace("", ATOM)
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    response = Response(body, content_type=CONTENT_TYPE)
    response.last_modified = updated
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response.make_conditional(request)


def _entry(post: Post, title: str) -> dict[str, Any]:
    author = post.author.name if post.author else str(_l("A former member"))
    return {
        "id": urls.absolute("forums.post_link", post_id=post.id),
        "url": urls.absolute("forums.post_link", post_id=post.id),
        "title": title,
        "author": author,
        "published": post.created_at,
        "updated": post.edited_at or post.created_at,
        "html": post.html,
        "enclosures": [{"href": urls.absolute("forums.attachment", attachment_id=a.id,
                                              filename=a.filename),
                        "type": a.content_type, "length": str(a.size), "title": a.filename}
                       for a in post.attachments],
    }


def _newest(entries: list[dict[str, Any]], default: datetime) -> datetime:
    stamps = [clock.aware(e["updated"]) for e in entries]
    return max([s for s in stamps if s] + [clock.aware(default)])


def board_feed(board: Board) -> Response:
    """The newest topics of a public board, each with its first post."""
    _require_feed(board)
    posts = list(db.session.scalars(
        db.select(Post).join(Topic, Topic.id == Post.topic_id)
        .where(Topic.board_id == board.id, Topic.status == "published",
               Topic.deleted_at.is_(None), Post.position == 1, Post.deleted_at.is_(None))
        .options(joinedload(Post.author), joinedload(Post.topic),
                 selectinload(Post.attachments))
        .order_by(Topic.id.desc()).limit(ENTRIES)).unique())
    entries = [_entry(p, p.topic.title) for p in posts]
    return _feed(board.name, board.description,
                 urls.absolute("forums.board", slug=board.slug), entries,
                 _newest(entries, board.created_at))


def topic_feed(topic: Topic) -> Response:
    """The newest posts of a topic on a public board."""
    board = topic.board
    _require_feed(board)
    if topic.status != "published" or topic.deleted_at is not None:
        raise NotFound(str(_l("No such feed.")))
    posts = list(db.session.scalars(
        db.select(Post).where(Post.topic_id == topic.id, Post.status == "published",
                              Post.deleted_at.is_(None))
        .options(joinedload(Post.author), selectinload(Post.attachments))
        .order_by(Post.position.desc()).limit(ENTRIES)).unique())
    entries = [_entry(p, topic.title if p.position == 1 else
                      str(_l("Re: %(title)s", title=topic.title))) for p in posts]
    return _feed(topic.title, board.name, urls.absolute("forums.topic", topic_id=topic.id),
                 entries, _newest(entries, topic.created_at))
