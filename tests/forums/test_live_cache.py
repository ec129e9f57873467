"""Topic pages kept in memory: served again without rendering, current after every change
readers would see, never in place of an access decision; members share a copy filled in
for each of them, never another member's."""

from __future__ import annotations

import pytest
from markupsafe import escape

from forums import cache, editing, moderation, services
from forums.models import Post
from hub import personal
from hub.extensions import db


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
    editing.edit_post(cast.moderator, reply, "An edited reply.")
    assert "An edited reply." in client.get(url).get_data(as_text=True)
    editing.delete_post(cast.moderator, reply)
    assert "This post was deleted." in client.get(url).get_data(as_text=True)
    moderation.set_locked(cast.moderator, topic, True)
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
    assert statements.count == 2  # the topic (and its board), its posts (and their files)


# -- members: one kept page, filled in for each ------------------------------------------

def _posts(page: str) -> dict[str, str]:
    """Each post's article on a page, by post id."""
    found = {}
    for part in page.split('<article id="p')[1:]:
        found[part.split('"', 1)[0]] = part.split("</article>", 1)[0]
    return found


def _sign_in(client, auth, who) -> None:
    """Sign `who` in (signing out whoever was), and show the greeting: a page with a
    message waiting is rendered for its reader alone, never kept."""
    auth.logout()
    auth.login(who)
    client.get("/account/")


def _kept(app) -> int:
    return sum(1 for key in cache.pages(app)._pages if "member" in key)


def test_two_members_share_one_kept_page_each_filled_in_for_them(app, client, auth, cast,
                                                                 topic, make_member,
                                                                 statements):
    other = make_member(name="Other <Reader>")
    theirs = services.create_reply(other, topic, "A reply by the other reader.")
    third = services.create_reply(cast.group_member, topic, "A third reader's post.")
    url = f"/forums/topics/{topic.id}?view=flat"
    first_id = str(db.session.scalar(db.select(Post.id).where(Post.topic_id == topic.id,
                                                              Post.position == 1)))

    _sign_in(client, auth, cast.member)
    mine_page = client.get(url).get_data(as_text=True)
    _sign_in(client, auth, other)
    with statements:
        other_page = client.get(url).get_data(as_text=True)
    # The second member was served the first one's copy, filled in: no posts loaded, and
    # the topic with their marks came in the statement that loaded the member.
    assert _kept(app) == 1 and statements.count == 1

    for page, me, them in ((mine_page, cast.member, other), (other_page, other, cast.member)):
        assert personal.OPEN not in page and personal.CLOSE not in page
        assert f'data-viewer="{me.id}"' in page
        account = page.split('<div class="account">')[1].split("</div>")[0]
        assert str(escape(me.name)) in account and str(escape(them.name)) not in account
    ours, yours = _posts(mine_page), _posts(other_page)
    # The first post is the member's: theirs to edit; the reply is the other reader's.
    assert "Edit" in ours[first_id] and "Report this post" not in ours[first_id]
    assert "Edit" not in ours[str(theirs.id)] and "Report this post" in ours[str(theirs.id)]
    assert "Edit" not in yours[first_id] and "Report this post" in yours[first_id]
    assert "Edit" in yours[str(theirs.id)]
    # Replying marks a topic read up to the reply: the member has read only the first
    # post, the other reader both; a third reader's later post is new to both.
    new = 'class="badge">new<'
    assert new in ours[str(theirs.id)] and new in ours[str(third.id)]
    assert new not in ours[first_id]
    assert new not in yours[first_id] and new not in yours[str(theirs.id)]
    assert new in yours[str(third.id)]
    assert 'class="post depth-0 unread"' in yours[str(third.id)]


def test_the_member_load_that_brings_the_topic_still_decides_access(client, auth, cast):
    """On a topic page the member's load brings the topic too (one statement); access is
    decided after it, with the member it found, and a session that ended loads nobody."""
    closed = services.create_topic(cast.group_member, cast.closed, "Group only", "Text.").topic
    _sign_in(client, auth, cast.member)
    assert client.get(f"/forums/topics/{closed.id}").status_code == 404
    assert client.get("/forums/topics/999999").status_code == 404  # the member is found
    _sign_in(client, auth, cast.group_member)
    page = client.get(f"/forums/topics/{closed.id}")
    assert page.status_code == 200 and "Group only" in page.get_data(as_text=True)
    cast.group_member.session_version += 1  # the password changed elsewhere
    db.session.commit()
    again = client.get(f"/forums/topics/{closed.id}")
    assert again.status_code == 404  # a visitor now: the group's board is closed to them
    assert str(escape(cast.group_member.name)) not in again.get_data(as_text=True)


def test_readers_in_the_same_place_share_a_settled_copy(app, client, auth, cast, topic,
                                                         make_member):
    """Which posts are a reader's own and which are new to them is settled once per
    place (own posts, how far read) and shared; the kept page's size counts each copy."""
    url = f"/forums/topics/{topic.id}?view=flat"
    pages = []
    for who in (make_member(name="First Reader"), make_member(name="Second Reader"),
                cast.member):
        _sign_in(client, auth, who)
        pages.append((who, client.get(url).get_data(as_text=True)))
    (kept,) = [page for key, (_t, page, _w) in cache.pages(app)._pages.items()
               if "member" in key]
    assert len(kept.settled) == 2  # the two readers share one place; the author has one
    weight = cache.pages(app)._pages[next(k for k in cache.pages(app)._pages
                                          if "member" in k)][2]
    assert weight > 2 * sum(map(len, kept.html.texts))
    for who, page in pages:
        assert f'data-viewer="{who.id}"' in page and str(escape(who.name)) in page
        assert ("Edit" in page) == (who is cast.member)


def test_a_kept_page_follows_the_members_own_settings(client, auth, cast, topic):
    url = f"/forums/topics/{topic.id}"
    _sign_in(client, auth, cast.group_member)
    assert "Watch: email me every new post" in client.get(url).get_data(as_text=True)
    client.post(f"/forums/topics/{topic.id}/subscription", data={"mode": "each"})
    client.post(f"/forums/topics/{topic.id}/read", data={"up_to": topic.last_post_id})
    page = client.get(url).get_data(as_text=True)
    assert "Stop watching" in page and 'class="badge">new<' not in page


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_forms_on_a_kept_page_carry_the_readers_own_token(app, client, cast, topic,
                                                          make_member, statements):
    from tests.conftest import PASSWORD

    url = f"/forums/topics/{topic.id}"
    readers = [cast.group_member, make_member(name="Second Reader")]
    for reader in readers:
        login = client.get("/login").get_data(as_text=True)
        token = login.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"email": reader.email, "password": PASSWORD,
                                    "csrf_token": token})
        client.get("/account/")  # the greeting: a page with a message is not kept
        with statements:
            page = client.get(url).get_data(as_text=True)
        tokens = {part.split('"')[0] for part in page.split('name="csrf_token" ')[1:]
                  for part in [part.split('value="', 1)[1]]}
        assert len(tokens) == 1
        token = tokens.pop()
        response = client.post(f"/forums/topics/{topic.id}/subscription",
                               data={"mode": "each", "csrf_token": token})
        assert response.status_code == 302
        assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert _kept(app) == 1 and statements.count == 1  # the second reader's from the copy


def test_a_forged_mark_in_a_post_stays_text(client, auth, cast, topic):
    """Marks carry a key no member knows: spelling one out fills in nothing."""
    services.create_reply(cast.member, topic, "\ue000csrf\ue001 and \ue000name\ue001")
    _sign_in(client, auth, cast.group_member)
    page = client.get(f"/forums/topics/{topic.id}").get_data(as_text=True)
    assert "\ue000csrf\ue001 and \ue000name\ue001" in page


def test_own_held_posts_are_never_in_a_kept_page(client, auth, cast, make_member):
    board = cast.members
    services.update_board(cast.secretariat, board, services.BoardData(premoderated=True))
    topic = services.create_topic(cast.moderator, board, "Held replies", "Open.").topic
    author = make_member(name="Held Author")
    held = services.create_reply(author, topic, "Waiting for a moderator.")
    assert held.status == "held"
    url = f"/forums/topics/{topic.id}"
    _sign_in(client, auth, cast.member)
    assert "Waiting for a moderator." not in client.get(url).get_data(as_text=True)
    _sign_in(client, auth, author)
    page = client.get(url).get_data(as_text=True)
    assert "Waiting for a moderator." in page and "awaiting moderation" in page
    _sign_in(client, auth, cast.moderator)
    page = client.get(url).get_data(as_text=True)
    assert "Waiting for a moderator." in page and ">Approve<" in page
    _sign_in(client, auth, cast.member)  # the member's kept copy did not take the moderator's
    assert "Waiting for a moderator." not in client.get(url).get_data(as_text=True)
    moderation.reject_post(cast.moderator, held, "Off topic.")
    _sign_in(client, auth, cast.moderator)
    assert "not published" in client.get(url).get_data(as_text=True)


def test_a_kept_page_keeps_each_roles_own_menu(client, auth, cast, topic):
    """The Secretariat and a network moderator both moderate the board, but only the
    Secretariat's menu has the Secretariat's desk."""
    url = f"/forums/topics/{topic.id}"
    desk = 'href="/secretariat/'
    _sign_in(client, auth, cast.secretariat)
    assert desk in client.get(url).get_data(as_text=True)
    _sign_in(client, auth, cast.moderator)
    page = client.get(url).get_data(as_text=True)
    assert desk not in page and ">Approve<" not in page and "Moderate this topic" in page
    _sign_in(client, auth, cast.secretariat)
    assert desk in client.get(url).get_data(as_text=True)
