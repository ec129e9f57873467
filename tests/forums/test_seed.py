"""The demo network's boards and discussions."""

from __future__ import annotations

from forums import moderation, services
from forums.models import Board, Post, Topic
from hub import seed
from hub.extensions import db
from hub.models import Member


def test_the_demo_has_threaded_discussions_and_a_closed_liaison_forum(app, client):
    seed.seed_demo()
    boards = {b.slug: b for b in db.session.scalars(db.select(Board))}
    assert {"announcements", "registry", "liaison-forum", "risk-assessment",
            "socio-economic", "liability-redress"} <= set(boards)
    assert boards["announcements"].posting == "moderators"
    assert boards["liaison-forum"].visibility == "group"
    assert boards["liaison-forum"].group.slug == "liaison"
    deep = db.session.scalar(db.select(db.func.max(Post.depth)))
    assert deep >= 2
    titles = set(db.session.scalars(db.select(Topic.title)))
    assert any("socioeconómicas" in t for t in titles)  # a Spanish thread
    assert any("Protocole additionnel" in t for t in titles)  # a French thread
    kofi = db.session.scalar(db.select(Member).where(Member.email == "kofi@example.org"))
    wanjiru = db.session.scalar(db.select(Member).where(Member.email == "wanjiru@example.org"))
    assert "liaison-forum" not in {b.slug for b in services.readable_boards(kofi)}
    assert "liaison-forum" in {b.slug for b in services.readable_boards(wanjiru)}
    moderator = db.session.scalar(db.select(Member).where(
        Member.email == "moderator@example.org"))
    assert len(moderation.moderation_queue(moderator)) == 2  # one held, one reported
    # The pages render with the demo content.
    assert "Stacked events" in client.get("/forums/risk-assessment").get_data(as_text=True)
    topic = db.session.scalar(db.select(Topic).where(Topic.title.like("Stacked events%")))
    assert client.get(f"/forums/topics/{topic.id}").status_code == 200
    # Seeding again adds nothing.
    count = db.session.scalar(db.select(db.func.count(Post.id)))
    seed.seed_demo()
    assert db.session.scalar(db.select(db.func.count(Post.id))) == count
