"""Export any result as CSV and JSON, import CSV and JSON files (for example a
Clearing-House export), with a report of the rows refused and why."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from hub.extensions import db
from hub.registry.kinds import KINDS
from hub.registry.models import Record

CONTACTS = [{"name": "Ana Ruiz", "email": "ana@example.org", "organization": "INTA",
             "phone": "+54 11 5555 0000", "role": "Coordinator"},
            {"name": "Bo Li", "organization": "Plant Health Service"}]
LINKS = [{"url": "https://bch.cbd.int/record/1", "title": "On the BCH"},
         {"url": "https://example.org/report.pdf"}]

FULL = {
    "projects": {"title": "LMO detection, phase II", "countries": ["KE", "UG"],
                 "thematic_areas": ["detection-identification", "risk-assessment"],
                 "funding": "GEF, USD 1.2 million", "objectives": "Two labs.\n\nAccredited.",
                 "activities": "Training; equipment", "outcomes": "=SUM(A1:A2) is text",
                 "lessons_learned": "Start early.", "background": "Phase I ended 2021.",
                 "start_date": "2022-01-01", "end_date": "2024-06-30", "status": "ongoing",
                 "contacts": CONTACTS, "links": LINKS},
    "opportunities": {"title": "Curso regional", "type": "training", "scope": "regional",
                      "regions": ["grulac"], "countries": ["AR", "UY"],
                      "thematic_areas": ["risk-assessment"],
                      "timeframe": {"start": "2025-03-01", "end": "2025-03-05"},
                      "eligibility": "Regulators", "application_process": "Form + CV",
                      "deadline": "2025-01-31", "contacts": CONTACTS, "links": LINKS},
    "needs": {"country": "GH", "thematic_areas": ["risk-management", "liability-redress"],
              "needs": ["Inspection at ports; sampling", "-Rules on liability",
                        "Training, with a comma"],
              "desired_means": "Advice", "measures_taken": "Act 831", "contacts": CONTACTS,
              "links": LINKS},
    "resources": {"title": "Guía de detección", "type": "training_material",
                  "thematic_areas": ["detection-identification"],
                  "authors": ["Mendoza, C.", "Pérez, L."], "published_on": "2023-05-10",
                  "publisher": "INB", "language": "es", "keywords": ["PCR", "detección"],
                  "abstract": "Protocolos.", "links": LINKS, "contacts": CONTACTS},
    "reports": {"title": "Mid-term evaluation", "type": "evaluation",
                "timeframe": {"start": "2023-01-01", "end": "2023-12-31"},
                "organization": "UNEP", "thematic_areas": ["national-frameworks"],
                "keywords": ["evaluation", "GEF"], "links": LINKS, "contacts": CONTACTS},
}


def _fields(item: dict, kind: str) -> dict:
    return {f.name: item[f.name] for f in KINDS[kind].fields}


def _wipe() -> None:
    for record in db.session.scalars(select(Record)).all():
        db.session.delete(record)
    db.session.commit()


@pytest.mark.parametrize("kind", list(KINDS))
def test_csv_round_trip(client, secretariat, token_for, kind):
    headers = token_for(secretariat)
    made = client.post(f"/api/v1/registry/{kind}", json={**FULL[kind], "state": "published"},
                       headers=headers)
    assert made.status_code == 201, made.get_json()
    before = _fields(made.get_json(), kind)
    exported = client.get(f"/api/v1/registry/{kind}?format=csv", headers=headers)
    assert exported.mimetype == "text/csv"
    text = exported.data.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1 and rows[0]["state"] == "published"
    if kind == "projects":
        assert rows[0]["outcomes"].startswith("'=")  # a spreadsheet shows it as text
    _wipe()
    report = client.post(f"/api/v1/registry/{kind}/import?publish=1", data=text,
                         content_type="text/csv", headers=headers).get_json()
    assert report["refused"] == [] and len(report["created"]) == 1
    again = client.get(f"/api/v1/registry/{kind}/{report['created'][0]}",
                       headers=headers).get_json()
    assert _fields(again, kind) == before


@pytest.mark.parametrize("kind", list(KINDS))
def test_json_round_trip(client, secretariat, token_for, kind):
    headers = token_for(secretariat)
    made = client.post(f"/api/v1/registry/{kind}", json={**FULL[kind], "state": "published"},
                       headers=headers).get_json()
    exported = client.get(f"/api/v1/registry/{kind}?format=json", headers=headers)
    document = exported.get_json()
    assert document["next"] is None and len(document["items"]) == 1
    _wipe()
    report = client.post(f"/api/v1/registry/{kind}/import?publish=1",
                         data=exported.data, content_type="application/json",
                         headers=headers).get_json()
    assert report["refused"] == [] and report["ignored_columns"] == []
    again = client.get(f"/api/v1/registry/{kind}/{report['created'][0]}",
                       headers=headers).get_json()
    assert _fields(again, kind) == _fields(made, kind)


def test_importing_an_export_again_updates_instead_of_duplicating(client, secretariat,
                                                                   token_for):
    headers = token_for(secretariat)
    client.post("/api/v1/registry/reports", json={**FULL["reports"], "state": "published"},
                headers=headers)
    text = client.get("/api/v1/registry/reports?format=csv", headers=headers).data.decode()
    text = text.replace("Mid-term evaluation", "Final evaluation")
    report = client.post("/api/v1/registry/reports/import", data=text,
                         content_type="text/csv", headers=headers).get_json()
    assert report["created"] == [] and len(report["updated"]) == 1
    titles = [i["title"] for i in client.get("/api/v1/registry/reports").get_json()["items"]]
    assert titles == ["Final evaluation"]


BCH_EXPORT = """\
Identifier;Title;Country;Thematic area;Start;End;Status;Website
BCH-101;Biosafety framework of Uganda;Uganda;National biosafety frameworks;2021-01;2023-12;completed;https://bch.cbd.int/101
BCH-102;LMO detection;Atlantis;Risk assessment;2021-01-01;2023-01-01;ongoing;https://bch.cbd.int/102
BCH-103;Awareness;Kenya;Astrology;2021-01-01;2023-01-01;ongoing;https://bch.cbd.int/103
BCH-104;;Kenya;Risk assessment;2021-01-01;2023-01-01;ongoing;https://bch.cbd.int/104
BCH-105;Short course;Kenya;Risk assessment;2021-01-01;2021-02-01;ongoing;https://bch.cbd.int/105
BCH-106;Bad dates;Kenya;Risk assessment;soon;2023-01-01;ongoing;https://bch.cbd.int/106
BCH-101;Duplicate;Kenya;Risk assessment;2021-01-01;2023-01-01;ongoing;https://bch.cbd.int/101
BCH-108;Bad link;Kenya;Risk assessment;2021-01-01;2023-01-01;paused;javascript:alert(1)
"""


def test_import_refuses_bad_rows_and_says_why(client, owner, token_for):
    response = client.post("/api/v1/registry/projects/import", data=BCH_EXPORT,
                           content_type="text/csv", headers=token_for(owner))
    assert response.status_code == 200
    report = response.get_json()
    assert len(report["created"]) == 1, report["refused"]
    refused = {r["row"]: r["reason"] for r in report["refused"]}
    assert set(refused) == {3, 4, 5, 6, 7, 8, 9}
    assert "Atlantis is not a country" in refused[3]
    assert "unknown thematic area: Astrology" in refused[4]
    assert "Title: is required" in refused[5]
    assert "six months or more" in refused[6]
    assert "soon is not a date" in refused[7]
    assert "the same external_id as row 2" in refused[8]
    assert "Status" in refused[9] and "Links" in refused[9]
    record = client.get(f"/api/v1/registry/projects/{report['created'][0]}",
                        headers=token_for(owner)).get_json()
    assert record["countries"] == ["UG"]
    assert record["thematic_areas"] == ["national-frameworks"]
    assert (record["start_date"], record["end_date"]) == ("2021-01-01", "2023-12-31")
    assert record["external_id"] == "BCH-101" and record["state"] == "submitted"
    assert record["links"] == [{"url": "https://bch.cbd.int/101"}]


def test_a_dry_run_changes_nothing(client, owner, token_for):
    report = client.post("/api/v1/registry/projects/import?dry_run=1", data=BCH_EXPORT,
                         content_type="text/csv", headers=token_for(owner)).get_json()
    assert report["dry_run"] is True and len(report["created"]) == 1
    assert db.session.scalar(select(func.count()).select_from(Record)) == 0


@pytest.mark.parametrize("body,ctype,message", [
    (b"{not json", "application/json", "not valid JSON"),
    (b'{"title": "x"}', "application/json", "list of objects"),
    (b"", "text/csv", "Send the CSV or JSON file"),
])
def test_unreadable_files_are_refused(client, owner, token_for, body, ctype, message):
    response = client.post("/api/v1/registry/reports/import", data=body, content_type=ctype,
                           headers=token_for(owner))
    assert response.status_code == 422
    assert message in response.get_json()["error"]["message"]


def test_unknown_columns_are_reported_once(client, owner, token_for):
    rows = [{"title": "A", "type": "progress", "colour": "red"},
            {"title": "B", "type": "synthesis", "colour": "blue", "state": "published"}]
    report = client.post("/api/v1/registry/reports/import", json=rows,
                         headers=token_for(owner)).get_json()
    assert report["ignored_columns"] == ["colour"]
    assert len(report["created"]) == 2
    states = {i["state"] for i in client.get("/api/v1/registry/reports?mine=1",
                                             headers=token_for(owner)).get_json()["items"]}
    assert states == {"submitted"}  # a member's import waits for review


def test_members_cannot_publish_by_import_nor_update_others_records(client, owner, other,
                                                                    make_record, token_for):
    response = client.post("/api/v1/registry/reports/import?publish=1",
                           json=[{"title": "A", "type": "progress"}],
                           headers=token_for(owner))
    assert response.status_code == 403
    theirs = make_record("reports", owner=other, title="Theirs")
    report = client.post("/api/v1/registry/reports/import",
                         json=[{"id": theirs.id, "title": "Mine now", "type": "progress"}],
                         headers=token_for(owner)).get_json()
    assert report["refused"][0]["reason"] == f"record {theirs.id} belongs to someone else"


def test_import_in_the_browser_shows_the_report(client, auth, owner):
    auth.login(owner)
    page = client.post("/registry/import", data={
        "kind": "projects", "file": (io.BytesIO(BCH_EXPORT.encode()), "bch.csv")},
        content_type="multipart/form-data")
    html = page.data.decode()
    assert page.status_code == 200
    assert "1 record added" in html and "7 rows refused" in html
    assert "Atlantis is not a country" in html


def test_anonymous_exports_hide_contact_details(client, make_record):
    make_record("reports", **{k: v for k, v in FULL["reports"].items()})
    text = client.get("/api/v1/registry/reports?format=csv").data.decode()
    assert "Ana Ruiz" in text
    assert "ana@example.org" not in text and "+54 11 5555 0000" not in text
    document = json.loads(client.get("/registry/reports/?format=json").data)
    assert document["items"][0]["contacts"][0] == {
        "name": "Ana Ruiz", "organization": "INTA", "role": "Coordinator"}


def test_the_browser_exports_the_filtered_result(client, make_record):
    make_record("projects", title="In Kenya", countries=["KE"])
    make_record("projects", title="In Ghana", countries=["GH"])
    response = client.get("/registry/projects/?country=GH&format=csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.data.decode())))
    assert [r["title"] for r in rows] == ["In Ghana"]
    all_kinds = client.get("/registry/?format=csv")
    assert all_kinds.status_code == 422  # columns differ by kind; JSON works
    assert len(client.get("/registry/?format=json").get_json()["items"]) == 2
