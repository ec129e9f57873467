"""Live updates over Socket.IO, in one process (`socketio.test_client`): who may join
which room, what readers receive when posts are made, edited, deleted and moved, reader
counts, the HTTP catch-up after a reconnect, and losing access while connected."""

from __future__ import annotations

import contextvars
import re

import pytest

from forums import editing, moderation, services, sockets
from hub import groups as hub_groups
from hub import services as hub_services
from hub.extensions import db, socketio

ROLES = ("anonymous", "member", "group_member", "moderator", "secretariat")
READERS = {
    "public": set(ROLES),
    "members": {"member", "group_member", "moderator", "secretariat"},
    "closed": {"group_member", "secretariat"},
}


@pytest.fixture
def app_config(app_config):
    # Flask-SocketIO's test client works without a message queue only; the cross-process
    # path (Redis) is tested with real servers in test_live_processes.py.
    return {**app_config, "HUB_REDIS_URL": None}


class Isolated:
    """A Socket.IO test client whose every call runs outside the test's app context, as
    each socket event does in a server (its own `g`: signed-in member, language)."""

    def __init__(self, app, flask_client):
        self._sock = contextvars.Context().run(
            socketio.test_client, app, flask_test_client=flask_client)

    def __getattr__(self, name):
        attr = getattr(self._sock, name)
        if not callable(attr):
            return attr
        return lambda *args, **kwargs: contextvars.Context().run(attr, *args, **kwargs)


@pytest.fixture
def sio(app, client):
    """Socket.IO clients that carry `client`'s session cookie (sign in first)."""
    made = []

    def connect(flask_client=None):
        sock = Isolated(app, flask_client or client)
        assert sock.is_connected()
        made.append(sock)
        return sock

    yield connect
    for sock in made:
        if sock.is_connected():
            sock.disconnect()


def _events(sock, name=None):
    """What a client received since the last look: the payloads of one event, or all of
    them by name."""
    found: dict[str, list] = {}
    for e in sock.get_received():
        found.setdefault(e["name"], []).append(e["args"][0])
    return found.get(name, []) if name else found


def _login(auth, cast, role):
    if role != "anonymous":
        auth.login(cast.who(role))


@pytest.mark.parametrize("board", ["public", "members", "closed"])
@pytest.mark.parametrize("role", ROLES)
def test_joining_a_room_follows_read_access(auth, cast, sio, role, board):
    place = getattr(cast, board)
    first = services.create_topic(cast.secretariat, place, "Live topic", "Hello.")
    _login(auth, cast, role)
    sock = sio()
    answer = sock.emit("join", {"topic": first.topic_id}, callback=True)
    board_answer = sock.emit("join", {"board": place.slug}, callback=True)
    allowed = role in READERS[board]
    assert answer["ok"] is allowed, answer
    assert board_answer["ok"] is allowed, board_answer
    if not allowed:
        # A closed forum does not exist for outsiders; a members' board asks to sign in.
        expected = "not_found" if board == "closed" else (
            "unauthorized" if role == "anonymous" else "no_access")
        assert answer["error"] == expected
    sock.get_received()
    services.create_reply(cast.secretariat, first.topic, "A reply everyone in the room sees.")
    received = _events(sock)
    posts, rows = received.get("post", []), received.get("topic_row", [])
    if allowed:
        assert [p["position"] for p in posts] == [2]
        assert "A reply everyone in the room sees." in posts[0]["html"]
        assert [r["topic_id"] for r in rows] == [first.topic_id]
    else:
        assert posts == [] and rows == []


def test_a_reader_sees_new_edited_and_deleted_posts(auth, cast, sio):
    first = services.create_topic(cast.member, cast.public, "Maize trials", "Opening post.")
    auth.login(cast.group_member)
    sock = sio()
    answer = sock.emit("join", {"topic": first.topic_id}, callback=True)
    assert answer["ok"] and answer["last"] == 1
    sock.get_received()

    reply = services.create_reply(cast.moderator, first.topic, "Field data from **Kenya**.",
                                  parent=first)
    [new] = _events(sock, "post")
    assert new["change"] == "new" and new["id"] == reply.id and new["position"] == 2
    assert new["parent_id"] == first.id and new["thread_key"].count(".") == 1
    assert "<strong>Kenya</strong>" in new["html"] and f'id="p{reply.id}"' in new["html"]
    # The fragment is for any reader: actions are marked for the page's script to prune.
    assert 'data-needs="reply"' in new["html"]
    assert f'data-not-author="{cast.moderator.id}"' in new["html"]
    assert "csrf_token" not in new["html"]  # no reader's secrets in a shared fragment

    editing.edit_post(cast.moderator, reply, "Field data from Uganda.")
    [edited] = _events(sock, "post")
    assert edited["change"] == "edit" and "Uganda" in edited["html"]
    assert "edited" in edited["html"]

    editing.delete_post(cast.moderator, reply)
    [deleted] = _events(sock, "post")
    assert deleted["change"] == "delete" and "Uganda" not in deleted["html"]
    assert "This post was deleted." in deleted["html"]


def test_held_posts_reach_the_room_only_when_approved(auth, cast, sio, make_board):
    board = make_board("held-board", premoderated=True)
    first = services.create_topic(cast.moderator, board, "Moderated", "Welcome.")
    auth.login(cast.group_member)
    sock = sio()
    assert sock.emit("join", {"topic": first.topic_id}, callback=True)["ok"]
    sock.get_received()
    held = services.create_reply(cast.member, first.topic, "Waiting for a moderator.")
    assert held.status == "held"
    assert _events(sock, "post") == []
    moderation.approve_post(cast.moderator, held)
    [post] = _events(sock, "post")
    assert post["id"] == held.id and "Waiting for a moderator." in post["html"]


def test_fragments_come_in_the_readers_language(app, cast, sio):
    first = services.create_topic(cast.member, cast.public, "Idiomas", "Hola.")
    readers = {}
    for language in ("en", "es"):
        browser = app.test_client()
        browser.set_cookie("hub_lang", language)
        readers[language] = sio(browser)
        assert readers[language].emit("join", {"topic": first.topic_id}, callback=True)["ok"]
        readers[language].get_received()
    services.create_reply(cast.moderator, first.topic, "Respuesta.")
    when = {}
    for language, sock in readers.items():
        [post] = _events(sock, "post")
        when[language] = re.search(r'<time [^>]*title="([^"]+)"[^>]*>([^<]+)</time>',
                                   post["html"]).groups()
    # The text is relative ("just now"), the exact time on hover in each language's
    # format: "Nov 21, 2026, 3:05 PM" in English, "21 nov 2026, 15:05" in Spanish.
    assert when["en"][1] == "just now" and when["es"][1] == "justo ahora"
    assert re.search(r"[AP]M", when["en"][0]) and not re.search(r"[AP]M", when["es"][0])


def test_reader_counts_count_members_once(app, client, auth, cast, sio):
    first = services.create_topic(cast.member, cast.public, "Counted", "One.")
    live = sockets.live_state(app)
    auth.login(cast.member)
    tabs = [sio(), sio()]  # one member, two tabs
    for tab in tabs:
        assert tab.emit("join", {"topic": first.topic_id}, callback=True)["ok"]
    room = sockets.topic_room(first.topic_id, cast.public.id)
    assert live.presence.count(room) == 1
    auth.logout()
    guest = sio()
    answer = guest.emit("join", {"topic": first.topic_id}, callback=True)
    assert answer["readers"] == 2
    live.flush()
    assert [e["count"] for e in _events(tabs[0], "readers")][-1] == 2
    guest.disconnect()
    live.flush()
    assert [e["count"] for e in _events(tabs[0], "readers")][-1] == 1


def test_a_moved_topic_leaves_its_old_room(auth, cast, sio):
    first = services.create_topic(cast.secretariat, cast.public, "Going private", "Text.")
    auth.login(cast.member)
    sock = sio()
    assert sock.emit("join", {"topic": first.topic_id}, callback=True)["ok"]
    assert sock.emit("join", {"board": cast.public.slug}, callback=True)["ok"]
    sock.get_received()
    moderation.move_topic(cast.secretariat, first.topic, cast.closed)
    received = sock.get_received()
    assert {"name": "topic", "action": "move"} in [
        {"name": e["name"], "action": e["args"][0].get("action")} for e in received]
    assert [e["args"][0]["change"] for e in received if e["name"] == "topic_row"] == ["remove"]
    services.create_reply(cast.secretariat, first.topic, "Now only for the group.")
    assert _events(sock, "post") == []
    # Joining again is checked again: the topic is on a closed board now.
    assert sock.emit("join", {"topic": first.topic_id}, callback=True) == {
        "ok": False, "error": "not_found"}


def test_leaving_the_group_ends_live_updates_from_its_forum(app, client, auth, cast, sio):
    first = services.create_topic(cast.secretariat, cast.closed, "Liaison", "Internal.")
    auth.login(cast.group_member)
    sock = sio()
    assert sock.emit("join", {"topic": first.topic_id}, callback=True)["ok"]
    sock.get_received()
    hub_groups.remove_from_group(cast.secretariat, cast.group, cast.group_member)
    assert [e["room"] for e in _events(sock, "revoked")] == [
        sockets.topic_room(first.topic_id, cast.closed.id)]
    services.create_reply(cast.secretariat, first.topic, "Not for former members.")
    assert _events(sock, "post") == []


def test_a_deactivated_member_is_disconnected(app, client, auth, cast, sio):
    first = services.create_topic(cast.secretariat, cast.members, "Members", "Text.")
    auth.login(cast.member)
    sock = sio()
    assert sock.emit("join", {"topic": first.topic_id}, callback=True)["ok"]
    hub_services.deactivate(cast.secretariat, cast.member)
    assert not sock.is_connected()


def test_the_periodic_recheck_follows_board_changes(app, auth, cast, sio):
    first = services.create_topic(cast.secretariat, cast.public, "Was public", "Text.")
    auth.login(cast.member)
    sock = sio()
    assert sock.emit("join", {"board": cast.public.slug}, callback=True)["ok"]
    assert sock.emit("join", {"topic": first.topic_id}, callback=True)["ok"]
    sock.get_received()
    services.update_board(cast.secretariat, cast.public,
                          services.BoardData(visibility="group", group=cast.group.slug))
    assert sockets.live_state(app).recheck() == 2
    assert len(_events(sock, "revoked")) == 2


def test_catch_up_returns_what_a_reader_missed(client, auth, cast):
    first = services.create_topic(cast.member, cast.public, "Catching up", "One.")
    topic = first.topic
    second = services.create_reply(cast.moderator, topic, "Two.")
    auth.login(cast.member)
    page = client.get(f"/forums/topics/{topic.id}").get_data(as_text=True)
    at = re.search(r'data-at="([^"]+)"', page).group(1)
    assert 'data-last="2"' in page
    services.create_reply(cast.moderator, topic, "Three, while the reader was away.")
    editing.edit_post(cast.moderator, second, "Two, corrected.")
    data = client.get(f"/forums/topics/{topic.id}/live",
                      query_string={"after": 2, "since": at}).get_json()
    assert [(i["position"], i["change"]) for i in data["items"]] == [(2, "edit"), (3, "new")]
    assert "Two, corrected." in data["items"][0]["html"]
    # Rendered for this reader: their own controls, with their CSRF-protected forms.
    mine = client.get(f"/forums/topics/{topic.id}/live", query_string={"after": 0}).get_json()
    assert "Edit" in mine["items"][0]["html"] and data["last"] == 3


def _catch_up(client, topic_id, state):
    """What live.js asks after a reconnect: the state its page (or its last catch-up)
    left it in, as the page's live box gives it."""
    query = {"after": state["last"], "since": state["at"], "view": "flat"}
    if state.get("seq") is not None:
        query["seq"] = state["seq"]
    return client.get(f"/forums/topics/{topic_id}/live", query_string=query).get_json()


def test_catch_up_returns_a_held_post_published_after_later_ones(client, auth, cast):
    """A reply held for a moderator keeps its position; when it is approved while a
    reader is away, it is older than the posts the reader has, and still missed."""
    cast.public.premoderated = True
    db.session.commit()
    first = services.create_topic(cast.moderator, cast.public, "Catching up", "One.")
    topic = first.topic
    held = services.create_reply(cast.member, topic, "Two, held for a moderator.")
    third = services.create_reply(cast.moderator, topic, "Three, published at once.")
    auth.login(cast.group_member)
    page = client.get(f"/forums/topics/{topic.id}").get_data(as_text=True)
    assert "Two, held" not in page and 'data-last="3"' in page
    box = re.search(r'<p id="live"[^>]*>', page).group(0)
    state = {"last": 3, "at": re.search(r'data-at="([^"]+)"', box).group(1)}
    seq = re.search(r'data-seq="(\d+)"', box)
    state["seq"] = int(seq.group(1)) if seq else None

    moderation.approve_post(cast.moderator, held)  # while the reader is disconnected
    editing.edit_post(cast.moderator, third, "Three, corrected.")
    data = _catch_up(client, topic.id, state)
    assert [(i["id"], i["change"]) for i in data["items"]] == [
        (held.id, "new"), (third.id, "edit")]
    assert "Two, held for a moderator." in data["items"][0]["html"]
    # Where the answer leaves the reader, nothing is missing and nothing comes twice.
    state.update(last=data["last"], at=data["at"], seq=data.get("seq"))
    assert _catch_up(client, topic.id, state)["items"] == []
    late = services.create_reply(cast.member, topic, "Four, held and then rejected.")
    moderation.reject_post(cast.moderator, late, "Off topic.")
    assert _catch_up(client, topic.id, state)["items"] == []  # never visible to them


def test_live_events_carry_the_change_number_catch_up_goes_on_from(auth, cast, sio, client):
    first = services.create_topic(cast.moderator, cast.public, "Numbers", "One.")
    auth.login(cast.member)
    sock = sio()
    answer = sock.emit("join", {"topic": first.topic_id}, callback=True)
    sock.get_received()
    reply = services.create_reply(cast.moderator, first.topic, "Two.")
    [event] = _events(sock, "post")
    assert event["seq"] == answer["seq"] + 1
    data = client.get(f"/forums/topics/{first.topic_id}/live",
                      query_string={"after": 2, "seq": event["seq"]}).get_json()
    assert data["items"] == [] and data["seq"] == event["seq"]
    editing.delete_post(cast.moderator, reply)
    data = client.get(f"/forums/topics/{first.topic_id}/live",
                      query_string={"after": 2, "seq": event["seq"]}).get_json()
    assert [(i["id"], i["change"]) for i in data["items"]] == [(reply.id, "delete")]


@pytest.mark.parametrize("role,status", [("anonymous", 404), ("member", 404),
                                         ("group_member", 200)])
def test_catch_up_is_access_checked(client, auth, cast, role, status):
    first = services.create_topic(cast.secretariat, cast.closed, "Closed", "Secret.")
    _login(auth, cast, role)
    response = client.get(f"/forums/topics/{first.topic_id}/live?after=0")
    assert response.status_code == status
    board = client.get(f"/forums/{cast.closed.slug}/live")
    assert board.status_code == status
    if status == 200:
        assert "Secret." in response.get_json()["items"][0]["html"]
        assert [r["topic_id"] for r in board.get_json()["items"]] == [first.topic_id]


def test_pages_carry_the_live_box_and_script(client, cast):
    first = services.create_topic(cast.member, cast.public, "With JS", "Text.")
    html = client.get(f"/forums/topics/{first.topic_id}").get_data(as_text=True)
    assert 'id="live"' in html and "live.js" in html
    assert "<script>" not in html  # the CSP forbids inline script
    board = client.get(f"/forums/{cast.public.slug}").get_data(as_text=True)
    assert 'data-kind="board"' in board and "live.js" in board


def test_a_failing_listener_never_fails_the_post(app, cast, sio, monkeypatch, caplog):
    first = services.create_topic(cast.member, cast.public, "Robust", "Posted.")
    assert sio().emit("join", {"topic": first.topic_id}, callback=True)["ok"]

    def broken(*args, **kwargs):
        raise RuntimeError("renderer down")

    monkeypatch.setattr(sockets, "render_template", broken)
    reply = services.create_reply(cast.moderator, first.topic, "Still posted.")
    assert db.session.get(type(reply), reply.id).status == "published"
    assert "live updates: could not send" in caplog.text


def test_nothing_is_rendered_for_rooms_nobody_reads(app, cast, sio, monkeypatch):
    rendered = []
    real = sockets.render_template
    monkeypatch.setattr(sockets, "render_template",
                        lambda name, **kw: rendered.append(name) or real(name, **kw))
    first = services.create_topic(cast.member, cast.public, "Unread", "Nobody here.")
    services.create_reply(cast.moderator, first.topic, "Still nobody.")
    assert rendered == []
    english, spanish = app.test_client(), app.test_client()
    spanish.set_cookie("hub_lang", "es")
    for browser in (english, spanish):
        assert sio(browser).emit("join", {"topic": first.topic_id}, callback=True)["ok"]
    services.create_reply(cast.moderator, first.topic, "Two languages read it now.")
    # Once per language read (en, es), not for French; the board's list has no readers.
    assert rendered == ["forums/_live_post.html", "forums/_live_post.html"]


@pytest.mark.config(HUB_LIVE_MAX_SOCKETS=2)
def test_a_full_server_refuses_more_sockets_and_pages_still_work(app, client, cast):
    first = services.create_topic(cast.member, cast.public, "Busy", "Text.")
    held = [Isolated(app, client) for _ in range(2)]
    assert all(sock.is_connected() for sock in held)
    assert not Isolated(app, client).is_connected()
    assert client.get(f"/forums/topics/{first.topic_id}").status_code == 200
    held[0].disconnect()
    again = Isolated(app, client)
    assert again.is_connected()
    for sock in (held[1], again):
        sock.disconnect()
