"""Members follow thematic areas or countries and hear of new matching opportunities by
email, when an opportunity is published (once)."""

from __future__ import annotations

import pytest


@pytest.fixture
def followers(client, make_member, token_for):
    kenyan = make_member("kenyan@example.org", name="Follows Kenya")
    assessor = make_member("assessor@example.org", name="Follows risk assessment")
    lawyer = make_member("lawyer@example.org", name="Follows liability")
    for member, body in ((kenyan, {"countries": ["KE"]}),
                         (assessor, {"themes": ["risk-assessment"]}),
                         (lawyer, {"themes": ["liability-redress"], "countries": ["BR"]})):
        response = client.put("/api/v1/registry/follows", json=body,
                              headers=token_for(member))
        assert response.status_code == 200
    return {"kenyan": kenyan, "assessor": assessor, "lawyer": lawyer}


def test_follows_are_read_back(client, followers, token_for):
    data = client.get("/api/v1/registry/follows",
                      headers=token_for(followers["lawyer"])).get_json()
    assert data == {"themes": ["liability-redress"], "countries": ["BR"]}
    assert client.get("/api/v1/registry/follows").status_code == 401


def test_a_published_opportunity_is_announced_once_to_matching_followers(
        client, followers, make_record, secretariat, token_for, smtp, run_jobs):
    record = make_record("opportunities", title="African risk assessment course",
                         type="training", regions=["africa"],
                         thematic_areas=["risk-assessment"], deadline="2031-05-01")
    run_jobs()
    kenyan = smtp.to("kenyan@example.org")
    assert len(kenyan) == 1
    assert kenyan[0]["Subject"] == "New opportunity: African risk assessment course"
    body = kenyan[0].get_body(preferencelist=("plain",)).get_content()
    assert "Kenya" in body and f"/registry/opportunities/{record.id}" in body
    assert len(smtp.to("assessor@example.org")) == 1
    assert smtp.to("lawyer@example.org") == []
    smtp.clear()
    headers = token_for(secretariat)
    client.post(f"/api/v1/registry/opportunities/{record.id}/return",
                json={"note": "Add the fee."}, headers=headers)
    client.post(f"/api/v1/registry/opportunities/{record.id}/publish", headers=headers)
    run_jobs()
    assert smtp.to("kenyan@example.org") == [] and smtp.to("assessor@example.org") == []


def test_drafts_and_other_kinds_are_not_announced(followers, make_record, smtp, run_jobs):
    make_record("opportunities", state="submitted", title="Waiting", type="funding",
                countries=["KE"], thematic_areas=["risk-assessment"])
    make_record("projects", title="A project in Kenya", countries=["KE"],
                thematic_areas=["risk-assessment"])
    run_jobs()
    assert smtp.to("kenyan@example.org") == [] and smtp.to("assessor@example.org") == []


def test_a_worldwide_opportunity_reaches_country_followers(followers, make_record, smtp,
                                                           run_jobs):
    make_record("opportunities", title="Open to all", type="funding",
                thematic_areas=["public-awareness"])
    run_jobs()
    assert len(smtp.to("kenyan@example.org")) == 1
    assert len(smtp.to("lawyer@example.org")) == 1  # follows Brazil
    assert smtp.to("assessor@example.org") == []


def test_the_following_page(client, auth, owner):
    auth.login(owner)
    page = client.get("/registry/following")
    assert page.status_code == 200 and b"Risk assessment" in page.data
    saved = client.post("/registry/following", data={"themes": ["public-awareness"],
                                                     "countries": ["GH", "KE"]})
    assert saved.status_code == 302
    html = client.get("/registry/following").data.decode()
    assert 'checked id="themes-5" name="themes" type="checkbox" value="public-awareness"' in html
    assert '<option selected value="GH">' in html and '<option selected value="KE">' in html
