"""Factories for the forums' tests: boards, topics and posts made through the one
posting service, plus a cast of people for access matrices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from forums import services
from forums.models import Board, Post, Topic
from hub.extensions import db
from hub.models import Group, Member, Role


@pytest.fixture
def make_board(app: Flask) -> Callable[..., Board]:
    counter = iter(range(1, 10_000))

    def make(slug: str | None = None, **fields: Any) -> Board:
        n = next(counter)
        board = Board(slug=slug or f"board-{n}", name=fields.pop("name", f"Board {n}"),
                      description=fields.pop("description", "A board for tests."),
                      visibility=fields.pop("visibility", "public"),
                      posting=fields.pop("posting", "all"), position=n, **fields)
        db.session.add(board)
        db.session.commit()
        return board

    return make


@pytest.fixture
def make_topic(app: Flask) -> Callable[..., Post]:
    """A topic through the posting service; returns the first post."""

    def make(author: Member, board: Board, title: str = "A topic", body: str = "First post.",
             **kwargs: Any) -> Post:
        return services.create_topic(author, board, title, body, **kwargs)

    return make


@pytest.fixture
def reply(app: Flask) -> Callable[..., Post]:
    def make(author: Member, topic: Topic, body: str = "A reply.", **kwargs: Any) -> Post:
        return services.create_reply(author, topic, body, **kwargs)

    return make


@dataclass
class Cast:
    """Everyone an access matrix needs, and a board of each visibility."""

    member: Member
    group_member: Member
    moderator: Member
    secretariat: Member
    group: Group
    public: Board
    members: Board
    closed: Board

    def who(self, role: str) -> Member | None:
        return None if role == "anonymous" else getattr(self, role)


@pytest.fixture
def cast(app: Flask, make_member: Callable[..., Member], make_group: Callable[..., Group],
         make_board: Callable[..., Board]) -> Cast:
    member = make_member(name="Plain Member")
    group_member = make_member(name="Group Member")
    moderator = make_member(name="Network Moderator", role=Role.MODERATOR)
    secretariat = make_member(name="The Secretariat", role=Role.SECRETARIAT)
    group = make_group("closed-group", members=(group_member,))
    return Cast(
        member=member, group_member=group_member, moderator=moderator,
        secretariat=secretariat, group=group,
        public=make_board("open-board", name="Open board", visibility="public"),
        members=make_board("members-board", name="Members board", visibility="members"),
        closed=make_board("closed-board", name="Closed board", visibility="group",
                          group_id=group.id),
    )


class Statements:
    """The SQL statements run while recording (a context manager)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._on = False

    def __enter__(self) -> Statements:
        self.seen.clear()
        self._on = True
        return self

    def __exit__(self, *exc: object) -> None:
        self._on = False

    def record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self._on:
            self.seen.append(statement)

    @property
    def count(self) -> int:
        return len(self.seen)

    @property
    def writes(self) -> list[str]:
        return [s for s in self.seen
                if s.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}]


@pytest.fixture
def statements(app: Flask) -> Any:
    from sqlalchemy import event

    recorder = Statements()
    event.listen(db.engine, "before_cursor_execute", recorder.record)
    yield recorder
    event.remove(db.engine, "before_cursor_execute", recorder.record)


@pytest.fixture
def long_topic(app: Flask, cast: Cast) -> Callable[[int], Topic]:
    """A topic with `n` posts, replies branching so both views have work to do."""

    def make(n: int) -> Topic:
        app.config["HUB_FLOOD_POSTS"] = 0
        first = services.create_topic(cast.member, cast.public, "A long topic", "post 1")
        topic = first.topic
        posts = [first]
        authors = [cast.member, cast.group_member, cast.moderator]
        for i in range(2, n + 1):
            parent = posts[i // 3] if i % 4 == 0 else None
            posts.append(services.create_reply(authors[i % 3], topic, f"post {i}",
                                               parent=parent))
        db.session.refresh(topic)
        return topic

    return make
