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
