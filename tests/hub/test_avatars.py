"""Initials avatars: generated inline, in the member's colour, beside every post."""

from __future__ import annotations

from hub.avatars import PALETTE, avatar, colour, initials


def test_initials_and_colour_are_the_members_own():
    assert initials("Lucía Fernández") == "LF"
    assert initials("wanjiru") == "W"
    assert initials("Jean-Pierre Dupont") == "JD"
    assert initials("") == "?"
    assert 0 <= colour(3) < len(PALETTE) and colour(3) == colour(3)
    html = str(avatar(type("M", (), {"id": 3, "name": "<b>Ana</b> Ruiz"})()))
    assert html.startswith('<span class="avatar c') and 'aria-hidden="true"' in html
    assert "<b>" not in html


def test_the_stylesheet_carries_every_colour():
    from pathlib import Path

    from hub.avatars import stylesheet

    css = (Path(__file__).parents[2] / "hub" / "static" / "hub.css").read_text()
    assert stylesheet() in css


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
    assert '<span class="avatar c' in page and '">NO</span>' in page
