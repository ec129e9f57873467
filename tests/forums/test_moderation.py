"""Moderation: reports, one queue of held and reported posts, approve, reject with a
reason the author receives by email, edit, delete, lock, pin, move; every moderator
action in the audit log the Secretariat reads."""

from __future__ import annotations

from forums import moderation, services
from forums.models import Post, Topic
from hub.extensions import db
from hub.models import AuditEntry


def _actions() -> list[str]:
    return list(db.session.scalars(db.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_held_and_reported_posts_share_one_queue(client, auth, cast):
    cast.members.premoderated = True
    db.session.commit()
    held = services.create_topic(cast.member, cast.members, "Held topic", "needs approval")
    ok = services.create_topic(cast.member, cast.public, "Fine topic", "offensive words")
    auth.login(cast.group_member)
    assert client.post(f"/forums/posts/{ok.id}/flag",
                       data={"reason": "Insulting a colleague"}).status_code == 302
    assert client.get("/forums/moderation").status_code == 403  # not a moderator
    auth.logout()
    auth.login(cast.moderator)
    html = client.get("/forums/moderation").get_data(as_text=True)
    assert "needs approval" in html and "offensive words" in html
    assert "Insulting a colleague" in html and "1 report" in html
    assert html.index("needs approval") < html.index("offensive words")  # oldest first
    assert client.post(f"/forums/posts/{ok.id}/dismiss").status_code == 302
    html = client.get("/forums/moderation").get_data(as_text=True)
    assert "offensive words" not in html and "needs approval" in html
    assert "post.flags_dismiss" in _actions()
    assert held.status == "held"


def test_approving_publishes_and_notifies_listeners(client, auth, cast):
    cast.public.premoderated = True
    db.session.commit()
    held = services.create_topic(cast.member, cast.public, "Wait", "for approval")
    assert client.get(f"/forums/topics/{held.topic_id}").status_code == 404  # not yet
    auth.login(cast.moderator)
    assert client.post(f"/forums/posts/{held.id}/approve").status_code == 302
    auth.logout()
    assert client.get(f"/forums/topics/{held.topic_id}").status_code == 200
    db.session.refresh(cast.public)
    assert cast.public.topic_count == 1 and "post.approve" in _actions()
    # approving twice is a conflict, not a second publication
    response = client.post(f"/api/v1/posts/{held.id}/approve")
    assert response.status_code == 401


def test_rejecting_tells_the_author_why_by_email(client, auth, cast, smtp, run_jobs,
                                                 token_for):
    cast.public.premoderated = True
    db.session.commit()
    held = services.create_reply(
        cast.member, services.create_topic(cast.moderator, cast.public, "T", "B").topic,
        "My reply with **ideas**")
    headers = token_for(cast.moderator)
    missing = client.post(f"/api/v1/posts/{held.id}/reject", headers=headers, json={})
    assert missing.status_code == 422
    response = client.post(f"/api/v1/posts/{held.id}/reject", headers=headers,
                           json={"reason": "Please keep to the topic of the board."})
    assert response.status_code == 200 and response.get_json()["status"] == "rejected"
    again = client.post(f"/api/v1/posts/{held.id}/approve", headers=headers)
    assert again.status_code == 409
    run_jobs()
    [mail] = smtp.to(cast.member.email)
    text = mail.get_body(("plain",)).get_content()
    assert "Please keep to the topic of the board." in text
    assert "My reply with **ideas**" in text  # their text, to revise and post again
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "post.reject"))
    assert entry.actor_id == cast.moderator.id and entry.target_id == held.id
    # The author still sees it, marked; other members do not.
    auth.login(cast.member)
    html = client.get(f"/forums/topics/{held.topic_id}").get_data(as_text=True)
    assert "not published" in html and "Please keep to the topic" in html


def test_moderators_edit_delete_lock_pin_and_move_with_an_audit_trail(client, auth, cast,
                                                                       make_board):
    other = make_board("other-board", name="Other board")
    post = services.create_topic(cast.member, cast.public, "Topic", "text")
    topic_id = post.topic_id
    reply = services.create_reply(cast.member, post.topic, "reply")
    auth.login(cast.moderator)
    assert client.post(f"/forums/posts/{reply.id}/edit",
                       data={"body": "reply (moderated)"}).status_code == 302
    assert client.post(f"/forums/topics/{topic_id}/pin").status_code == 302
    assert client.post(f"/forums/topics/{topic_id}/lock").status_code == 302
    assert client.post(f"/forums/topics/{topic_id}/move",
                       data={"board": "other-board"}).status_code == 302
    assert client.post(f"/forums/posts/{reply.id}/delete").status_code == 302
    topic = db.session.get(Topic, topic_id)
    db.session.refresh(topic)
    assert topic.pinned and topic.locked and topic.board_id == other.id
    db.session.refresh(other)
    db.session.refresh(cast.public)
    assert (other.topic_count, other.post_count) == (1, 1)  # the deleted reply left
    assert (cast.public.topic_count, cast.public.post_count) == (0, 0)
    assert _actions() == ["post.edit", "topic.pin", "topic.lock", "topic.move",
                          "post.delete"]
    auth.logout()
    auth.login(cast.secretariat)
    audit = client.get("/secretariat/audit").get_data(as_text=True)
    assert "topic.move" in audit and "open-board -&gt; other-board" in audit


def test_members_cannot_moderate(client, auth, cast, token_for):
    post = services.create_topic(cast.group_member, cast.public, "T", "B")
    auth.login(cast.member)
    for action in ("pin", "lock"):
        assert client.post(f"/forums/topics/{post.topic_id}/{action}").status_code == 403
    assert client.post(f"/forums/topics/{post.topic_id}/delete").status_code == 403
    response = client.patch(f"/api/v1/topics/{post.topic_id}", headers=token_for(cast.member),
                            json={"locked": True})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_moderator"
    assert _actions() == []


def test_a_member_reports_a_post_once(client, cast, token_for):
    post = services.create_topic(cast.group_member, cast.public, "T", "B")
    headers = token_for(cast.member)
    assert client.post(f"/api/v1/posts/{post.id}/flags", headers=headers,
                       json={"reason": "spam"}).status_code == 201
    assert client.post(f"/api/v1/posts/{post.id}/flags", headers=headers,
                       json={"reason": "spam"}).status_code == 409
    assert client.post(f"/api/v1/posts/{post.id}/flags", headers=headers,
                       json={"reason": " "}).status_code == 422
    queue = client.get("/api/v1/moderation", headers=token_for(cast.moderator)).get_json()
    assert [(i["id"], [f["reason"] for f in i["flags"]]) for i in queue["items"]] == [
        (post.id, ["spam"])]


def test_group_boards_name_their_own_moderators(cast, make_member, make_group, make_board):
    chair = make_member(name="Chair")
    chairs = make_group("chairs", members=(chair,))
    board = make_board("conference", visibility="group", group_id=cast.group.id,
                       moderator_group_id=chairs.id, premoderated=True)
    held = services.create_topic(cast.group_member, board, "Round 1", "My statement")
    assert held.status == "held"
    moderation.approve_post(chair, held)
    assert db.session.get(Post, held.id).status == "published"
