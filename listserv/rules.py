"""The inbound pipeline as data: small named rules, read top to bottom like a table.

Each rule looks at a `Mail` (and may note what it learned on it: the board, the sender,
the thread) and returns a `Verdict` to stop the pipeline, or None to pass the message on.
A message that passes every rule is accepted for posting. Rules never write to the
database or send anything: `listserv.inbound` applies the verdict, and the dry run
(`hub gateway check`) only reports it. Adding a rule is adding a line to PIPELINE.
(After GNU Mailman 3's chains and rules.)

Imports `hub`, `forums` and `listserv`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flufl.bounce import all_failures

from forums.models import Board, Post, PostEdit, Topic
from hub import access
from hub.extensions import db
from hub.models import Member, MemberStatus
from hub.services import member_by_email
from listserv import addresses, confirmations, links, mime, moderation
from listserv.models import CommandRequest
from listserv.trimmer import trim_reply

# Verdict actions.
ACCEPT = "accept"  # post it through the forums' posting service
DISCARD = "discard"  # drop silently, with the reason logged
REJECT = "reject"  # refuse; the sender may get one notice
QUARANTINE = "quarantine"  # keep for the Secretariat to look at and reprocess
BOUNCE = "bounce"  # a delivery failure report: raise the member's bounce score
COMMAND = "command"  # a request to SLUG-request@
CONFIRM = "confirm"  # a member confirms a change they asked for by email
MODERATE = "moderate"  # a moderator's "approve" / "reject <reason>" for a held post
FORWARD = "forward"  # to postmaster@ or SLUG-owner@: pass on to the people behind it


@dataclass(frozen=True)
class Verdict:
    action: str
    rule: str
    reason: str  # for people: the log and, for refusals, the notice
    code: str = ""  # stable: not_member, locked, closed, too_large, ...
    notify: bool = False  # a refusal the sender should hear about


@dataclass
class Mail:
    """One received message for one recipient, and what the rules learned about it."""

    raw: bytes
    rcpt: str
    envelope_from: str  # "" for the null sender <>
    msg: Message
    address: addresses.ListAddress | None = None
    board: Board | None = None
    from_name: str = ""
    from_address: str = ""
    member: Member | None = None
    topic: Topic | None = None
    parent: Post | None = None
    title: str = ""
    body: mime.Body | None = None
    text: str = ""
    elided: str = ""
    bounced: list[tuple[Member, str]] = field(default_factory=list)  # (member, hard|soft)
    held: Post | None = None  # the held post a moderation reply decides
    held_edit: PostEdit | None = None  # ... or the waiting edit of that (published) post
    decision: moderation.Decision | None = None
    confirmation: CommandRequest | None = None  # the request a confirmation carries out
    dry_run: bool = False

    @property
    def message_id(self) -> str:
        ids = mime.message_ids(self.msg.get("Message-ID", "") or "")
        return ids[0] if ids else ""

    @property
    def subject(self) -> str:
        return mime.header_text(self.msg, "Subject")

    @property
    def references(self) -> list[str]:
        """In-Reply-To first, then References from the newest back."""
        refs = mime.message_ids(str(self.msg.get("In-Reply-To", "") or ""))
        refs += list(reversed(mime.message_ids(str(self.msg.get("References", "") or ""))))
        seen: list[str] = []
        for ref in refs:
            if ref not in seen:
                seen.append(ref)
        return seen

    @property
    def language(self) -> str:
        return (self.member.language if self.member else None) or "en"


Check = Callable[[Mail], Verdict | None]


@dataclass(frozen=True)
class Rule:
    name: str
    check: Check


def _reject(rule: str, code: str, reason: str, notify: bool = True) -> Verdict:
    return Verdict(REJECT, rule, reason, code, notify)


# -- the rules -------------------------------------------------------------------------------

def check_recipient(mail: Mail) -> Verdict | None:
    """The address must be one of ours and name a board (the gateway already refused
    unknown recipients at RCPT; a board may have gone since)."""
    mail.address = mail.address or addresses.parse(mail.rcpt)
    if mail.address is None:
        return Verdict(DISCARD, "recipient", "Not an address of this hub.", "unknown")
    if mail.address.kind in {"noreply", "postmaster"}:
        return None
    if mail.board is None or mail.board.slug != mail.address.slug:  # else found on receipt
        mail.board = db.session.scalar(db.select(Board).where(Board.slug == mail.address.slug))
    if mail.board is None:
        return Verdict(DISCARD, "recipient", "No list has this address.", "unknown")
    return None


def check_malformed(mail: Mail) -> Verdict | None:
    """Mail whose structure cannot be trusted is kept, not guessed at."""
    mail.body = mime.extract(mail.msg)
    if mail.body.problems:
        return Verdict(QUARANTINE, "malformed",
                       "Malformed MIME: " + "; ".join(mail.body.problems) + ".", "malformed")
    senders = mime.addresses(mail.msg, "From")
    if senders:
        mail.from_name, mail.from_address = senders[0]
        # Who From claims to be: for the language of answers. `check_sender` decides
        # whether the claim is good enough to post.
        member = member_by_email(mail.from_address)
        if member is not None and member.status == MemberStatus.ACTIVE:
            mail.member = member
    return None


_DSN = re.compile(r"multipart/report", re.I)
_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailer)@", re.I)


def _dsn_evidence(mail: Mail) -> bool:
    """Looks like a delivery report (not merely an automatic reply)."""
    ctype = str(mail.msg.get("Content-Type", ""))
    return bool(_DSN.search(ctype)) or bool(_DAEMON.match(mail.from_address or ""))


def _failures(mail: Mail) -> tuple[set[str], set[str]]:
    try:
        temporary, permanent = all_failures(mail.msg)
    except Exception:  # a detector choking on odd mail is not a reason to lose it
        return set(), set()

    def text(values: frozenset) -> set[str]:
        return {(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)).lower()
                for v in values}

    return text(temporary), text(permanent)


def check_bounce(mail: Mail) -> Verdict | None:
    """Delivery failure reports: to a VERP address (the member is in the token), or a DSN
    to any of our addresses (flufl.bounce names the failing recipients)."""
    address = mail.address
    if address is None or address.kind in {"owner", "postmaster"}:
        return None  # the people behind these addresses read delivery reports too
    verp = address.kind == "bounce"
    evidence = _dsn_evidence(mail)
    if not (verp or evidence or mail.envelope_from == ""):
        return None
    temporary, permanent = _failures(mail)
    if verp:
        member = db.session.get(Member, address.member_id)
        if member is None:
            return Verdict(DISCARD, "bounce", "A bounce for a member who is gone.", "bounce")
        if not (temporary or permanent or evidence):
            return Verdict(DISCARD, "bounce", "Mail to a bounce address that is no delivery "
                           "report (an automatic reply).", "auto")
        kind = "soft" if temporary and not permanent else "hard"
        mail.bounced = [(member, kind)]
        return Verdict(BOUNCE, "bounce", f"A {kind} bounce for {member.email} (VERP).",
                       "bounce")
    found: list[tuple[Member, str]] = []
    for kind, addrs in (("hard", permanent), ("soft", temporary - permanent)):
        for addr in sorted(addrs):
            member = member_by_email(addr)
            if member is not None:
                found.append((member, kind))
    mail.bounced = found
    if found:
        who = ", ".join(f"{m.email} ({k})" for m, k in found)
        return Verdict(BOUNCE, "bounce", f"A bounce for {who}.", "bounce")
    if evidence:
        return Verdict(DISCARD, "bounce", "A delivery report naming no member.", "bounce")
    return None


def _is_ours(value: str) -> bool:
    dom = addresses.domain()
    return value.lower().rstrip(">").strip().endswith(f".{dom}") or \
        value.lower().rstrip(">").strip().endswith(f"@{dom}")


def check_loop(mail: Mail) -> Verdict | None:
    """Our own list mail coming back (List-Id, X-Loop, our envelope sender)."""
    for value in mail.msg.get_all("List-Id", []) or []:
        ids = re.findall(r"<([^<>]+)>", str(value)) or [str(value)]
        if any(_is_ours(i) for i in ids):
            return Verdict(DISCARD, "loop", f"Mail from our own list ({ids[0]}) came back.",
                           "loop")
    for value in mail.msg.get_all("X-Loop", []) or []:
        if _is_ours(str(value)):
            return Verdict(DISCARD, "loop", "Mail with our X-Loop header came back.", "loop")
    sender = addresses.parse(mail.envelope_from) if mail.envelope_from else None
    if sender is not None:
        return Verdict(DISCARD, "loop", "Mail sent by this hub came back.", "loop")
    return None


_OUT_OF_OFFICE = re.compile(
    r"^\s*(auto(matic|matische)?[ -]?(reply|response|antwort|respuesta|réponse)"
    r"|auto:|autoreply|out of (the )?office|abwesenheit|abwesend|absence|absent"
    r"|r[ée]ponse automatique|respuesta autom[áa]tica|fuera de la oficina"
    r"|ausente|vacation|on vacation|away from|i am away|i'm away|je suis absent"
    r"|resposta autom[áa]tica|risposta automatica|fuori sede)",
    re.I,
)
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Response",
                 "X-Autogenerated", "X-AutoReply-From", "X-Mail-Autoreply", "X-FC-MachineGenerated")


def check_owner(mail: Mail) -> Verdict | None:
    """postmaster@ (RFC 5321) reaches the Secretariat, SLUG-owner@ the board's
    moderators: passed on as it came, never posted, never answered."""
    address = mail.address
    if address is None or address.kind not in {"owner", "postmaster"}:
        return None
    who = "the Secretariat" if address.kind == "postmaster" else \
        f"the moderators of {address.slug}"
    return Verdict(FORWARD, "owner", f"Mail to {address.address}, passed on to {who}.",
                   address.kind)


# Other lists' notices about held mail (Mailman, Sympa, Google Groups, LISTSERV...).
_LIST_ADMIN_SUBJECT = re.compile(
    r"(awaits?|awaiting|requires?|needs?|pending)\s+(list\s+)?moderat|held\s+for\s+moderat"
    r"|is being held|post(ing)? (is )?held|moderator('s)? approval|attente de mod[ée]ration"
    r"|en espera de moderaci[óo]n|message (en attente|bloqu[ée])", re.I)


def check_auto_reply(mail: Mail) -> Verdict | None:
    """RFC 3834 and the folklore of vacation responders: never post, never answer."""
    auto = str(mail.msg.get("Auto-Submitted", "") or "").strip().lower()
    if auto and auto != "no":
        return Verdict(DISCARD, "auto-reply", f"Auto-Submitted: {auto}.", "auto")
    precedence = str(mail.msg.get("Precedence", "") or "").strip().lower()
    if precedence in {"bulk", "junk", "auto_reply"}:
        return Verdict(DISCARD, "auto-reply", f"Precedence: {precedence}.", "auto")
    if str(mail.msg.get("X-Precedence", "") or "").strip().lower() == "auto_reply":
        return Verdict(DISCARD, "auto-reply", "X-Precedence: auto_reply.", "auto")
    for name in _AUTO_HEADERS:
        if mail.msg.get(name) is not None:
            return Verdict(DISCARD, "auto-reply", f"{name} header.", "auto")
    if str(mail.msg.get("X-List-Administrivia", "") or "").strip().lower() == "yes" or (
            mail.msg.get("List-Id") is not None and _LIST_ADMIN_SUBJECT.search(mail.subject)):
        return Verdict(DISCARD, "auto-reply", "Another list's notice about held mail: "
                       f"{mail.subject[:80]}", "auto")
    if _OUT_OF_OFFICE.search(mail.subject):
        return Verdict(DISCARD, "auto-reply", f"Out-of-office subject: {mail.subject[:80]}",
                       "auto")
    if mail.envelope_from == "":
        return Verdict(DISCARD, "auto-reply", "Sent with a null envelope sender (<>).",
                       "auto")
    if mail.address is not None and mail.address.kind == "noreply":
        return Verdict(DISCARD, "auto-reply", "Mail to the no-reply address.", "noreply")
    return None


def _confirm_token(line: str) -> str | None:
    """The TOKEN of a "confirm TOKEN" line (a subject may have "Re:" and [tags])."""
    words = clean_subject(line).lower().split()
    return words[1] if len(words) >= 2 and words[0] == "confirm" else None


def check_confirmation(mail: Mail) -> Verdict | None:
    """A member confirms a change they asked for: a reply to the confirmation request
    (its Reply-To carries the token), or "confirm TOKEN" as the subject or the first line
    of mail to SLUG-request@. The token names one member's request; it works once, until
    it expires, and only from that member's registered address."""
    address = mail.address
    if address is None:
        return None
    if address.kind == "confirm":
        token = address.token
    elif address.kind == "request":
        lines = [line for line in (mail.body.text if mail.body else "").splitlines()
                 if line.strip()]
        token = _confirm_token(mail.subject) or (_confirm_token(lines[0]) if lines else None)
        if token is None:
            return None
    else:
        return None
    lookup = confirmations.find(token)
    request = lookup.request
    with force_locale(mail.language):
        if lookup.problem or request is None:
            return _reject("confirm", lookup.problem or confirmations.INVALID,
                           confirmations.problem_text(lookup))
        owner = request.member
        if owner.email.lower() != mail.from_address:
            return _reject("confirm", "from_mismatch", _(
                "This confirmation belongs to another email address, so nothing was "
                "changed. Please reply from the address the confirmation request was sent "
                "to, or use the link in it."))
    mail.confirmation, mail.member, mail.board = request, owner, request.board
    asked = ", ".join(c.command for c in confirmations.changes_of(request))
    return Verdict(CONFIRM, "confirm", f"{owner.email} confirms request {request.id} for "
                   f"{request.board.slug}: {asked}.", "confirm")


COMMAND_WORDS = {"subscribe", "unsubscribe", "remove", "leave", "join", "help", "digest",
                 "each", "nodigest", "daily", "weekly", "nomail", "register"}


def check_command(mail: Mail) -> Verdict | None:
    """Mail to SLUG-request@, and a bare "unsubscribe" sent to the list by mistake."""
    address = mail.address
    if address is None:
        return None
    if address.kind == "request":
        return Verdict(COMMAND, "command", "A command to the request address.", "command")
    if address.kind == "post":
        subject = mail.subject.strip().lower()
        words = subject.split()
        text = mail.body.text.strip() if mail.body else ""
        # "help" is left out: "Help!" is a fine subject for a real question.
        if words and words[0] in {"subscribe", "unsubscribe", "remove"} \
                and len(words) <= 2 and len(text.split()) <= 3:
            return Verdict(COMMAND, "command",
                           f"A command (“{subject}”) sent to the list address.", "command")
    return None


def check_digest_reply(mail: Mail) -> Verdict | None:
    """A reply to a digest answers no one post: tell the member how to reply."""
    address = mail.address
    digest = address is not None and address.kind == "digest"
    if not digest and address is not None and address.kind == "post":
        digest = any(ref.startswith("<digest-") and _is_ours(ref) for ref in mail.references)
    if not digest:
        return None
    with force_locale(mail.language):
        reason = _("You replied to a digest, which collects several posts, so we could not "
                   "tell which one you were answering. To reply to one post, use the "
                   "“Reply” link next to it in the digest, or switch this list to one "
                   "email per post in your email settings and reply to that email.")
    return _reject("digest-reply", "digest_reply", reason)


def check_size(mail: Mail) -> Verdict | None:
    limit = int(current_app.config.get("HUB_LIST_MAX_BYTES", 10 * 1024 * 1024))
    if len(mail.raw) <= limit:
        return None
    with force_locale(mail.language):
        reason = _("Your message is %(size)s MB; messages to the lists may be at most "
                   "%(limit)s MB. Please send large files as links, or attach them on "
                   "the web.", size=round(len(mail.raw) / 1048576, 1),
                   limit=round(limit / 1048576, 1))
    return _reject("size", "too_large", reason)


def check_sender(mail: Mail) -> Verdict | None:
    """Who is writing: a reply (or moderation) token is bound to one member and works
    only when From is that member's address; the list address takes mail from active
    members."""
    address = mail.address
    assert address is not None and mail.board is not None
    if not mail.from_address:
        return Verdict(REJECT, "sender", "No From address.", "no_sender", notify=False)
    if address.bad_token:
        with force_locale(mail.language):
            reason = _("The reply address you wrote to is not valid (it may have been "
                       "changed or cut by your mail program). Please reply to the "
                       "original email again, or reply on the web.")
        return _reject("sender", "bad_token", reason)
    if address.kind in {"reply", "moderate"}:
        owner = db.session.get(Member, address.member_id)
        if owner is None or owner.email.lower() != mail.from_address:
            with force_locale(mail.language):
                reason = _("This reply address belongs to another member, or to another "
                           "email address of yours. Please reply from the address the "
                           "list writes to, or reply on the web.")
            return _reject("sender", "from_mismatch", reason)
        if owner.status != MemberStatus.ACTIVE:
            return _reject("sender", "inactive", "The member is not active.", notify=False)
        mail.member = owner
        return None
    if mail.member is None:
        with force_locale(mail.language):
            reason = _("Only members of the network can write to %(address)s, and we do "
                       "not know %(sender)s. If you are a member, please write from the "
                       "address you registered; otherwise you can apply to join at "
                       "%(url)s.", address=addresses.list_address(mail.board.slug),
                       sender=mail.from_address, url=links.absolute("auth.apply"))
        return _reject("not-member", "not_member", reason)
    return None


def check_moderation(mail: Mail) -> Verdict | None:
    """A reply to a held-post (or waiting-edit) notification: the moderator (bound to the
    token, checked by `check_sender`) must still moderate the board and the post (or
    edit) must still wait; the first line of the trimmed reply says "approve" or
    "reject <reason>"."""
    address = mail.address
    if address is None or address.kind != "moderate":
        return None
    assert mail.board is not None and mail.body is not None
    edit = (db.session.get(PostEdit, address.edit_id) if address.edit_id is not None
            else None)
    if edit is not None:
        post: Post | None = edit.post
    else:
        post = db.session.get(Post, address.post_id) if address.post_id is not None else None
    topic = db.session.get(Topic, post.topic_id) if post is not None else None
    with force_locale(mail.language):
        if not access.can_moderate(mail.member, mail.board):
            return _reject("moderation", "not_moderator", moderation.not_moderator(mail.board))
        if post is None or topic is None or topic.board_id != mail.board.id:
            return _reject("moderation", "gone", moderation.what_happened(None))
        mail.held, mail.topic, mail.held_edit = post, topic, edit
        if edit is not None:
            if edit.state != "pending" or post.deleted_at is not None:
                return _reject("moderation", "not_held", moderation.what_happened_edit(edit))
        elif post.status != "held" or post.deleted_at is not None:
            return _reject("moderation", "not_held", moderation.what_happened(post))
        trimmed = trim_reply(mail.body.text)
        mail.text, mail.elided = trimmed.body, trimmed.elided
        decision = moderation.read_decision(mail.text)
        mail.decision = decision
        if decision.verb == moderation.REJECT and not decision.reason:
            return _reject("moderation", "no_reason", _(
                "To reject the post, write your reason after the word “reject” on the "
                "first line of your reply, for example: “reject Please keep to the "
                "question of this round.” The author receives the reason. Nothing was "
                "changed."))
        if not decision.verb:
            return _reject("moderation", "not_a_command", _(
                "We could not read a decision in your reply, so nothing was changed. "
                "Write “approve” on the first line of your reply to publish the post, or "
                "“reject” followed by your reason to refuse it."))
    who = mail.member.email if mail.member else mail.from_address
    what = f"edit {edit.id} of post {post.id}" if edit is not None else f"post {post.id}"
    if decision.verb == moderation.APPROVE:
        return Verdict(MODERATE, "moderation",
                       f"{who} approves {what} in “{topic.title}”.", "approve")
    return Verdict(MODERATE, "moderation",
                   f"{who} rejects {what} in “{topic.title}”: {decision.reason}",
                   "reject")


def check_access(mail: Mail) -> Verdict | None:
    """May the sender post on this board now (closed boards, conference windows, ...)?"""
    assert mail.board is not None
    with force_locale(mail.language):
        decision = access.check_post(mail.member, mail.board)
    if decision:
        return None
    return _reject("access", decision.code, decision.message)


_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|vs|rv|tr|r|enc|antw|odp)\s*(\[\d+\])?\s*:\s*"
                     r"|\[[^\]]{1,40}\]\s*)+", re.I)


def clean_subject(subject: str) -> str:
    """A topic title from a subject: without Re:/Fwd: and [tags]."""
    return _PREFIX.sub("", subject or "").strip()


def check_thread(mail: Mail) -> Verdict | None:
    """The thread: the token, else In-Reply-To/References, else a new topic."""
    assert mail.board is not None and mail.address is not None
    post: Post | None = None
    if mail.address.kind == "reply":
        post = db.session.get(Post, mail.address.post_id)
        if post is None:
            return _gone(mail)
    else:
        refs = mail.references
        if refs:
            candidates = {p.message_id: p for p in db.session.scalars(
                db.select(Post).join(Topic, Topic.id == Post.topic_id)
                .where(Post.message_id.in_(refs), Topic.board_id == mail.board.id))}
            post = next((candidates[r] for r in refs if r in candidates), None)
    if post is None:
        mail.title = clean_subject(mail.subject)
        if not mail.title:
            with force_locale(mail.language):
                mail.title = _("(no subject)")
        return None
    topic = db.session.get(Topic, post.topic_id)
    if topic is None or topic.board_id != mail.board.id or topic.deleted_at is not None \
            or topic.status != "published":
        return _gone(mail)
    if topic.locked and not access.can_moderate(mail.member, mail.board):
        with force_locale(mail.language):
            reason = _("The discussion “%(title)s” is closed to new replies.",
                       title=topic.title)
        return _reject("thread", "locked", reason)
    mail.topic = topic
    if post.status == "published" and post.deleted_at is None:
        mail.parent = post
    return None


def _gone(mail: Mail) -> Verdict:
    with force_locale(mail.language):
        reason = _("The post you replied to is no longer there, so your reply was not "
                   "posted.")
    return _reject("thread", "gone", reason)


_QUOTED_MARKER = re.compile(r"^>[> ]*##\s*reply\s+above\s+this\s+line\s*##\s*$", re.I | re.M)


def check_body(mail: Mail) -> Verdict | None:
    """The author's own words: quotes and signatures trimmed (the cut part is kept)."""
    assert mail.body is not None
    text = mail.body.text
    trimmed = trim_reply(text)
    if not trimmed.body and _QUOTED_MARKER.search(text):
        # A reply written below the quoted original: the marker only means "cut" above it.
        trimmed = trim_reply(_QUOTED_MARKER.sub(">", text))
    mail.text, mail.elided = trimmed.body, trimmed.elided
    if mail.text or mail.body.attachments:
        if not mail.text:
            mail.text = "(" + ", ".join(a.filename for a in mail.body.attachments) + ")"
        return None
    with force_locale(mail.language):
        reason = _("Your message seems to be empty once quoted text is removed, so nothing "
                   "was posted. Please write your reply above the quoted message.")
    return _reject("body", "empty", reason)


PIPELINE: tuple[Rule, ...] = (
    Rule("recipient", check_recipient),  # discard: not ours / no such list
    Rule("malformed", check_malformed),  # quarantine: MIME we cannot trust
    Rule("bounce", check_bounce),  # bounce: DSNs and VERP returns
    Rule("loop", check_loop),  # discard: our own mail came back
    Rule("owner", check_owner),  # forward: postmaster@, SLUG-owner@
    Rule("auto-reply", check_auto_reply),  # discard: RFC 3834, vacation, <>
    Rule("confirm", check_confirmation),  # confirm: "confirm TOKEN", replies to requests
    Rule("command", check_command),  # command: SLUG-request@
    Rule("digest-reply", check_digest_reply),  # reject: replies to a digest
    Rule("size", check_size),  # reject: too large
    Rule("sender", check_sender),  # reject: not a member, token/From mismatch
    Rule("moderation", check_moderation),  # moderate: "approve" / "reject <reason>"
    Rule("access", check_access),  # reject: may not post here now
    Rule("thread", check_thread),  # reject: closed or gone thread
    Rule("body", check_body),  # reject: nothing left after trimming
)


def run(mail: Mail, pipeline: tuple[Rule, ...] = PIPELINE) -> Verdict:
    for rule in pipeline:
        verdict = rule.check(mail)
        if verdict is not None:
            return verdict
    where = f"topic {mail.topic.id}" if mail.topic else f"new topic “{mail.title}”"
    return Verdict(ACCEPT, "accept", f"Posted by {mail.from_address} to {where}.", "accept")
