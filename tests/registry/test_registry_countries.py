"""The registry by country (issue 12): countries on every kind, country and region pages
(pages and API), sections from other packages, national focal points and who speaks for a
country's needs."""

from __future__ import annotations

from datetime import date

import pytest

from hub import events
from hub.extensions import db
from hub.models import Role
from hub.registry import actions, places


@pytest.mark.parametrize("kind", ["reports", "resources"])
def test_reports_and_resources_carry_countries_and_regions(client, owner, token_for, kind):
    body = {"title": "Desk study of Ecuador", "type": "case_study", "countries": ["EC"],
            "regions": ["grulac"]}
    response = client.post(f"/api/v1/registry/{kind}", json=body, headers=token_for(owner))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["countries"] == ["EC"]
    assert response.get_json()["regions"] == ["grulac"]


def test_a_country_page_gathers_what_the_network_knows(client, make_record, owner, auth):
    make_record("needs", country="KE", needs=["Train inspectors"])
    make_record("projects", title="Kenyan labs", countries=["KE"])
    make_record("projects", title="Peru only", countries=["PE"])
    make_record("opportunities", title="For all Africa", regions=["africa"],
                deadline=date(2999, 1, 1))
    make_record("opportunities", title="Closed long ago", deadline=date(2001, 1, 1))
    make_record("reports", title="Desk study of Kenya", countries=["KE"])
    make_record("resources", title="Kenyan guide", countries=["KE"])
    page = client.get("/countries/KE").get_data(as_text=True)
    for title in ("Capacity needs of Kenya", "Kenyan labs", "For all Africa",
                  "Desk study of Kenya", "Kenyan guide"):
        assert title in page
    assert "Peru only" not in page and "Closed long ago" not in page
    assert "Sign in to see the network" in page  # members are for members
    auth.login(owner)
    page = client.get("/countries/KE").get_data(as_text=True)
    assert "Wanjiru Focal" in page and "/registry/needs/new?country=KE" in page
    form = client.get("/registry/needs/new?country=UG").get_data(as_text=True)
    assert '<option selected value="UG">' in form
    assert client.get("/countries/ke").status_code == 301
    assert client.get("/countries/XX").status_code == 404


def test_the_country_api_and_its_sections(app, client, make_record, owner, token_for):
    make_record("reports", title="Desk study of Kenya", countries=["KE"])

    def section(sender, event, **_kw):
        assert isinstance(event, events.CountryQuery) and event.country == "KE"
        return events.CountrySection(key="meetings", title="Meetings", items=(
            events.CountryItem(title="Nairobi workshop", url="https://example.org/m/1"),))

    def broken(sender, event, **_kw):
        raise RuntimeError("a package's bug")

    events.country_page_requested.connect(section)
    events.country_page_requested.connect(broken)
    try:
        data = client.get("/api/v1/countries/KE").get_json()
        html = client.get("/countries/KE").get_data(as_text=True)
    finally:
        events.country_page_requested.disconnect(section)
        events.country_page_requested.disconnect(broken)
    assert data["code"] == "KE" and data["region"] == "africa"
    assert data["reports"]["total"] == 1
    assert data["reports"]["items"][0]["title"] == "Desk study of Kenya"
    assert data["members"] is None  # anonymous
    assert data["sections"][0]["items"][0]["title"] == "Nairobi workshop"
    assert "Nairobi workshop" in html
    member_view = client.get("/api/v1/countries/KE", headers=token_for(owner)).get_json()
    assert [m["name"] for m in member_view["members"]] == ["Wanjiru Focal"]
    refused = client.get("/api/v1/countries/KE?author=x")
    assert refused.status_code == 422
    assert client.get("/api/v1/countries/ZZ").status_code == 404


def test_records_link_to_their_country_pages(client, make_record):
    record = make_record("reports", title="Desk study", countries=["EC"], regions=["grulac"])
    page = client.get(f"/registry/reports/{record.id}").get_data(as_text=True)
    assert 'href="/countries/EC"' in page and 'href="/regions/grulac"' in page
    need = make_record("needs", country="AR")
    assert 'href="/countries/AR"' in client.get(f"/registry/needs/{need.id}").get_data(
        as_text=True)


def test_conferences_about_a_country_appear_on_its_page(app, client, make_member):
    from conferences import editing
    from hub import clock

    sec = make_member("sec2@example.org", role=Role.SECRETARIAT)
    now = clock.now()
    kw = {"registration_opens_at": now, "opens_at": now.replace(year=now.year + 1),
          "closes_at": now.replace(year=now.year + 2)}
    editing.create_conference(sec, editing.ConferenceData(
        slug="kenya-talks", title="Biosafety in Kenya", countries=["KE"], announce=True, **kw))
    editing.create_conference(sec, editing.ConferenceData(
        slug="draft-talks", title="Not announced", countries=["KE"], announce=False, **kw))
    page = client.get("/countries/KE").get_data(as_text=True)
    assert "Biosafety in Kenya" in page and "Not announced" not in page
    with pytest.raises(Exception, match="Not a country"):
        editing.create_conference(sec, editing.ConferenceData(
            slug="bad", title="Bad", countries=["QQ"], **kw))


def test_proceedings_are_filed_with_their_countries(app, secretariat):
    actions.file_proceedings(None, events.ProceedingsEvent(
        key="conference:x", title="Proceedings X", url="https://example.org/p",
        countries=("KE", "UG"), report_type="proceedings", actor_id=secretariat.id))
    report = places.country_page(None, "UG").lists[3].items[0]
    assert report.title == "Proceedings X" and report.countries == ["KE", "UG"]


# -- national focal points -------------------------------------------------------------------

def test_only_focal_points_and_the_secretariat_publish_a_countrys_needs(
        client, owner, other, secretariat, token_for):
    body = {"country": "AR", "thematic_areas": ["risk-assessment"], "needs": ["Labs"],
            "state": "published"}
    refused = client.post("/api/v1/registry/needs", json=body, headers=token_for(owner))
    assert refused.status_code == 403
    assert "focal points" in refused.get_json()["error"]["message"]
    proposed = client.post("/api/v1/registry/needs", json={**body, "state": "submitted"},
                           headers=token_for(owner))
    assert proposed.get_json()["state"] == "submitted"
    named = client.post("/api/v1/countries/AR/focal-points", json={"email": other.email},
                        headers=token_for(secretariat))
    assert named.status_code == 201
    assert client.post("/api/v1/countries/AR/focal-points", json={"email": other.email},
                       headers=token_for(owner)).status_code == 403
    # The focal point of Argentina reviews the proposal and publishes it...
    need_id = proposed.get_json()["id"]
    published = client.post(f"/api/v1/registry/needs/{need_id}/publish",
                            headers=token_for(other))
    assert published.status_code == 200 and published.get_json()["state"] == "published"
    assert client.post(f"/api/v1/registry/needs/{need_id}/return", json={"note": "x"},
                       headers=token_for(owner)).status_code == 403
    # ...and publishes Argentina's needs at once, but not Kenya's.
    assert client.post("/api/v1/registry/needs", json=body,
                       headers=token_for(other)).status_code == 201
    assert client.post("/api/v1/registry/needs", json={**body, "country": "KE"},
                       headers=token_for(other)).status_code == 403
    names = [m["name"] for m in client.get("/api/v1/countries/AR/focal-points").get_json()[
        "items"]]
    assert names == [other.name]
    assert other.name in client.get("/countries/AR").get_data(as_text=True)


def test_a_change_to_published_needs_by_someone_else_goes_back_to_review(
        make_record, owner, secretariat):
    need = make_record("needs", owner=owner, country="AR")
    actions.update_record(owner, need, {"needs": ["Something else"]})
    assert need.state == "submitted"
    actions.publish_record(secretariat, need)
    places.add_focal_point(secretariat, "AR", owner.email)
    actions.update_record(owner, need, {"needs": ["Now I speak for Argentina"]})
    assert need.state == "published"


def test_focal_points_review_the_needs_proposed_for_their_country(
        client, auth, make_record, owner, other, secretariat):
    places.add_focal_point(secretariat, "GH", other.email)
    ghana = make_record("needs", owner=owner, state="submitted", country="GH")
    make_record("needs", owner=owner, state="submitted", country="KE")
    auth.login(other)
    page = client.get("/registry/review").get_data(as_text=True)
    assert "Capacity needs of Ghana" in page and "Capacity needs of Kenya" not in page
    detail = client.get(f"/registry/needs/{ghana.id}").get_data(as_text=True)
    assert "National focal point" in detail and "/publish" in detail


def test_the_secretariat_names_and_removes_focal_points_on_the_page(
        client, auth, secretariat, other):
    auth.login(secretariat)
    page = client.get("/registry/focal-points")
    assert page.status_code == 200
    response = client.post("/registry/focal-points", data={
        "country": "GH", "email": other.email}, follow_redirects=True)
    assert "national focal point of Ghana" in response.get_data(as_text=True)
    assert [m.id for m in places.focal_points("GH")] == [other.id]
    client.post(f"/registry/focal-points/GH/{other.id}/remove", data={})
    db.session.expire_all()
    assert places.focal_points("GH") == []
    assert client.post("/registry/focal-points", data={
        "country": "GH", "email": "nobody@example.org"}).status_code == 422
