"""Gaps and overlaps, the synthesis report builder, and the registry for people offline
(paper forms, spreadsheet templates, print stylesheet) — issue 12."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from pypdf import PdfReader

from hub.registry import offline, synthesis
from hub.registry.kinds import KINDS


def _gap_world(make_record):
    # Kenya needs risk assessment and nothing supports it: a gap in Africa.
    make_record("needs", country="KE", thematic_areas=["risk-assessment"])
    # Peru needs detection; one project and one open opportunity for Latin America.
    make_record("needs", country="PE", thematic_areas=["detection-identification"])
    make_record("projects", title="Peru labs", countries=["PE"],
                thematic_areas=["detection-identification"])
    make_record("projects", title="Andean labs", countries=["PE", "EC"],
                thematic_areas=["detection-identification"])
    make_record("opportunities", title="Grants", regions=["grulac"],
                thematic_areas=["detection-identification"], deadline=date(2999, 1, 1))


def test_the_matrix_shows_gaps_and_overlaps_by_region(client, make_record):
    _gap_world(make_record)
    data = client.get("/api/v1/registry/gaps").get_json()
    cells = {(c["theme"], c["place"]): c for c in data["cells"]}
    africa = cells[("risk-assessment", "africa")]
    assert (africa["needs"], africa["projects"], africa["gap"]) == (1, 0, True)
    latin = cells[("detection-identification", "grulac")]
    assert (latin["needs"], latin["projects"], latin["opportunities"]) == (1, 2, 1)
    assert latin["overlap"] and not latin["gap"]
    assert "theme=detection-identification" in latin["links"]["projects"]
    assert "region=grulac" in latin["links"]["projects"]
    page = client.get("/registry/gaps").get_data(as_text=True)
    assert 'class="gap"' in page and 'class="overlap"' in page
    csv_text = client.get("/registry/gaps?format=csv").get_data(as_text=True)
    assert "risk-assessment,Risk assessment,africa,African Group,1,0,0,1,0" in csv_text
    assert client.get("/api/v1/registry/gaps?region=mars").status_code == 422
    assert client.get("/api/v1/registry/gaps?country=KE").status_code == 422


def test_a_regions_page_compares_its_countries(client, make_record):
    _gap_world(make_record)
    data = client.get("/api/v1/registry/gaps?region=grulac").get_json()
    assert {p["code"] for p in data["places"]} == {"PE", "EC"}
    cells = {(c["theme"], c["place"]): c for c in data["cells"]}
    assert cells[("detection-identification", "PE")]["projects"] == 2
    assert cells[("detection-identification", "EC")]["opportunities"] == 1
    page = client.get("/regions/grulac")
    assert page.status_code == 200 and "Peru" in page.get_data(as_text=True)
    assert client.get("/regions/mars").status_code == 404
    assert "PE,Peru" in client.get("/regions/grulac?format=csv").get_data(as_text=True)


def test_the_synthesis_builder_compiles_a_draft_and_publishes_it(
        client, auth, make_record, secretariat, owner):
    make_record("reports", title="Kenya desk study", type="case_study", countries=["KE"],
                thematic_areas=["risk-assessment"], abstract="Kenya trained 40 people.",
                lessons_learned="Start with the regulators.", timeframe="2023")
    make_record("reports", title="Peru desk study", type="case_study", countries=["PE"],
                thematic_areas=["public-awareness"], abstract="Peru ran radio shows.",
                timeframe="2024")
    make_record("reports", title="A progress report", type="progress")
    choice = synthesis.Choice(types=("case_study",))
    found = synthesis.candidates(secretariat, choice)
    assert [r.title for r in found] == ["Kenya desk study", "Peru desk study"]
    auth.login(owner)
    assert client.get("/registry/synthesis").status_code == 403
    auth.logout()
    auth.login(secretariat)
    page = client.get("/registry/synthesis?type=case_study&from=2024-01-01")
    assert "Peru desk study" in page.get_data(as_text=True)
    assert "Kenya desk study" not in page.get_data(as_text=True)
    response = client.post("/registry/synthesis", data={
        "type": "case_study", "title": "What the desk studies teach",
        "report": [str(r.id) for r in found]})
    assert response.status_code == 302
    draft_url = response.headers["Location"]
    draft = client.get(draft_url).get_data(as_text=True)
    assert "Start with the regulators." in draft and "Peru ran radio shows." in draft
    assert draft.index("Risk assessment</h2>") < draft.index("Kenya trained")
    assert "Draft" in draft
    pdf = client.get(draft_url + "/synthesis.pdf")
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
    record_id = int(draft_url.rsplit("/", 1)[1])
    published = client.post(f"/registry/reports/{record_id}/publish")
    assert published.status_code == 302
    data = client.get(f"/api/v1/registry/reports/{record_id}").get_json()
    assert data["type"] == "synthesis" and data["state"] == "published"
    assert set(data["countries"]) == {"KE", "PE"}
    assert len(data["links"]) == 2


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_has_a_blank_form_in_three_languages(client, kind):
    for lang, word in (("en", "Country" if kind == "needs" else "Contact"),
                       ("es", "País" if kind == "needs" else "Contacto"),
                       ("fr", "Pays" if kind == "needs" else "Contact")):
        response = client.get(f"/registry/{kind}/form.pdf?lang={lang}")
        assert response.status_code == 200 and response.data[:4] == b"%PDF"
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(
            response.data)).pages)
        assert word in text, (lang, text[:500])
    assert client.get(f"/registry/{kind}/form.pdf?lang=de").status_code == 404


def test_the_spreadsheet_templates_come_back_as_records(client, secretariat, token_for):
    header = client.get("/registry/projects/template.csv").get_data(as_text=True)
    assert header.strip().split(",") == offline.template_columns(KINDS["projects"])
    ods = client.get("/registry/projects/template.ods?lang=es")
    assert ods.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(ods.data))
    assert archive.namelist()[0] == "mimetype"
    assert archive.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    content = archive.read("content.xml").decode()
    assert "Cómo rellenar" in content
    # Someone fills in a row offline and the Secretariat imports the file.
    row = offline._row(["", "Seed banks", "KE", "risk-assessment", "", "", "", "", "", "",
                        "2024-01-01", "2025-06-30", "", "", "ongoing", "",
                        "Amina Odhiambo | amina@example.org | KEPHIS"])
    filled = io.BytesIO()
    with zipfile.ZipFile(filled, "w") as out:
        for name in archive.namelist():
            data = archive.read(name)
            if name == "content.xml":
                data = data.replace(b"</table:table-row></table:table>",
                                    b"</table:table-row>" + row.encode() + b"</table:table>", 1)
            out.writestr(name, data)
    report = client.post("/api/v1/registry/projects/import?publish=1", data={
        "file": (io.BytesIO(filled.getvalue()), "filled.ods")},
        headers=token_for(secretariat), content_type="multipart/form-data").get_json()
    assert len(report["created"]) == 1, report
    record = client.get(f"/api/v1/registry/projects/{report['created'][0]}").get_json()
    assert record["title"] == "Seed banks" and record["countries"] == ["KE"]
    assert record["on_behalf_of"]["name"] == "Amina Odhiambo"


def test_the_offline_page_and_the_print_stylesheet(client):
    page = client.get("/registry/offline").get_data(as_text=True)
    assert "/registry/needs/form.pdf?lang=fr" in page
    assert "/registry/needs/template.ods?lang=es" in page
    with client.get("/static/hub.css") as response:
        css = response.get_data(as_text=True)
    print_rules = css[css.index("@media print"):]
    assert 'a[href^="http"]::after' in print_rules and "attr(href)" in print_rules
