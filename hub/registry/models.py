"""The registry's tables.

`registry_record` holds what every kind shares (title, countries, thematic areas, contacts,
links, owner, review state, times); each kind adds its own fields in its own table
(joined-table inheritance, loaded with one extra SELECT per kind present in a list).
`registry_facet` is a derived index of (name, value) pairs that browsing filters and counts
on, `registry_facet_count` the same pre-aggregated by kind and review state,
`registry_facet_pair_count` by one chosen filter too, `registry_bitset` the same facets
and the common words of the full-text index as bitsets, and `registry_match_key` what
matching compares; the full-text index (SQLite FTS5 table `registry_record_fts`,
PostgreSQL column `registry_record.search_vector` + GIN) is created by the migration and
kept by `hub.registry.search`. Imports only `hub`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub import clock
from hub.extensions import db
from hub.models import Member
from hub.types import UTCDateTime


class Record(db.Model):
    __tablename__ = "registry_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="draft")
    title: Mapped[str] = mapped_column(String(300), default="")
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    thematic_areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    contacts: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # The record's identifier in the database it came from (a Clearing-House id,
    # "conference:<slug>" for proceedings): imports update instead of duplicating.
    external_id: Mapped[str | None] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    review_note: Mapped[str] = mapped_column(Text, default="")
    # Derived from the kind's dates, for the date filters and sorting.
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When followers heard of it (opportunities): set once, so re-publishing is quiet.
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The record in other languages: [{language, title, abstract, links}] (issue 12).
    editions: Mapped[list[dict]] = mapped_column(JSON, default=list)
    # Entered by the Secretariat from a paper form on behalf of {name, organization, email}.
    submitter: Mapped[dict | None] = mapped_column(JSON)

    owner: Mapped[Member | None] = relationship()

    __mapper_args__ = {"polymorphic_on": "kind"}
    __table_args__ = (
        UniqueConstraint("kind", "external_id", name="uq_registry_record_kind_external_id"),
        Index("ix_registry_record_kind_state_updated", "kind", "state", "updated_at"),
        Index("ix_registry_record_owner_id", "owner_id"),
        Index("ix_registry_record_state_updated", "state", "updated_at"),
    )


def _parent() -> Mapped[int]:
    return mapped_column(ForeignKey("registry_record.id", ondelete="CASCADE"), primary_key=True)


class Project(Record):
    __tablename__ = "registry_project"
    id: Mapped[int] = _parent()
    funding: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[str] = mapped_column(Text, default="")
    activities: Mapped[str] = mapped_column(Text, default="")
    outcomes: Mapped[str] = mapped_column(Text, default="")
    lessons_learned: Mapped[str] = mapped_column(Text, default="")
    background: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="ongoing")

    __mapper_args__ = {"polymorphic_identity": "projects", "polymorphic_load": "selectin"}


class Opportunity(Record):
    __tablename__ = "registry_opportunity"
    id: Mapped[int] = _parent()
    type: Mapped[str] = mapped_column(String(40), default="other")
    scope: Mapped[str] = mapped_column(String(20), default="")
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    timeframe_start: Mapped[date | None] = mapped_column(Date)
    timeframe_end: Mapped[date | None] = mapped_column(Date)
    eligibility: Mapped[str] = mapped_column(Text, default="")
    application_process: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date | None] = mapped_column(Date)

    __mapper_args__ = {"polymorphic_identity": "opportunities", "polymorphic_load": "selectin"}


class Need(Record):
    __tablename__ = "registry_need"
    id: Mapped[int] = _parent()
    country: Mapped[str] = mapped_column(String(2))
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    desired_means: Mapped[str] = mapped_column(Text, default="")
    measures_taken: Mapped[str] = mapped_column(Text, default="")

    __mapper_args__ = {"polymorphic_identity": "needs", "polymorphic_load": "selectin"}


class Resource(Record):
    __tablename__ = "registry_resource"
    id: Mapped[int] = _parent()
    type: Mapped[str] = mapped_column(String(40), default="other")
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_on: Mapped[date | None] = mapped_column(Date)
    publisher: Mapped[str] = mapped_column(String(300), default="")
    language: Mapped[str] = mapped_column(String(10), default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    abstract: Mapped[str] = mapped_column(Text, default="")
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)

    __mapper_args__ = {"polymorphic_identity": "resources", "polymorphic_load": "selectin"}


class Report(Record):
    __tablename__ = "registry_report"
    id: Mapped[int] = _parent()
    type: Mapped[str] = mapped_column(String(40), default="progress")
    timeframe_start: Mapped[date | None] = mapped_column(Date)
    timeframe_end: Mapped[date | None] = mapped_column(Date)
    organization: Mapped[str] = mapped_column(String(300), default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(10), default="")
    abstract: Mapped[str] = mapped_column(Text, default="")
    lessons_learned: Mapped[str] = mapped_column(Text, default="")

    __mapper_args__ = {"polymorphic_identity": "reports", "polymorphic_load": "selectin"}


MODELS: dict[str, type[Record]] = {
    "projects": Project, "opportunities": Opportunity, "needs": Need,
    "resources": Resource, "reports": Report,
}


class Facet(db.Model):
    """One (name, value) a record can be found by: country, region, theme, type, status,
    organization, year, language. Rebuilt from the record on every save."""

    __tablename__ = "registry_facet"

    record_id: Mapped[int] = mapped_column(
        ForeignKey("registry_record.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)

    __table_args__ = (Index("ix_registry_facet_name_value", "name", "value", "record_id"),)


class FacetCount(db.Model):
    """How many records of a kind in a review state have a facet value: `registry_facet`
    pre-aggregated, so that browsing without filters counts without reading every record.
    Kept by `hub.registry.tallies` in the transaction that changes a record."""

    __tablename__ = "registry_facet_count"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class FacetPairCount(db.Model):
    """How many records of a kind in a review state, found by one facet filter (`name1` =
    `value1`), have a facet value (`name2`, `value2`): the counts of a page with one
    filter chosen (a country's page, a theme) without reading every record found. The
    filters are the few browsing offers (`hub.registry.tallies.PAIR_FILTERS`) and the
    keys that say what an opportunity is open to. Kept by `hub.registry.tallies`."""

    __tablename__ = "registry_facet_pair_count"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), primary_key=True)
    name1: Mapped[str] = mapped_column(String(20), primary_key=True)
    value1: Mapped[str] = mapped_column(String(200), primary_key=True)
    name2: Mapped[str] = mapped_column(String(20), primary_key=True)
    value2: Mapped[str] = mapped_column(String(200), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class Bitset(db.Model):
    """Which records have a key, one bit per record id, `CHUNK` ids a row: a facet value
    (`registry_facet`'s name and value), a review state (name "state") or a common term of
    the full-text index (name "term", the stem or lexeme). ANDed and ORed in the hub, they
    count a common word with any facet filters without reading the records found. Kept by
    `hub.registry.bitsets`; the row ("built", "", -1) says they are complete."""

    __tablename__ = "registry_bitset"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    chunk: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    bits: Mapped[bytes] = mapped_column(LargeBinary)


class CommonTerm(db.Model):
    """The full-text terms (as the index stores them) whose records `registry_bitset`
    keeps: those in many records, chosen by `hub.registry.bitsets.rebuild`."""

    __tablename__ = "registry_common_term"

    term: Mapped[str] = mapped_column(String(200), primary_key=True)


class MatchKey(db.Model):
    """What matching compares, for each published project and opportunity: each of its
    thematic areas with each place it is in or open to (`place` "country:KE",
    "region:africa" or "world", worth `geography` points), so that the rows one need
    reads are those of records that share an area and a place; beside them the record's
    few other inputs to the score and the order. Kept by `hub.registry.match_keys`."""

    __tablename__ = "registry_match_key"

    record_id: Mapped[int] = mapped_column(
        ForeignKey("registry_record.id", ondelete="CASCADE"), primary_key=True)
    theme: Mapped[str] = mapped_column(String(200), primary_key=True)
    place: Mapped[str] = mapped_column(String(210), primary_key=True)
    geography: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    # 10 for an opportunity, 5 for an ongoing or planned project, else 0.
    bonus: Mapped[int] = mapped_column(default=0)
    deadline: Mapped[date | None] = mapped_column(Date)
    # The last day an opportunity is open (its deadline, else the end of its timeframe).
    open_until: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_registry_match_key_theme_place", "theme", "place", "record_id",
                            "geography", "kind", "bonus", "deadline", "open_until",
                            "updated_at"),)


class Follow(db.Model):
    """A member follows a thematic area or a country and hears of new opportunities."""

    __tablename__ = "registry_follow"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    facet: Mapped[str] = mapped_column(String(20), primary_key=True)  # "theme" | "country"
    value: Mapped[str] = mapped_column(String(80), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    member: Mapped[Member] = relationship()

    __table_args__ = (Index("ix_registry_follow_facet_value", "facet", "value"),)


class FocalPoint(db.Model):
    """A national focal point: speaks for a country in the registry (publishes its needs).
    Named by the Secretariat."""

    __tablename__ = "registry_focal_point"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"))

    member: Mapped[Member] = relationship(foreign_keys=[member_id])

    __table_args__ = (Index("ix_registry_focal_point_member_id", "member_id"),)
