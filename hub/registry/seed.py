"""Demo records for `hub seed-demo`: needs of a few countries, opportunities that match
them, projects, resources and reports, owned by the demo members. Imports only `hub`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from hub import clock
from hub.extensions import db
from hub.models import Member, Role
from hub.registry import actions, fields, search
from hub.registry.kinds import DRAFT, PUBLISHED, SUBMITTED
from hub.registry.models import FocalPoint, Follow, Record

CBD = "https://www.cbd.int"
BCH = "https://bch.cbd.int"


def _records(today: Any) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(owner email, kind, state, fields) for the demo."""
    d = lambda days: (today + timedelta(days=days)).isoformat()  # noqa: E731
    return [
        # -- needs -------------------------------------------------------------------------
        ("wanjiru@example.org", "needs", PUBLISHED, {
            "country": "KE",
            "thematic_areas": ["risk-assessment", "detection-identification",
                               "public-awareness"],
            "needs": [
                "Train the regulators who review risk assessments of GM maize and cotton "
                "applications",
                "Equip the national reference laboratory for LMO detection (real-time PCR)",
                "Public awareness material in Kiswahili for county extension officers",
            ],
            "desired_means": "Hands-on training, twinning with an experienced regulator, "
                             "laboratory equipment and reagents for two years.",
            "measures_taken": "Biosafety Act (2009); the National Biosafety Authority "
                              "reviews applications; 12 staff trained in risk assessment "
                              "in 2022.",
            "contacts": [{"name": "Wanjiru Kamau", "organization": "National Biosafety "
                          "Authority", "email": "wanjiru@example.org",
                          "role": "National focal point"}],
            "links": [{"url": BCH + "/en/countries/KE", "title": "Kenya on the BCH"}],
        }),
        ("kofi@example.org", "needs", PUBLISHED, {
            "country": "GH",
            "thematic_areas": ["risk-management", "handling-transport", "liability-redress"],
            "needs": [
                "Procedures for the inspection of LMO shipments at ports of entry",
                "Training of customs and plant-protection officers in sampling",
                "Domestic rules on liability and redress under the Supplementary Protocol",
            ],
            "desired_means": "Expert advice on drafting, a training of trainers for customs.",
            "measures_taken": "Biosafety Act 831 (2011); the National Biosafety Authority "
                              "is operational.",
            "contacts": [{"name": "Kofi Mensah", "organization": "Ghana EPA",
                          "email": "kofi@example.org"}],
        }),
        ("olena@example.org", "needs", PUBLISHED, {
            "country": "UA",
            "thematic_areas": ["national-frameworks", "information-sharing",
                               "detection-identification"],
            "needs": [
                "Bring the draft biosafety law in line with the Cartagena Protocol",
                "Publish decisions and risk assessments on the Biosafety Clearing-House",
                "Accredit a second laboratory for LMO detection",
            ],
            "desired_means": "Legal advice, BCH training, proficiency testing.",
            "contacts": [{"name": "Olena Kovalenko", "organization": "Ministry of "
                          "Environment", "email": "olena@example.org"}],
        }),
        ("lucia@example.org", "needs", PUBLISHED, {
            "country": "AR",
            "thematic_areas": ["socio-economic", "public-awareness"],
            "needs": [
                "Methods to take socio-economic considerations into account in decisions",
                "Consultation of indigenous and local communities",
            ],
            "desired_means": "Exchanges with regulators of the region, case studies.",
            "contacts": [{"name": "Lucía Fernández", "organization": "Universidad de "
                          "Buenos Aires", "email": "lucia@example.org"}],
        }),
        ("raj@example.org", "needs", SUBMITTED, {
            "country": "IN",
            "thematic_areas": ["risk-assessment", "education-training"],
            "needs": ["Postgraduate teaching of risk assessment in agricultural "
                      "universities"],
            "contacts": [{"name": "Raj Patel", "organization": "Indian Council of "
                          "Agricultural Research", "email": "raj@example.org"}],
        }),
        # -- opportunities ---------------------------------------------------------------------
        ("secretariat@example.org", "opportunities", PUBLISHED, {
            "title": "Regional training course on the risk assessment of LMOs (Africa)",
            "type": "training", "scope": "regional", "regions": ["africa"],
            "thematic_areas": ["risk-assessment", "risk-management"],
            "timeframe": {"start": d(75), "end": d(80)},
            "eligibility": "Regulators and scientists of African Parties who review "
                           "applications, nominated by their national focal point.",
            "application_process": "Send the nomination form and a CV to the Secretariat.",
            "deadline": d(30),
            "contacts": [{"name": "Amina Diallo", "organization": "Network Secretariat",
                          "email": "secretariat@example.org"}],
            "links": [{"url": CBD + "/biosafety/capacity-building",
                       "title": "Course outline"}],
        }),
        ("jean@example.org", "opportunities", PUBLISHED, {
            "title": "Grants for biosafety laboratory capacity",
            "type": "funding", "scope": "global",
            "thematic_areas": ["detection-identification", "national-frameworks"],
            "eligibility": "Public institutions of developing countries and countries with "
                           "economies in transition. Up to EUR 150,000 over two years.",
            "application_process": "A concept note of three pages, then a full proposal.",
            "deadline": d(90),
            "contacts": [{"name": "Jean Dupont", "organization": "Agence française de "
                          "développement", "email": "jean@example.org"}],
            "links": [{"url": "https://www.afd.fr/en", "title": "Call for concept notes"}],
        }),
        ("lucia@example.org", "opportunities", PUBLISHED, {
            "title": "Becas de maestría en bioseguridad para América Latina y el Caribe",
            "type": "scholarship", "scope": "regional", "regions": ["grulac"],
            "thematic_areas": ["education-training", "socio-economic"],
            "timeframe": {"start": d(150), "end": d(880)},
            "eligibility": "Graduates working in biosafety in a GRULAC country.",
            "deadline": d(45),
            "contacts": [{"name": "Lucía Fernández", "email": "lucia@example.org"}],
        }),
        ("mei@example.org", "opportunities", PUBLISHED, {
            "title": "Internship at the Asia Biosafety Network information desk",
            "type": "internship", "scope": "national", "countries": ["JP"],
            "thematic_areas": ["information-sharing"],
            "timeframe": {"start": d(60), "end": d(240)},
            "deadline": d(40),
            "contacts": [{"name": "Mei Tanaka", "organization": "Asia Biosafety Network",
                          "email": "mei@example.org"}],
        }),
        ("secretariat@example.org", "opportunities", PUBLISHED, {
            "title": "E-learning: the Biosafety Clearing-House for national focal points",
            "type": "training", "scope": "global",
            "thematic_areas": ["information-sharing", "national-frameworks"],
            "application_process": "Enrol online at any time; the course takes six hours.",
            "links": [{"url": BCH + "/en/training", "title": "BCH training"}],
        }),
        ("secretariat@example.org", "opportunities", PUBLISHED, {
            "title": "Small grants for public awareness campaigns (closed call)",
            "type": "funding", "scope": "global", "thematic_areas": ["public-awareness"],
            "deadline": d(-20),
        }),
        # -- projects ------------------------------------------------------------------------
        ("wanjiru@example.org", "projects", PUBLISHED, {
            "title": "Strengthening LMO detection in East Africa",
            "countries": ["KE", "UG", "TZ"],
            "thematic_areas": ["detection-identification", "risk-assessment"],
            "funding": "GEF through UNEP, USD 1.8 million",
            "objectives": "Three national reference laboratories able to detect and "
                          "identify the LMOs authorized in the region.",
            "activities": "Equipment, training of 30 laboratory staff, proficiency tests, "
                          "a regional network of laboratories.",
            "start_date": d(-500), "end_date": d(600), "status": "ongoing",
            "contacts": [{"name": "Wanjiru Kamau", "organization": "National Biosafety "
                          "Authority", "email": "wanjiru@example.org"}],
            "links": [{"url": "https://www.unep.org/gef", "title": "UNEP-GEF biosafety"}],
        }),
        ("kofi@example.org", "projects", PUBLISHED, {
            "title": "Biosafety public awareness in West Africa",
            "countries": ["GH", "NG", "BF"], "thematic_areas": ["public-awareness"],
            "funding": "Regional economic community",
            "objectives": "Informed public debate about LMOs in three countries.",
            "outcomes": "Radio programmes in five languages; 40 journalists trained.",
            "lessons_learned": "Local languages and community radio reached more people "
                               "than printed material.",
            "start_date": d(-1300), "end_date": d(-700), "status": "completed",
        }),
        ("olena@example.org", "projects", DRAFT, {
            "title": "Implementing the national biosafety framework of Ukraine",
            "countries": ["UA"], "thematic_areas": ["national-frameworks",
                                                    "information-sharing"],
            "start_date": d(60), "end_date": d(790), "status": "planned",
        }),
        ("lucia@example.org", "projects", PUBLISHED, {
            "title": "Socio-economic considerations in LMO decisions in the Southern Cone",
            "countries": ["AR", "UY", "PY"], "thematic_areas": ["socio-economic"],
            "funding": "National research councils",
            "start_date": d(-200), "end_date": d(530), "status": "ongoing",
        }),
        # -- resources -----------------------------------------------------------------------
        ("secretariat@example.org", "resources", PUBLISHED, {
            "title": "Guidance on risk assessment of living modified organisms",
            "type": "manual", "thematic_areas": ["risk-assessment"],
            "authors": ["Ad Hoc Technical Expert Group on Risk Assessment"],
            "published_on": "2016-12-01",
            "publisher": "Secretariat of the Convention on Biological Diversity",
            "language": "en", "keywords": ["risk assessment", "roadmap", "LMO"],
            "abstract": "A roadmap for the steps of a risk assessment, with guidance on "
                        "specific types of LMOs and traits.",
            "links": [{"url": BCH + "/en/risk-assessment", "title": "Guidance",
                       "language": "en"}],
            "editions": [
                {"language": "es", "title": "Orientación sobre la evaluación del riesgo de "
                 "los organismos vivos modificados",
                 "abstract": "Una hoja de ruta para las etapas de una evaluación del riesgo.",
                 "links": [{"url": BCH + "/es/risk-assessment", "title": "Orientación",
                            "language": "es"}]},
                {"language": "fr", "title": "Orientations sur l'évaluation des risques des "
                 "organismes vivants modifiés",
                 "links": [{"url": BCH + "/fr/risk-assessment", "title": "Orientations",
                            "language": "fr"}]}],
        }),
        ("moderator@example.org", "resources", PUBLISHED, {
            "title": "Manual de detección de OVM por PCR en tiempo real",
            "type": "training_material", "thematic_areas": ["detection-identification"],
            "authors": ["Mendoza, C.", "Instituto Nacional de Bioseguridad"],
            "published_on": "2023-05-10", "publisher": "Instituto Nacional de Bioseguridad",
            "language": "es", "keywords": ["PCR", "detección", "laboratorio"],
            "abstract": "Protocolos de laboratorio para la detección de organismos vivos "
                        "modificados en granos.",
        }),
        ("jean@example.org", "resources", PUBLISHED, {
            "title": "Boîte à outils pour la participation du public",
            "type": "toolkit", "thematic_areas": ["public-awareness"],
            "published_on": "2021-09-01", "language": "fr",
            "keywords": ["participation du public", "consultation"],
        }),
        ("secretariat@example.org", "resources", PUBLISHED, {
            "title": "Nagoya – Kuala Lumpur Supplementary Protocol on Liability and Redress",
            "type": "legal_document", "thematic_areas": ["liability-redress"],
            "published_on": "2010-10-15", "language": "en",
            "links": [{"url": BCH + "/protocol/supplementary", "title": "Text"}],
        }),
        # -- reports ------------------------------------------------------------------------
        ("secretariat@example.org", "reports", PUBLISHED, {
            "title": "Mid-term evaluation: LMO detection in East Africa",
            "type": "evaluation", "timeframe": {"start": d(-500), "end": d(-100)},
            "organization": "UNEP", "thematic_areas": ["detection-identification"],
            "countries": ["KE", "UG", "TZ"], "regions": ["africa"],
            "keywords": ["evaluation", "laboratories"],
            "abstract": "Three national laboratories detect LMOs in maize and cotton.",
            "lessons_learned": "Shared reference materials saved a year of work.",
        }),
        ("kofi@example.org", "reports", PUBLISHED, {
            "title": "Mission report: biosafety framework assessment in Ghana",
            "type": "mission", "timeframe": "2024-03", "organization": "Ghana EPA",
            "countries": ["GH"],
            "thematic_areas": ["national-frameworks", "handling-transport"],
        }),
        ("secretariat@example.org", "reports", PUBLISHED, {
            "title": "National desk study: mainstreaming biosafety in Ecuador",
            "type": "case_study", "timeframe": "2023", "organization": "Ministerio del "
            "Ambiente", "countries": ["EC"], "thematic_areas": ["national-frameworks"],
            "language": "en",
            "abstract": "How biosafety entered the national development plan.",
            "lessons_learned": "Start with the ministries that already plan budgets.",
            "editions": [{"language": "es", "title": "Estudio nacional: integración de la "
                          "bioseguridad en el Ecuador",
                          "abstract": "Cómo la bioseguridad entró en el plan nacional de "
                                      "desarrollo."}],
        }),
        ("secretariat@example.org", "reports", PUBLISHED, {
            "title": "Synthesis of capacity-building needs in national reports",
            "type": "synthesis", "timeframe": "2024", "organization": "Network Secretariat",
            "thematic_areas": ["national-frameworks", "risk-assessment", "public-awareness"],
            "keywords": ["national reports", "needs assessment"],
        }),
    ]


def seed_registry(members: list[Member]) -> None:
    """Called by `hub seed-demo` with the demo members; does nothing twice."""
    if db.session.scalar(select(func.count()).select_from(Record)):
        return
    by_email = {m.email: m for m in members}
    secretariat = next((m for m in members if m.role == Role.SECRETARIAT), None)
    if secretariat is None:
        return
    today = clock.now().date()
    for email, kind, state, data in _records(today):
        owner = by_email.get(email, secretariat)
        record = actions.create_record(owner, kind, data,
                                        state=DRAFT if state == DRAFT else SUBMITTED,
                                        commit=False, notify=False)
        if state == PUBLISHED:
            actions.enter_state(secretariat, record, PUBLISHED, notify=False)
    # One completed project has not been touched for a long time: the worker reminds Kofi.
    old = db.session.scalar(select(Record).where(
        Record.title == "Biosafety public awareness in West Africa"))
    if old is not None:
        old.updated_at = clock.now() - timedelta(days=400)
        search.reindex(old, fields.Vocabulary.load())  # its match keys order by it
    wanjiru = by_email.get("wanjiru@example.org")
    if wanjiru is not None and wanjiru.country:  # Kenya's national focal point
        db.session.add(FocalPoint(country=wanjiru.country, member_id=wanjiru.id,
                                  created_by_id=secretariat.id))
    if wanjiru is not None:
        db.session.add(Follow(member_id=wanjiru.id, facet="country", value="KE"))
        db.session.add(Follow(member_id=wanjiru.id, facet="theme", value="risk-assessment"))
    db.session.commit()
