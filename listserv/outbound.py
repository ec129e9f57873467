"""Building list mail: one post rendered once, then one personalized copy per member.

A `PreparedPost` renders what every copy shares (headers, the post's text and HTML, the
footer in each language) once; `copy_for(recipient)` only fills in the per-recipient
pieces (To, Reply-To token, List-Post, List-Unsubscribe, the footer's links) and encodes
the two small parts that differ. Quoted-printable encodes line by line, so an encoded
prefix and an encoded footer concatenate into a valid part; the MIME boundary contains
"=_", which quoted-printable can never produce, so it cannot collide with content.

Every header value passes `hub.mailer.safe_header`: a value with CR or LF is refused
(HeaderInjection), never folded into a new header. Imports `hub` and `listserv`.
"""

from __future__ import annotations

import binascii
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from flask import render_template
from flask_babel import force_locale

from hub import markup
from hub.mailer import safe_header
from listserv import addresses

REPLY_MARKER = "## Reply above this line ##"
# href="/..." and src="/..." in stored HTML: mail clients need the site's address.
_SITE_LINK = re.compile(r'\b(href|src)="/(?!/)')
_PLACEHOLDER = "\x00{}\x00"


@dataclass(frozen=True)
class PostMail:
    """What every copy of one post shares (no ORM objects: built once, used by threads)."""

    post_id: int
    board_id: int
    board_slug: str
    board_name: str
    topic_title: str
    is_reply: bool
    author_name: str
    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    date: datetime
    text: str  # Markdown source: readable as it is
    html: str  # sanitized, stored at write time
    post_url: str
    reply_url: str
    archive_url: str
    help_url: str
    settings_url: str
    unsubscribe_base: str  # the one-click URL without its token
    base_url: str = ""  # site-relative links in the stored HTML are made absolute with it
    attachments: tuple[tuple[str, str], ...] = ()  # (file name, absolute URL)
    # (language, the board's name in it): footers name the board in the reader's language
    board_names: tuple[tuple[str, str], ...] = ()

    def board_name_in(self, language: str) -> str:
        return dict(self.board_names).get(language) or self.board_name


@dataclass(frozen=True)
class Reader:
    """One recipient of a copy."""

    member_id: int
    email: str
    name: str
    language: str = "en"
    can_post: bool = True


def subject_for(slug: str, title: str, is_reply: bool) -> str:
    tag = f"[{slug}]"
    subject = f"{tag} {title}"
    return f"Re: {subject}" if is_reply else subject


def _header_lines(pairs: list[tuple[str, str]]) -> bytes:
    """Headers through the email package's SMTP policy: RFC 2047 words and folding."""
    msg = EmailMessage(policy=SMTP)
    for name, value in pairs:
        msg[name] = safe_header(value)
    return bytes(msg).rstrip(b"\r\n") + b"\r\n"


def _qp(text: str) -> bytes:
    data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    return binascii.b2a_qp(data, istext=True)


@dataclass
class _Variant:
    text_footer: str
    html_footer: str


@dataclass
class PreparedPost:
    mail: PostMail
    boundary: str = field(default_factory=lambda: f"=_{secrets.token_hex(16)}")
    _head: bytes = b""
    _text_body: bytes = b""
    _html_head: bytes = b""
    _variants: dict[tuple[str, bool], _Variant] = field(default_factory=dict)

    def __post_init__(self) -> None:
        m = self.mail
        list_addr = addresses.list_address(m.board_slug)
        request_addr = addresses.request_address(m.board_slug)
        shared: list[tuple[str, str]] = [
            ("From", str(Address(f"{m.author_name} via {m.board_name}",
                                 addr_spec=list_addr))),
            ("Subject", subject_for(m.board_slug, m.topic_title, m.is_reply)),
            ("Date", format_datetime(m.date)),
            ("Message-ID", m.message_id),
        ]
        if m.in_reply_to:
            shared.append(("In-Reply-To", m.in_reply_to))
        if m.references:
            shared.append(("References", " ".join(m.references)))
        shared += [
            ("List-Id", f"{m.board_name} <{addresses.list_id(m.board_slug)}>"),
            ("List-Help", f"<mailto:{request_addr}?subject=help>, <{m.help_url}>"),
            ("List-Archive", f"<{m.archive_url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Precedence", "list"),
            ("X-Auto-Response-Suppress", "All"),
            ("X-Loop", list_addr),
            ("MIME-Version", "1.0"),
        ]
        self._head = _header_lines(shared)
        self._content_type = (
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"\r\n\r\n'
        ).encode()
        self._part_text = (
            f"--{self.boundary}\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        ).encode()
        self._part_html = (
            f"\r\n--{self.boundary}\r\nContent-Type: text/html; charset=\"utf-8\"\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        ).encode()
        self._close = f"\r\n--{self.boundary}--\r\n".encode()
        files = "".join(f"\n- {name}: {url}" for name, url in m.attachments)
        self._text_body = _qp(f"{REPLY_MARKER}\n\n{m.text.strip()}\n\n"
                              + (f"{files.strip()}\n\n" if files else ""))
        html = _SITE_LINK.sub(lambda match: f'{match[1]}="{m.base_url}/', m.html or "")
        self._html_head = _qp(render_template("email/list_post_body.html", post=m,
                                              body_html=markup.stored(html),
                                              marker=REPLY_MARKER).strip() + "\n")

    def _variant(self, language: str, can_post: bool) -> _Variant:
        key = (language, can_post)
        if key not in self._variants:
            context = {"post": self.mail, "can_post": can_post,
                       "board_name": self.mail.board_name_in(language),
                       "unsubscribe_url": _PLACEHOLDER.format("unsubscribe")}
            with force_locale(language or "en"):
                text = render_template("email/list_post_footer.txt", **context)
                html = render_template("email/list_post_footer.html", **context)
            self._variants[key] = _Variant(text.strip() + "\n", html.strip() + "\n")
        return self._variants[key]

    def copy_for(self, reader: Reader) -> bytes:
        """The bytes of one member's copy."""
        m = self.mail
        unsubscribe_url = (m.unsubscribe_base
                           + addresses.unsubscribe_token(reader.member_id, m.board_id))
        request_addr = addresses.request_address(m.board_slug)
        to = safe_header(reader.email)
        name = safe_header(reader.name)
        if name and (not name.isascii() or len(name) > 60 or '"' in name or "\\" in name):
            head = _header_lines([("To", str(Address(name, addr_spec=to)))])
        elif name:
            head = f'To: "{name}" <{to}>\r\n'.encode()
        else:
            head = f"To: <{to}>\r\n".encode()
        list_post = (f"<mailto:{addresses.list_address(m.board_slug)}>" if reader.can_post
                     else "NO")
        head += (f"List-Post: {list_post}\r\n"
                 f"List-Unsubscribe: <{unsubscribe_url}>,\r\n"
                 f" <mailto:{request_addr}?subject=unsubscribe>\r\n").encode()
        if reader.can_post:
            reply_to = addresses.reply_address(m.board_slug, m.post_id, reader.member_id)
            head += f"Reply-To: <{reply_to}>\r\n".encode()
        variant = self._variant(reader.language, reader.can_post)
        placeholder = _PLACEHOLDER.format("unsubscribe")
        text_footer = variant.text_footer.replace(placeholder, unsubscribe_url)
        html_footer = variant.html_footer.replace(placeholder, unsubscribe_url)
        return b"".join((
            self._head, head, self._content_type,
            self._part_text, self._text_body, _qp("-- \n" + text_footer),
            self._part_html, self._html_head, _qp(html_footer + "</body></html>\n"),
            self._close,
        ))


def simple_message(*, sender: str, to: str, subject: str, text: str, html: str | None,
                   headers: list[tuple[str, str]]) -> EmailMessage:
    """A one-off message (a digest, a probe): built with the email package."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = safe_header(sender)
    msg["To"] = safe_header(to)
    msg["Subject"] = safe_header(subject)
    for name, value in headers:
        msg[name] = safe_header(value)
    msg.set_content(text, cte="quoted-printable")
    if html is not None:
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg
