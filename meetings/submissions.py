"""Before the meeting: participants' submissions (updates on ongoing activities, project
reports, work plans, an outline of collaboration opportunities), each with an optional
file, open until the deadline; and the compiled pre-meeting document shared with the
participants. Imports `hub`, `forums`, `meetings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from forums import attachments
from hub import clock, countries, markup
from hub.errors import Conflict, Forbidden, Invalid
from hub.extensions import db
from hub.models import Member
from meetings import registration, services
from meetings.models import CONFIRMED, SUBMISSION_KINDS, Meeting, Registration, Submission

KIND_LABELS = {
    "activities": _l("Update on ongoing activities"),
    "project_report": _l("Project report"),
    "work_plan": _l("Work plan"),
    "collaboration": _l("Opportunities for collaboration"),
}


def can_read(who: Any, meeting: Meeting) -> bool:
    """The participants and the organizers share the submissions."""
    return services.can_manage(who, meeting) or registration.is_participant(who, meeting)


def deadline_passed(meeting: Meeting) -> bool:
    deadline = clock.aware(meeting.submission_deadline)
    return deadline is not None and clock.now() >= deadline


def of_member(meeting: Meeting, member: Member) -> dict[str, Submission]:
    rows = db.session.scalars(db.select(Submission).where(
        Submission.meeting_id == meeting.id, Submission.member_id == member.id))
    return {row.kind: row for row in rows}


def submit(member: Member, meeting: Meeting, kind: str, body: str,
           upload: attachments.Upload | None = None) -> Submission:
    """Add or replace the member's submission of one kind."""
    if not registration.is_participant(member, meeting):
        raise Forbidden(str(_l("Only the meeting's participants submit.")),
                        code="not_participant")
    if kind not in SUBMISSION_KINDS:
        raise Invalid(str(_l("Choose one of the listed values.")), fields={"kind": "choice"})
    if deadline_passed(meeting):
        raise Conflict(str(_l("The deadline for submissions has passed.")), code="deadline")
    body = (body or "").strip()
    has_file = upload is not None and bool(upload.data)
    if not body and not has_file:
        raise Invalid(str(_l("Write something or attach a file.")), fields={"body": "required"})
    if len(body) > 50_000:
        raise Invalid(str(_l("That is too long.")), fields={"body": "length"})
    row = of_member(meeting, member).get(kind)
    if row is None:
        row = Submission(meeting_id=meeting.id, member_id=member.id, kind=kind)
        db.session.add(row)
    row.body, row.body_html = body, markup.render(body) if body else ""
    if has_file:
        row.content_type = attachments.check_upload(upload)
        row.sha256 = attachments.save_blob(upload.data)
        row.filename = attachments.clean_filename(upload.filename)
        row.size = len(upload.data)
    row.updated_at = clock.now()
    db.session.commit()
    return row


def missing(meeting: Meeting) -> list[Member]:
    """Confirmed participants who have submitted nothing yet."""
    done = db.select(Submission.member_id).where(Submission.meeting_id == meeting.id)
    return list(db.session.scalars(
        db.select(Member).join(Registration, Registration.member_id == Member.id)
        .where(Registration.meeting_id == meeting.id, Registration.status == CONFIRMED,
               Member.id.not_in(done)).order_by(Member.name)))


@dataclass(frozen=True)
class Section:
    kind: str
    label: str
    items: list[dict[str, Any]]


def compiled(meeting: Meeting, locale: str = "en") -> list[Section]:
    """The pre-meeting document: every submission by kind, then by participant."""
    rows = list(db.session.scalars(
        db.select(Submission).where(Submission.meeting_id == meeting.id)
        .join(Member, Member.id == Submission.member_id).order_by(Member.name, Submission.id)))
    sections = []
    for kind in SUBMISSION_KINDS:
        items = [{"id": r.id, "author": r.member.name, "organization": r.member.organization,
                  "country": countries.country_name(r.member.country, locale)
                  if r.member.country else "",
                  "body": r.body, "html": r.body_html, "filename": r.filename,
                  "updated_at": r.updated_at}
                 for r in rows if r.kind == kind]
        sections.append(Section(kind, str(KIND_LABELS[kind]), items))
    return sections


def get_file(who: Any, meeting: Meeting, submission_id: int) -> Submission:
    from hub.errors import NotFound

    row = db.session.get(Submission, submission_id)
    if row is None or row.meeting_id != meeting.id or not row.sha256 or not can_read(who,
                                                                                     meeting):
        raise NotFound(str(_l("No such file.")))
    return row
