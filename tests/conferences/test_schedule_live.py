"""The schedule locks and unlocks round topics through the forums' own lock: readers
with the topic open are told at once, and the page kept for readers who are not signed
in shows the lock on the next view."""

from __future__ import annotations

import contextvars
from typing import Any

import pytest

from conferences import agenda, editing, schedule
from hub.extensions import db, socketio
from hub.models import AuditEntry

from .conftest import day, round_topic


@pytest.fixture
def app_config(app_config):
    # Flask-SocketIO's test client works without a message queue only (the Redis path
    # is tested with real servers in tests/forums/test_live_processes.py).
    return {**app_config, "HUB_REDIS_URL": None}


def _reader(app, browser) -> Any:
    """A live reader with `browser`'s session; each call runs in a context of its own,
    as every socket event does on a server."""
    sock = contextvars.Context().run(socketio.test_client, app, flask_test_client=browser)
    assert sock.is_connected()

    def call(method: str, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(getattr(sock, method), *args, **kwargs)

    return call


def _topic_events(reader) -> list[tuple[int, str, bool]]:
    return [(e["args"][0]["topic_id"], e["args"][0]["action"], e["args"][0]["locked"])
            for e in reader("get_received") if e["name"] == "topic"]


def test_a_reader_is_told_when_the_round_ends_and_when_it_is_extended(app, client, auth,
                                                                        in_session, people,
                                                                        at):
    topic_id = round_topic(in_session, 1).id
    auth.login(people.participant)
    reader = _reader(app, client)
    assert reader("emit", "join", {"topic": topic_id}, callback=True)["ok"]
    reader("get_received")
    at(day(14.5))
    schedule.run()
    assert _topic_events(reader) == [(topic_id, "lock", True)]
    assert round_topic(in_session, 1).locked
    # In the audit log as the schedule's doing, not a person's.
    assert db.session.execute(db.select(AuditEntry.actor_id, AuditEntry.detail).where(
        AuditEntry.action == "topic.lock")).all() == [(None, "conference risk: round 1 ended")]
    schedule.run()  # the next round of the worker has nothing more to say
    assert _topic_events(reader) == []
    # A moderator extends the round the schedule locked: it reopens, and readers see it.
    item = next(r for r in in_session.rounds if r.number == 1)
    agenda.update_round(people.moderator, item, agenda.RoundData(closes_at=day(16)))
    assert _topic_events(reader) == [(topic_id, "unlock", False)]
    reader("disconnect")


def test_the_closing_locks_the_last_round_for_live_and_cached_readers(app, client, in_session,
                                                                      people, at):
    at(day(14.5))
    schedule.run()  # round 2 starts
    topic_id = round_topic(in_session, 2).id
    at(day(21.5))  # closed; the worker has not run since
    editing.set_archive(people.secretariat, in_session, "public")
    url = f"/forums/topics/{topic_id}"
    page = client.get(url).get_data(as_text=True)  # kept for readers not signed in
    assert "Uncertainty" in page and ">locked<" not in page
    reader = _reader(app, app.test_client())  # an anonymous reader of the public archive
    assert reader("emit", "join", {"topic": topic_id}, callback=True)["ok"]
    reader("get_received")
    schedule.run()
    assert _topic_events(reader) == [(topic_id, "lock", True)]
    assert ">locked<" in client.get(url).get_data(as_text=True)
    reader("disconnect")
