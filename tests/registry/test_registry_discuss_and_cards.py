"""Discussing a record (through the forums' `hub_discuss`, faked here), short references
in posts that render as cards, and proceedings filed as reports."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html import unescape

import pytest

from hub import events, markup
from hub.registry.models import Report


class FakeForums:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, actor, key, title, url):
        self.calls.append((actor.id, key, title, url))
        return f"http://hub.test/forums/topics/{len(self.calls)}"


@pytest.fixture
def forums(app):
    fake = FakeForums()
    app.extensions["hub_discuss"] = fake
    yield fake
    app.extensions.pop("hub_discuss", None)


def test_no_discuss_button_without_the_forums(app, client, auth, owner, make_record):
    app.extensions.pop("hub_discuss", None)  # a hub whose forums provide no discussions
    record = make_record("projects", title="Seed banks")
    auth.login(owner)
    assert b"Discuss this record" not in client.get(f"/registry/projects/{record.id}").data
    response = client.post(f"/registry/projects/{record.id}/discuss")
    assert response.status_code == 302  # back to the record, with a message
    api = client.post(f"/api/v1/registry/projects/{record.id}/discussion")
    assert api.status_code in {401, 404}


def test_discuss_opens_the_records_topic(client, auth, owner, make_record, forums):
    record = make_record("projects", title="Seed banks")
    assert b"Discuss this record" not in client.get(f"/registry/projects/{record.id}").data
    auth.login(owner)
    page = client.get(f"/registry/projects/{record.id}")
    assert b"Discuss this record" in page.data
    response = client.post(f"/registry/projects/{record.id}/discuss")
    assert response.status_code == 302
    assert response.headers["Location"] == "http://hub.test/forums/topics/1"
    assert forums.calls == [(owner.id, f"project:{record.id}", "Seed banks",
                             f"http://hub.test/registry/projects/{record.id}")]


def test_discuss_through_the_api(client, owner, make_record, forums, token_for):
    record = make_record("needs", country="GH")
    response = client.post(f"/api/v1/registry/needs/{record.id}/discussion",
                           headers=token_for(owner))
    assert response.get_json() == {"url": "http://hub.test/forums/topics/1"}
    assert forums.calls[0][1:3] == (f"need:{record.id}", "Capacity needs of Ghana")


def test_drafts_are_not_discussed(client, owner, make_record, forums, token_for):
    record = make_record("reports", owner=owner, state="draft")
    response = client.post(f"/api/v1/registry/reports/{record.id}/discussion",
                           headers=token_for(owner))
    assert response.status_code == 409 and forums.calls == []


def test_a_reference_becomes_a_card(app, make_record):
    record = make_record("projects", title="Detection <b>& labs</b> *fast*",
                         countries=["KE", "UG"])
    html = markup.render(f"See [[project:{record.id}]] for details.")
    assert 'class="record-card"' in html
    assert f'href="http://hub.test/registry/projects/{record.id}"' in html
    shown = re.search(r'class="record-card-title"[^>]*>(.*?)</a>', html).group(1)
    assert unescape(shown) == "Detection <b>& labs</b> *fast*"  # text, not markup
    assert "<b>" not in html and "<em>" not in html
    assert "Project · Kenya, Uganda" in html


def test_references_to_hidden_or_missing_records_stay_text(app, make_record, owner):
    draft = make_record("projects", owner=owner, state="draft", title="Secret")
    html = markup.render(f"[[project:{draft.id}]] and [[report:999]]")
    assert "Secret" not in html and "record-card" not in html
    assert f"[[project:{draft.id}]]" in html


def test_references_in_code_stay_as_written(app, make_record):
    record = make_record("reports", title="Evaluation")
    html = markup.render(f"`[[report:{record.id}]]`\n\n```\n[[report:{record.id}]]\n```\n\n"
                         f"[[Report:{record.id}]]")
    assert html.count("record-card\"") == 1
    assert html.count(f"[[report:{record.id}]]") == 2


def test_the_record_page_tells_how_to_reference_it(client, make_record):
    record = make_record("opportunities", title="Grant")
    page = client.get(f"/registry/opportunities/{record.id}").data.decode()
    assert f"[[opportunity:{record.id}]]" in page


def _proceedings(**changes):
    data = dict(key="conference:gmo-detection-2025", title="Proceedings of the e-conference "
                "on LMO detection", url="http://hub.test/conferences/gmo-detection-2025/"
                "proceedings", pdf_url="http://hub.test/conferences/gmo-detection-2025/"
                "proceedings.pdf", timeframe_start=datetime(2025, 3, 1, 12, tzinfo=UTC),
                timeframe_end=date(2025, 3, 14), organization="Network Secretariat",
                thematic_areas=("detection-identification", "no-such-area"),
                keywords=("e-conference",))
    data.update(changes)
    return events.ProceedingsEvent(**data)


def test_published_proceedings_appear_as_a_report(app, client, secretariat):
    events.proceedings_published.send(app, event=_proceedings(actor_id=secretariat.id))
    data = client.get("/api/v1/registry/reports?type=proceedings").get_json()
    assert data["total"] == 1
    report = data["items"][0]
    assert report["title"] == "Proceedings of the e-conference on LMO detection"
    assert report["state"] == "published" and report["owner"]["id"] == secretariat.id
    assert report["timeframe"] == {"start": "2025-03-01", "end": "2025-03-14"}
    assert report["thematic_areas"] == ["detection-identification"]
    assert [ln["url"] for ln in report["links"]][1].endswith("proceedings.pdf")
    assert report["external_id"] == "conference:gmo-detection-2025"


def test_proceedings_published_again_update_the_same_report(app, client):
    events.proceedings_published.send(app, event=_proceedings())
    events.proceedings_published.send(app, event=_proceedings(title="Proceedings (revised)",
                                                               pdf_url=None))
    data = client.get("/api/v1/registry/reports").get_json()
    assert [r["title"] for r in data["items"]] == ["Proceedings (revised)"]
    assert len(data["items"][0]["links"]) == 1
    from sqlalchemy import func, select

    from hub.extensions import db

    assert db.session.scalar(select(func.count()).select_from(Report)) == 1
