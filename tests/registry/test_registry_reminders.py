"""Owners of records not updated for HUB_REGISTRY_REMIND_DAYS are reminded by email: one
message per owner, once per period, however often the worker runs the task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub import clock
from hub.registry import follows

START = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    clock.freeze(START)
    yield
    clock.freeze(None)


def _worker_round(app):
    for task in app.extensions["hub_periodic"]:
        task()


def _move(days: float) -> None:
    clock.freeze(clock.now() + timedelta(days=days))


@pytest.mark.config(HUB_REGISTRY_REMIND_DAYS=180)
def test_a_stale_record_brings_one_reminder_per_period(app, frozen, smtp, run_jobs,
                                                        make_record, owner):
    record = make_record("projects", owner=owner, title="Seed bank project")
    _move(179)
    _worker_round(app)
    run_jobs()
    assert smtp.to(owner.email) == [m for m in smtp.to(owner.email)
                                    if "Published" in m["Subject"]]  # only the publication
    smtp.clear()
    _move(2)  # 181 days without an update
    for _ in range(3):  # the worker runs many rounds; the scan runs about hourly
        _worker_round(app)
        _move(1 / 24 + 0.001)
    follows.send_reminders()  # and another worker's scan at the same moment
    run_jobs()
    mails = smtp.to(owner.email)
    assert len(mails) == 1
    body = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert "Seed bank project" in body and "more than 180 days" in body
    assert f"/registry/projects/{record.id}" in body
    smtp.clear()
    _move(100)
    _worker_round(app)
    run_jobs()
    assert smtp.to(owner.email) == []  # still inside this period
    _move(90)
    _worker_round(app)
    run_jobs()
    assert len(smtp.to(owner.email)) == 1  # the next period


@pytest.mark.config(HUB_REGISTRY_REMIND_DAYS=30)
def test_one_message_lists_all_of_an_owners_stale_records(app, frozen, smtp, run_jobs,
                                                          make_record, owner, other):
    make_record("projects", owner=owner, title="First project")
    make_record("reports", owner=owner, title="A report")
    make_record("reports", owner=other, title="Someone else's")
    make_record("reports", owner=owner, state="draft", title="A draft")
    run_jobs()
    smtp.clear()
    _move(31)
    assert follows.send_reminders() == 2
    run_jobs()
    mine = smtp.to(owner.email)
    assert len(mine) == 1
    body = mine[0].get_body(preferencelist=("plain",)).get_content()
    assert "First project" in body and "A report" in body and "A draft" not in body
    assert len(smtp.to(other.email)) == 1


@pytest.mark.config(HUB_REGISTRY_REMIND_DAYS=30)
def test_an_update_or_a_confirmation_stops_the_reminders(app, client, auth, frozen, smtp,
                                                         run_jobs, make_record, owner,
                                                         token_for):
    edited = make_record("projects", owner=owner, title="Edited")
    confirmed = make_record("projects", owner=owner, title="Confirmed")
    run_jobs()
    smtp.clear()
    _move(29)
    client.patch(f"/api/v1/registry/projects/{edited.id}", json={"funding": "GEF"},
                 headers=token_for(owner))
    auth.login(owner)
    page = client.post(f"/registry/projects/{confirmed.id}/confirm")
    assert page.status_code == 302
    _move(2)
    assert follows.send_reminders() == 0
    _move(29)
    assert follows.send_reminders() == 1


@pytest.mark.config(HUB_REGISTRY_REMIND_DAYS=0)
def test_reminders_can_be_switched_off(app, frozen, make_record, owner):
    make_record("projects", owner=owner)
    _move(5000)
    assert follows.send_reminders() == 0
