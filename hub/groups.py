"""Groups: creating them, who may see which, adding and removing members (each change
sent as `hub.events.group_membership_changed`), and a group's elected chairperson.
Imports `hub` only.
"""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import lazy_gettext as _l

from hub import access, clock, content, events
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.models import Group, GroupChair, GroupMembership, Member, MemberStatus
from hub.services import audit

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def create_group(actor: Member, slug: str, name: str, description: str = "",
                 kind: str = "group", translations: dict | None = None,
                 source_lang: str | None = None) -> Group:
    if not actor.is_secretariat:
        raise Forbidden(str(_l("Only the Secretariat can create groups.")))
    slug = (slug or "").strip().lower()
    if not _SLUG.match(slug):
        raise Invalid(str(_l("A slug is 2 to 63 lower-case letters, digits or dashes.")),
                      fields={"slug": "format"})
    if not (name or "").strip():
        raise Invalid(str(_l("A name is required.")), fields={"name": "required"})
    if db.session.scalar(db.select(Group).where(Group.slug == slug)):
        raise Conflict(str(_l("That slug is taken.")), fields={"slug": "taken"})
    group = Group(slug=slug, name=name.strip(), description=(description or "").strip(),
                  kind=kind, translations={})
    content.set_translations(group, translations or {}, source_lang)
    db.session.add(group)
    audit(actor, "group.create", group, slug)
    db.session.commit()
    return group


def group_by_slug(slug: str) -> Group:
    group = db.session.scalar(db.select(Group).where(Group.slug == slug))
    if group is None:
        raise NotFound(str(_l("No such group.")))
    return group


def visible_groups(viewer: Member | None) -> list[Group]:
    """Groups a member may see: their own, or all of them for the Secretariat."""
    if viewer is None:
        return []
    query = db.select(Group).order_by(Group.name)
    if not viewer.is_secretariat:
        query = query.where(Group.id.in_(access.group_ids(viewer)))
    return list(db.session.scalars(query))


def group_members(group: Group) -> list[GroupMembership]:
    return list(
        db.session.scalars(
            db.select(GroupMembership)
            .join(Member)
            .where(GroupMembership.group_id == group.id)
            .order_by(Member.name)
        )
    )


def add_to_group(actor: Member | None, group: Group, member: Member,
                 manager: bool = False, commit: bool = True) -> GroupMembership:
    if actor is not None and not access.can_manage_group(actor, group.id):
        raise Forbidden(str(_l("Only the group's managers can add members.")))
    if member.status not in {MemberStatus.ACTIVE, MemberStatus.INVITED, MemberStatus.PENDING}:
        raise Conflict(str(_l("This person is not an active member.")))
    link = db.session.get(GroupMembership, (group.id, member.id))
    if link is None:
        link = GroupMembership(group_id=group.id, member_id=member.id, is_manager=manager)
        db.session.add(link)
    elif manager:
        link.is_manager = True
    audit(actor, "group.add", group, member.email)
    access.forget_groups()
    if commit:
        db.session.commit()
        events.group_membership_changed.send(
            current_app._get_current_object(),
            event=events.GroupMembershipEvent(group.id, member.id, True),
        )
    return link


def remove_from_group(actor: Member, group: Group, member: Member) -> None:
    if not access.can_manage_group(actor, group.id):
        raise Forbidden(str(_l("Only the group's managers can remove members.")))
    link = db.session.get(GroupMembership, (group.id, member.id))
    if link is None:
        raise NotFound(str(_l("This person is not in the group.")))
    db.session.delete(link)
    audit(actor, "group.remove", group, member.email)
    access.forget_groups()
    db.session.commit()
    events.group_membership_changed.send(
        current_app._get_current_object(),
        event=events.GroupMembershipEvent(group.id, member.id, False),
    )


def chair_of(group: Group) -> Member | None:
    row = db.session.get(GroupChair, group.id)
    return row.member if row else None


def elect_chair(actor: Member, group: Group, member: Member | None) -> None:
    """Record the group's elected chairperson (the Secretariat or the group's managers);
    None clears it. The chair must belong to the group."""
    if not access.can_manage_group(actor, group.id):
        raise Forbidden(str(_l("Only the Secretariat and the group's managers can record "
                               "its chair.")))
    row = db.session.get(GroupChair, group.id)
    if member is None:
        if row is not None:
            db.session.delete(row)
    else:
        if db.session.get(GroupMembership, (group.id, member.id)) is None:
            raise Invalid(str(_l("The chair must be a member of the group.")),
                          fields={"email": "not_member"})
        if row is None:
            row = GroupChair(group_id=group.id, member_id=member.id)
            db.session.add(row)
        row.member_id = member.id
        row.elected_on = clock.now()
    audit(actor, "group.chair", group, member.email if member else "")
    db.session.commit()
    access.forget_groups()
    events.group_chair_changed.send(
        current_app._get_current_object(),
        event=events.GroupChairEvent(group.id, member.id if member else None))
