"""The `hub` command's administration commands."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from hub.extensions import db
from hub.models import Group, Member, MemberStatus, ThematicArea


def test_create_member_and_token(runner, client):
    result = runner.invoke(args=["create-member", "ops@example.org", "--name", "Ops",
                                 "--password", "a long password here", "--role",
                                 "secretariat"])
    assert result.exit_code == 0, result.output
    member = db.session.scalar(db.select(Member).where(Member.email == "ops@example.org"))
    assert member.status == MemberStatus.ACTIVE and member.role == "secretariat"
    result = runner.invoke(args=["token", "create", "ops@example.org"])
    assert result.exit_code == 0
    token = result.stdout.strip().splitlines()[-1]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["roles"] == ["secretariat"]


def test_create_member_refuses_a_weak_password(runner):
    result = runner.invoke(args=["create-member", "x@example.org", "--name", "X",
                                 "--password", "short"])
    assert result.exit_code != 0 and "at least" in result.output


def test_token_for_an_unknown_member_fails(runner):
    result = runner.invoke(args=["token", "create", "ghost@example.org"])
    assert result.exit_code != 0


def test_seed_demo_is_idempotent_and_respects_if_empty(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0 and "secretariat@example.org" in result.output
    count = db.session.scalar(db.select(db.func.count()).select_from(Member))
    assert count >= 9
    regions = set(db.session.scalars(db.select(Member.region)))
    assert {"africa", "asia_pacific", "eastern_europe", "grulac", "weog"} <= regions
    assert db.session.scalar(db.select(Group).where(Group.slug == "liaison")) is not None
    assert db.session.scalar(db.select(db.func.count()).select_from(ThematicArea)) >= 10
    assert "already has members" in runner.invoke(args=["seed-demo", "--if-empty"]).output
    assert db.session.scalar(db.select(db.func.count()).select_from(Member)) == count


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_hub_serve_answers_over_http(app, tmp_path):
    """The production web role starts from the console script and serves requests."""
    number = free_port()
    env = {**os.environ, "HUB_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "HUB_SECRET_KEY": "test", "HUB_PORT": str(number)}
    hub = Path(sys.executable).with_name("hub")
    proc = subprocess.Popen([str(hub), "serve", "--threads", "4"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60  # a loaded machine starts processes slowly
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{number}/healthz",
                                            timeout=5) as r:
                    assert r.status == 200 and b'"ok"' in r.read()
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("hub serve did not come up")
                time.sleep(0.2)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_secretariat_edits_thematic_areas(client, make_member, auth):
    from hub.models import Role

    auth.login(make_member(role=Role.SECRETARIAT))
    client.post("/secretariat/areas", data={"name": "Synthetic biology", "active": "y"})
    area = db.session.scalar(db.select(ThematicArea).where(ThematicArea.slug ==
                                                           "synthetic-biology"))
    assert area is not None and area.active
    client.post("/secretariat/areas", data={"area_id": area.id, "name": "Synthetic biology",
                                            "position": 1})
    db.session.refresh(area)
    assert not area.active and area.position == 1
    auth.logout()
    assert "Synthetic biology" not in client.get("/apply").get_data(as_text=True)
