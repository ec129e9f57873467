"""The demo meetings of `hub seed-demo`: a regional workshop that has taken place, with
submissions, published proceedings and recommendations, and a liaison group meeting
chaired by the group's elected chair."""

from __future__ import annotations

from hub.extensions import db
from hub.models import Group, GroupChair
from meetings.models import Meeting, Submission


def test_the_demo_meetings(app, runner, client):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    workshop = db.session.scalar(db.select(Meeting).where(Meeting.kind == "workshop"))
    assert workshop.level == "regional" and workshop.proceedings_published_at is not None
    assert db.session.scalar(db.select(db.func.count(Submission.id)).where(
        Submission.meeting_id == workshop.id)) == 3
    assert {r.status for r in workshop.recommendations} == {"open", "in_progress", "done"}
    liaison = db.session.scalar(db.select(Meeting).where(Meeting.kind == "liaison"))
    group = db.session.scalar(db.select(Group).where(Group.slug == "liaison"))
    assert liaison.group_id == group.id and db.session.get(GroupChair, group.id) is not None
    assert client.get(f"/meetings/{workshop.slug}/followup").status_code == 200
    assert client.get(f"/meetings/{liaison.slug}").status_code == 404  # closed to visitors
