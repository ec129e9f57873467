"""Fixtures for the listserv's tests: boards and posts through the forums' posting
service, the gateway started on free ports, and helpers that speak LMTP/SMTP to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from forums import services as forums
from forums import subscriptions
from forums.models import Board, Post, Subscription
from hub.extensions import db
from hub.models import Member


@pytest.fixture
def board(app: Flask) -> Board:
    row = Board(slug="risk", name="Risk assessment", description="Risk assessment of LMOs.",
                visibility="members", posting="all", position=1)
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def make_board(app: Flask) -> Callable[..., Board]:
    counter = iter(range(2, 10_000))

    def make(slug: str, **fields: Any) -> Board:
        row = Board(slug=slug, name=fields.pop("name", slug.title()),
                    visibility=fields.pop("visibility", "members"),
                    posting=fields.pop("posting", "all"), position=next(counter), **fields)
        db.session.add(row)
        db.session.commit()
        return row

    return make


@pytest.fixture
def subscribe(app: Flask) -> Callable[..., Subscription]:
    def make(member: Member, board: Board, mode: str = "each") -> Subscription:
        return subscriptions.set_subscription(member, board, mode)

    return make


@pytest.fixture
def start_topic(app: Flask) -> Callable[..., Post]:
    def make(author: Member, board: Board, title: str = "Biosafety of drought-tolerant maize",
             body: str = "What data do regulators ask for?", **kwargs: Any) -> Post:
        return forums.create_topic(author, board, title, body, **kwargs)

    return make
