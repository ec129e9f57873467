"""Initials avatars: generated inline, in the member's colour, beside every post."""

from __future__ import annotations

from hub.avatars import PALETTE, avatar, colour, initials


def test_initials_and_colour_are_the_members_own():
    assert initials("Lucía Fernández") == "LF"
    assert initials("wanjiru") == "W"
    assert initials("Jean-Pierre Dupont") == "JD"
    assert initials("") == "?"
    assert colour(3) in PALETTE and colour(3) == colour(3)
    svg = str(avatar(type("M", (), {"id": 3, "name": "<b>Ana</b> Ruiz"})()))
    assert svg.startswith("<svg") and 'aria-hidden="true"' in svg and "<b>" not in svg


def test_every_post_shows_its_authors_avatar(client, make_member):
    from forums import services
    from forums.models import Board
    from hub.extensions import db

    board = Board(slug="avatars", name="Avatars", visibility="public", posting="all")
    db.session.add(board)
    db.session.commit()
    author = make_member(name="Njeri Otieno")
    post = services.create_topic(author, board, "Hello", "First")
    page = client.get(f"/forums/topics/{post.topic_id}").get_data(as_text=True)
    assert '<svg class="avatar"' in page and ">NO</text>" in page
