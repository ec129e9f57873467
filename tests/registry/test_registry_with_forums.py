"""The registry and the real forums together: a record's discussion topic and record
cards inside forum posts."""

from __future__ import annotations

from forums.models import Topic
from forums.services import create_reply
from hub.extensions import db


def test_discussing_a_record_opens_one_topic_on_the_registry_board(client, auth, owner,
                                                                   other, make_record):
    record = make_record("projects", title="Seed banks for Andean maize")
    auth.login(owner)
    first = client.post(f"/registry/projects/{record.id}/discuss")
    assert first.status_code == 302
    topic_page = client.get(first.location)
    assert topic_page.status_code == 200
    assert "Seed banks for Andean maize" in topic_page.get_data(as_text=True)
    auth.logout()
    auth.login(other)
    again = client.post(f"/registry/projects/{record.id}/discuss")
    assert again.location == first.location  # the same topic, not a second one
    [topic] = db.session.scalars(db.select(Topic).where(
        Topic.external_key == f"project:{record.id}")).all()
    assert topic.board.slug == "registry"


def test_a_record_reference_in_a_forum_post_renders_as_a_card(client, auth, owner,
                                                              make_record):
    record = make_record("projects", title="Biosafety labs in the Sahel")
    auth.login(owner)
    location = client.post(f"/registry/projects/{record.id}/discuss").location
    topic = db.session.scalar(db.select(Topic).where(
        Topic.external_key == f"project:{record.id}"))
    post = create_reply(owner, topic, f"See also [[project:{record.id}]] for the budget.")
    assert "Biosafety labs in the Sahel" in post.html and "<a " in post.html
    page = client.get(location).get_data(as_text=True)
    assert f"/registry/projects/{record.id}" in page
