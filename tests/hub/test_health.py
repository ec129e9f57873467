"""/healthz answers JSON for monitors: 200 with every dependency up, 503 naming what is
down, never the HTML error page."""

from __future__ import annotations

from hub import create_app


def test_healthz_answers_json_when_all_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok" and response.json["database"] == "ok"


def test_healthz_names_the_database_when_it_is_down(app_config, tmp_path):
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI":
                      f"sqlite:///{tmp_path}/no/such/dir/hub.sqlite3",
                      "HUB_REDIS_URL": None})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["down"] == ["database"] and response.json["database"] == "down"
    assert response.json["redis"] == "not configured"


def test_each_process_reuses_a_check_for_hub_health_seconds(app, client, monkeypatch):
    """Monitors may poll often: the database is asked at most every HUB_HEALTH_SECONDS,
    and an outage shows once that time has passed."""
    from hub import health

    asked: list[str] = []
    answer = {"state": "ok"}
    monkeypatch.setattr(health.Health, "_database",
                        lambda self: asked.append("db") or answer["state"])
    now = {"t": 1000.0}
    monkeypatch.setattr(health.time, "monotonic", lambda: now["t"])
    app.config["HUB_HEALTH_SECONDS"] = 0.5
    app.extensions["hub_health"] = health.Health(app)

    assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5
    assert asked == ["db"]
    answer["state"] = "down"
    now["t"] += 0.4
    assert client.get("/healthz").status_code == 200 and asked == ["db"]  # still fresh
    now["t"] += 0.2
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json["down"] == ["database"]
    assert asked == ["db", "db"]

    app.config["HUB_HEALTH_SECONDS"] = 0  # asked on every request
    now["t"] += 1
    answer["state"] = "ok"
    assert [client.get("/healthz").status_code for _ in range(3)] == [200] * 3
    assert len(asked) == 5


def test_healthz_keeps_one_redis_client(app, client, monkeypatch):
    """Redis is pinged through one client (its connection pool), not a new connection per
    check."""
    import redis

    from hub import health

    made: list[str] = []

    class Client:
        def ping(self) -> bool:
            return True

    monkeypatch.setattr(redis.Redis, "from_url",
                        staticmethod(lambda url, **kw: made.append(url) or Client()))
    app.config.update(HUB_REDIS_URL="redis://127.0.0.1:1/0", HUB_HEALTH_SECONDS=0)
    app.extensions["hub_health"] = health.Health(app)
    assert [client.get("/healthz").json["redis"] for _ in range(3)] == ["ok"] * 3
    assert made == ["redis://127.0.0.1:1/0"]
