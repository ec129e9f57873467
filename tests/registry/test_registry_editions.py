"""Language editions of a record (issue 12): stored, validated, shown with language badges,
in the reader's language first, found by search, carried by export and import; a link's
language is kept. And records the Secretariat enters on behalf of someone."""

from __future__ import annotations

from hub.registry import actions

SPANISH = {"language": "es", "title": "Estudio nacional del Ecuador",
           "abstract": "Evaluación de riesgos en la región andina.",
           "links": [{"url": "https://example.org/es.pdf", "title": "PDF", "language": "es"}]}


def test_a_record_has_language_editions_and_links_keep_their_language(
        client, owner, token_for):
    body = {"title": "National desk study of Ecuador", "type": "case_study",
            "language": "en", "countries": ["EC"],
            "links": [{"url": "https://example.org/en.pdf", "title": "PDF",
                       "language": "en"}],
            "editions": [SPANISH]}
    response = client.post("/api/v1/registry/reports", json=body, headers=token_for(owner))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["links"][0]["language"] == "en"
    assert data["editions"] == [SPANISH]
    assert data["languages"] == ["en", "es"]
    twice = client.post("/api/v1/registry/reports", json={**body, "editions": [
        SPANISH, SPANISH]}, headers=token_for(owner))
    assert twice.status_code == 422 and "more than one edition" in twice.get_data(as_text=True)
    no_language = client.post("/api/v1/registry/reports", json={**body, "editions": [
        {"title": "Sans langue"}]}, headers=token_for(owner))
    assert no_language.status_code == 422
    any_code = client.post("/api/v1/registry/reports", json={**body, "editions": [
        {"language": "pt", "title": "Estudo"}]}, headers=token_for(owner))
    assert any_code.status_code == 201


def test_lists_show_badges_and_readers_see_their_language_first(
        client, make_record, make_member, auth):
    record = make_record("resources", title="Guide to risk assessment", language="en",
                         editions=[{"language": "es", "title": "Guía de evaluación de riesgos",
                                    "abstract": "Un resumen en español."}])
    listing = client.get("/registry/resources/").get_data(as_text=True)
    assert ">EN</abbr>" in listing and ">ES</abbr>" in listing
    assert "Guide to risk assessment" in listing
    lucia = make_member("lucia@example.org", name="Lucía", language="es", country="AR")
    auth.login(lucia)
    listing = client.get("/registry/resources/").get_data(as_text=True)
    assert "Guía de evaluación de riesgos" in listing
    page = client.get(f"/registry/resources/{record.id}").get_data(as_text=True)
    assert page.index("Un resumen en español.") < page.index("Guide to risk assessment")


def test_search_finds_every_edition(client, make_record):
    make_record("resources", title="Guide", editions=[
        {"language": "fr", "title": "Guide de biosécurité", "abstract": "Les semences."}])
    found = client.get("/api/v1/registry/resources?q=semences").get_json()
    assert [r["title"] for r in found["items"]] == ["Guide"]
    by_language = client.get("/api/v1/registry/resources?language=fr").get_json()
    assert by_language["total"] == 1


def test_export_and_import_carry_the_editions(client, make_record, secretariat, token_for):
    make_record("reports", title="Desk study", external_id="ds-1",
                editions=[SPANISH], links=["https://example.org/a | A | fr"])
    headers = token_for(secretariat)
    exported = client.get("/api/v1/registry/reports?format=csv", headers=headers).data
    record_id = client.get("/api/v1/registry/reports").get_json()["items"][0]["id"]
    cleared = client.patch(f"/api/v1/registry/reports/{record_id}",
                           json={"editions": [], "links": []}, headers=headers).get_json()
    assert cleared["editions"] == [] and cleared["languages"] == []
    report = client.post("/api/v1/registry/reports/import", data=exported,
                         headers={**headers, "Content-Type": "text/csv"}).get_json()
    assert report["updated"] == [record_id], report
    copy = client.get(f"/api/v1/registry/reports/{record_id}", headers=headers).get_json()
    assert copy["editions"] == [SPANISH]
    assert copy["links"] == [{"url": "https://example.org/a", "title": "A", "language": "fr"}]


def test_the_secretariat_enters_a_record_on_behalf_of_someone(
        client, secretariat, owner, token_for, auth):
    body = {"title": "Training in Lima", "type": "training",
            "thematic_areas": ["risk-assessment"], "state": "published",
            "on_behalf_of": {"name": "Rosa Quispe", "organization": "INIA",
                             "email": "rosa@example.org"}}
    created = client.post("/api/v1/registry/opportunities", json=body,
                          headers=token_for(secretariat))
    assert created.status_code == 201
    assert created.get_json()["on_behalf_of"]["name"] == "Rosa Quispe"
    public = client.get(created.get_json()["api_url"]).get_json()
    assert public["on_behalf_of"] == {"name": "Rosa Quispe", "organization": "INIA"}
    page = client.get(f"/registry/opportunities/{created.get_json()['id']}").get_data(
        as_text=True)
    assert "on behalf of Rosa Quispe" in page and "INIA" in page
    refused = client.post("/api/v1/registry/opportunities",
                          json={**body, "state": "submitted"}, headers=token_for(owner))
    assert refused.status_code == 403


def test_the_form_takes_editions_and_the_submitter(client, auth, secretariat):
    auth.login(secretariat)
    form = client.get("/registry/resources/new").get_data(as_text=True)
    assert "editions-0-language" in form and "on_behalf_name" in form
    response = client.post("/registry/resources/new", data={
        "title": "Manual", "type": "manual", "action": "publish",
        "editions-0-language": "fr", "editions-0-title": "Le manuel",
        "editions-0-links": "https://example.org/fr.pdf | PDF",
        "on_behalf_name": "Amadou Diallo", "on_behalf_organization": "ISRA"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    record = actions.record_by_key("resource:" + response.headers["Location"].rsplit("/", 1)[1])
    assert record.editions[0]["title"] == "Le manuel"
    assert record.editions[0]["links"] == [{"url": "https://example.org/fr.pdf",
                                            "title": "PDF"}]
    assert record.submitter == {"name": "Amadou Diallo", "organization": "ISRA"}
    edit = client.get(f"/registry/resources/{record.id}/edit").get_data(as_text=True)
    assert 'value="Amadou Diallo"' in edit and "Le manuel" in edit


def test_unknown_filters_and_sorts_are_refused_with_the_allowed_names(client):
    response = client.get("/api/v1/registry/resources?author=Smith")
    assert response.status_code == 422
    message = response.get_json()["error"]["message"]
    assert "author" in message and "country" in message and "theme" in message
    sort = client.get("/api/v1/registry/resources?sort=author")
    assert sort.status_code == 422 and "relevance" in sort.get_json()["error"]["message"]
    page = client.get("/registry/resources/?author=Smith")
    assert page.status_code == 422
    assert "Unknown filter: author" in page.get_data(as_text=True)
