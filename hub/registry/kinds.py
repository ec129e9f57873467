"""The five record kinds and their common formats, as data: each kind is a list of fields
(name, type, label, whether required, choices). Validation, forms, pages, the API, CSV and
JSON export and import all read these tables, so a field is added in one place.

The field names are part of the API contract (DESIGN.md §4, issue 6). Imports only `hub`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

# Field types:
#   title, text    one line            longtext   paragraphs of plain text
#   date           YYYY-MM-DD          period     {"start", "end"} (two date columns)
#   choice         one of `choices`    language   an ISO 639 code ("en", "es", ...)
#   country        one ISO 3166 code   countries  ISO codes
#   regions        UN regional groups  themes     thematic area slugs
#   strings        short strings (keywords, authors)
#   lines          ordered paragraphs (a country's needs, in priority order)
#   contacts       [{name, organization, email, phone, role}]
#   links          [{url, title, language}]
#   editions       the record in other languages: [{language, title, abstract, links}]
LIST_TYPES = frozenset({"countries", "regions", "themes", "strings", "lines", "contacts",
                        "links", "editions"})


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: Any
    required: bool = False
    choices: tuple[tuple[str, Any], ...] = ()
    help: Any = ""
    max_length: int = 0
    separators: str = ";\n"  # how a string value of a `strings` field splits
    end: bool = False  # a date that closes a period: "2025-03" means its last day

    @property
    def choice_codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.choices)


@dataclass(frozen=True)
class Kind:
    name: str  # "projects": in URLs and the API
    key: str  # "project": in references ([[project:12]]) and discussion keys
    label: Any
    plural: Any
    description: Any
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def has_title(self) -> bool:
        return self.field("title") is not None

    @property
    def type_field(self) -> Field | None:
        return self.field("type")


PROJECT_STATUS = (("planned", _l("Planned")), ("ongoing", _l("Ongoing")),
                  ("completed", _l("Completed")))
OPPORTUNITY_TYPES = (
    ("funding", _l("Funding")),
    ("training", _l("Training course")),
    ("scholarship", _l("Scholarship")),
    ("internship", _l("Internship")),
    ("other", _l("Other")),
)
OPPORTUNITY_SCOPES = (("global", _l("Global")), ("regional", _l("Regional")),
                      ("national", _l("National")))
RESOURCE_TYPES = (
    ("manual", _l("Manual")),
    ("case_study", _l("Case study")),
    ("workshop_report", _l("Workshop report")),
    ("training_material", _l("Training material")),
    ("toolkit", _l("Toolkit")),
    ("legal_document", _l("Legal document")),
    ("news", _l("News")),
    ("other", _l("Other")),
)
REPORT_TYPES = (
    ("progress", _l("Progress report")),
    ("evaluation", _l("Evaluation")),
    ("appraisal", _l("Appraisal")),
    ("mission", _l("Mission report")),
    ("case_study", _l("Case study")),
    ("synthesis", _l("Synthesis")),
    ("proceedings", _l("Proceedings")),
    ("meeting_report", _l("Meeting report")),
)

_TITLE = Field("title", "title", _l("Title"), required=True, max_length=300)
_CONTACTS = Field("contacts", "contacts", _l("Contacts"),
                  help=_l("People to contact about this record."))
_LINKS = Field("links", "links", _l("Links"),
               help=_l("Where the documents and details are (the registry keeps links, "
                       "not files)."))
_EDITIONS = Field("editions", "editions", _l("Other language editions"),
                  help=_l("The same record in another language: its title, summary and "
                          "links in that language."))
_COUNTRIES_ABOUT = Field("countries", "countries", _l("Countries"),
                         help=_l("The countries it is about."))
_REGIONS_ABOUT = Field("regions", "regions", _l("Regions"),
                       help=_l("The UN regional groups it is about, when it covers a whole "
                               "region."))


def _themes(required: bool) -> Field:
    return Field("thematic_areas", "themes", _l("Thematic areas"), required=required)


def _text(name: str, label: Any, help: Any = "") -> Field:
    return Field(name, "longtext", label, help=help, max_length=20_000)


PROJECTS = Kind(
    name="projects", key="project", label=_l("Project"), plural=_l("Projects"),
    description=_l("Capacity-building initiatives of six months or more."),
    fields=(
        _TITLE,
        Field("countries", "countries", _l("Countries")),
        _themes(True),
        Field("funding", "text", _l("Funding"), max_length=500,
              help=_l("Who funds it, and how much if it can be said.")),
        _text("objectives", _l("Objectives")),
        _text("activities", _l("Activities")),
        _text("outcomes", _l("Outcomes")),
        _text("lessons_learned", _l("Lessons learned")),
        _text("background", _l("Background")),
        Field("start_date", "date", _l("Start date")),
        Field("end_date", "date", _l("End date"), end=True),
        _CONTACTS,
        _LINKS,
        Field("status", "choice", _l("Status"), required=True, choices=PROJECT_STATUS),
        _EDITIONS,
    ),
)

OPPORTUNITIES = Kind(
    name="opportunities", key="opportunity", label=_l("Opportunity"),
    plural=_l("Opportunities"),
    description=_l("Standalone offers: funding, training courses, scholarships, internships."),
    fields=(
        _TITLE,
        Field("type", "choice", _l("Type"), required=True, choices=OPPORTUNITY_TYPES),
        Field("scope", "choice", _l("Scope"), choices=OPPORTUNITY_SCOPES),
        Field("regions", "regions", _l("Regions"),
              help=_l("The UN regional groups it is open to.")),
        Field("countries", "countries", _l("Countries"),
              help=_l("The countries it is open to; leave empty when the regions or the "
                      "whole world are eligible.")),
        _themes(True),
        Field("timeframe", "period", _l("Timeframe")),
        _text("eligibility", _l("Eligibility")),
        _text("application_process", _l("Application process")),
        Field("deadline", "date", _l("Deadline"), end=True),
        _CONTACTS,
        _LINKS,
        _EDITIONS,
    ),
)

NEEDS = Kind(
    name="needs", key="need", label=_l("Country need"), plural=_l("Country needs"),
    description=_l("A country's prioritized capacity-building needs."),
    fields=(
        Field("country", "country", _l("Country"), required=True),
        _themes(True),
        Field("needs", "lines", _l("Needs, most important first"), required=True,
              help=_l("One need per line, in order of priority.")),
        _text("desired_means", _l("Desired means of support"),
              help=_l("Training, expert advice, equipment, funding, exchanges...")),
        _text("measures_taken", _l("Measures already taken")),
        _CONTACTS,
        _LINKS,
        _EDITIONS,
    ),
)

RESOURCES = Kind(
    name="resources", key="resource", label=_l("Resource"), plural=_l("Resources"),
    description=_l("The resource centre's virtual library."),
    fields=(
        _TITLE,
        Field("type", "choice", _l("Type"), required=True, choices=RESOURCE_TYPES),
        _COUNTRIES_ABOUT,
        _REGIONS_ABOUT,
        _themes(False),
        Field("authors", "strings", _l("Authors"), help=_l("One per line.")),
        Field("published_on", "date", _l("Published on")),
        Field("publisher", "text", _l("Publisher"), max_length=300),
        Field("language", "language", _l("Language")),
        Field("keywords", "strings", _l("Keywords"), separators=",;\n",
              help=_l("Separated by commas.")),
        _text("abstract", _l("Abstract")),
        _LINKS,
        _CONTACTS,
        _EDITIONS,
    ),
)

REPORTS = Kind(
    name="reports", key="report", label=_l("Report"), plural=_l("Reports"),
    description=_l("Progress, evaluation, appraisal and mission reports, case studies, "
                   "syntheses and proceedings."),
    fields=(
        _TITLE,
        Field("type", "choice", _l("Type"), required=True, choices=REPORT_TYPES),
        Field("timeframe", "period", _l("Timeframe")),
        Field("organization", "text", _l("Organization"), max_length=300),
        _COUNTRIES_ABOUT,
        _REGIONS_ABOUT,
        _themes(False),
        Field("language", "language", _l("Language")),
        Field("keywords", "strings", _l("Keywords"), separators=",;\n",
              help=_l("Separated by commas.")),
        # A synthesis report's whole text is its summary (Markdown).
        Field("abstract", "longtext", _l("Summary"), max_length=100_000),
        _text("lessons_learned", _l("Lessons learned")),
        _LINKS,
        _CONTACTS,
        _EDITIONS,
    ),
)

KINDS: dict[str, Kind] = {k.name: k for k in (PROJECTS, OPPORTUNITIES, NEEDS, RESOURCES,
                                               REPORTS)}
BY_KEY: dict[str, Kind] = {k.key: k for k in KINDS.values()}

# The review states of every record.
DRAFT, SUBMITTED, PUBLISHED = "draft", "submitted", "published"
STATES = (DRAFT, SUBMITTED, PUBLISHED)
STATE_LABELS = {DRAFT: _l("Draft"), SUBMITTED: _l("Waiting for review"),
                PUBLISHED: _l("Published")}

# Read-only keys of the JSON shape: accepted (and ignored) on import, refused on POST/PATCH
# only when they would change something they cannot.
READ_ONLY = frozenset({"id", "kind", "key", "url", "api_url", "state", "owner", "created_at",
                       "updated_at", "published_at", "review_note", "languages"})


def get(name: str) -> Kind | None:
    return KINDS.get(name)


def type_label(kind: Kind, code: str | None) -> Any:
    spec = kind.type_field
    if spec is None or not code:
        return code or ""
    return dict(spec.choices).get(code, code)
