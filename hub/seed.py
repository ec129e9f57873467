"""The demo network and the reference data every hub starts with (thematic areas,
the liaison group). Packages add their own demo content through
`app.extensions["hub_seeders"]`, called with the created members."""

from __future__ import annotations

from flask import current_app

from hub import clock, countries, seed_translations
from hub.extensions import db
from hub.models import Group, GroupMembership, Member, MemberStatus, Role, ThematicArea

DEMO_PASSWORD = "biosafety-demo"

# The focal areas of the Framework and Action Plan for Capacity-Building for the
# Effective Implementation of the Cartagena Protocol on Biosafety.
ACTION_PLAN_AREAS = (
    ("national-frameworks", "National biosafety frameworks"),
    ("risk-assessment", "Risk assessment"),
    ("risk-management", "Risk management"),
    ("handling-transport", "Handling, transport, packaging and identification"),
    ("liability-redress", "Liability and redress"),
    ("public-awareness", "Public awareness, education and participation"),
    ("information-sharing", "Information sharing and the Biosafety Clearing-House"),
    ("socio-economic", "Socio-economic considerations"),
    ("detection-identification", "Detection and identification of LMOs"),
    ("transboundary-movements", "Transit, contained use and transboundary movements"),
    ("mainstreaming", "Mainstreaming biosafety"),
    ("education-training", "Biosafety education and training"),
)

DEMO_MEMBERS = (
    # email, name, role, organization, org_type, country
    ("secretariat@example.org", "Amina Diallo", Role.SECRETARIAT,
     "Network Secretariat", "intergovernmental", "CA"),
    ("moderator@example.org", "Carlos Mendoza", Role.MODERATOR,
     "Instituto Nacional de Bioseguridad", "government", "MX"),
    ("wanjiru@example.org", "Wanjiru Kamau", Role.MEMBER,
     "National Biosafety Authority", "government", "KE"),
    ("raj@example.org", "Raj Patel", Role.MEMBER, "Indian Council of Agricultural Research",
     "research", "IN"),
    ("olena@example.org", "Olena Kovalenko", Role.MEMBER, "Ministry of Environment",
     "government", "UA"),
    ("lucia@example.org", "Lucía Fernández", Role.MEMBER, "Universidad de Buenos Aires",
     "research", "AR"),
    ("jean@example.org", "Jean Dupont", Role.MEMBER, "Agence française de développement",
     "donor", "FR"),
    ("mei@example.org", "Mei Tanaka", Role.MEMBER, "Asia Biosafety Network", "ngo", "JP"),
    ("kofi@example.org", "Kofi Mensah", Role.MEMBER, "Ghana EPA", "government", "GH"),
)

TIMEZONES = {"CA": "America/Toronto", "MX": "America/Mexico_City", "KE": "Africa/Nairobi",
             "IN": "Asia/Kolkata", "UA": "Europe/Kyiv", "AR": "America/Argentina/Buenos_Aires",
             "FR": "Europe/Paris", "JP": "Asia/Tokyo", "GH": "Africa/Accra"}
LANGUAGES = {"MX": "es", "AR": "es", "FR": "fr"}


def ensure_reference_data() -> None:
    """Thematic areas and the liaison group: present in every hub, demo or not."""
    if db.session.scalar(db.select(db.func.count()).select_from(ThematicArea)) == 0:
        for position, (slug, name) in enumerate(ACTION_PLAN_AREAS, start=1):
            area = ThematicArea(slug=slug, name=name, position=position, translations={})
            seed_translations.translate_area(area)
            db.session.add(area)
    if db.session.scalar(db.select(Group).where(Group.slug == "liaison")) is None:
        db.session.add(Group(slug="liaison", name="Liaison Group",
                             description="The liaison group on capacity-building for "
                                         "biosafety works here in its closed forum."))
    db.session.commit()


def seed_demo(if_empty: bool = False) -> list[tuple[str, str]] | None:
    ensure_reference_data()
    if if_empty and db.session.scalar(db.select(db.func.count()).select_from(Member)):
        return None
    areas = list(db.session.scalars(db.select(ThematicArea).order_by(ThematicArea.position)))
    liaison = db.session.scalar(db.select(Group).where(Group.slug == "liaison"))
    created: list[tuple[str, str]] = []
    members: list[Member] = []
    for i, (email, name, role, org, org_type, country) in enumerate(DEMO_MEMBERS):
        member = db.session.scalar(db.select(Member).where(Member.email == email))
        if member is None:
            member = Member(email=email)
            db.session.add(member)
        member.name, member.role, member.organization = name, role, org
        member.org_type, member.country = org_type, country
        member.region = countries.region_of(country)
        member.status = MemberStatus.ACTIVE
        member.language = LANGUAGES.get(country, "en")
        member.timezone = TIMEZONES.get(country, "UTC")
        member.email_verified_at = member.approved_at = member.rules_accepted_at = clock.now()
        member.bio = f"{name} works at {org} on biosafety capacity building."
        member.expertise = areas[i % len(areas):i % len(areas) + 2]
        member.set_password(DEMO_PASSWORD)
        members.append(member)
        created.append((email, str(role)))
    db.session.flush()
    for member in members[:5]:
        if db.session.get(GroupMembership, (liaison.id, member.id)) is None:
            db.session.add(GroupMembership(group_id=liaison.id, member_id=member.id,
                                           is_manager=member.role == Role.SECRETARIAT))
    db.session.commit()
    for seeder in current_app.extensions.get("hub_seeders", []):
        seeder(members)
    return created
