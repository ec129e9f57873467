"""Absolute links for list mail, built on HUB_BASE_URL whether or not a request is
running (the worker and the gateway have none). Imports only Flask."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for


def path(endpoint: str, **values: Any) -> str:
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return url_for(endpoint, **values)


def absolute(endpoint: str, **values: Any) -> str:
    return current_app.config["HUB_BASE_URL"] + path(endpoint, **values)


def post_url(post: Any, topic: Any) -> str:
    """A stable link to one post (the forums redirect it to its page and anchor)."""
    return absolute("forums.post_link", post_id=post.id)


def reply_url(post: Any, topic: Any) -> str:
    return absolute("forums.reply", topic_id=topic.id, parent=post.id)


def board_url(board: Any) -> str:
    return absolute("forums.board", slug=board.slug)
