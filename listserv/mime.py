"""Reading what arrives: MIME structure, charsets and headers of inbound mail.

Mail from the field is often wrong about itself, so every decoding step falls back:
the declared charset, then UTF-8, then Windows-1252 (which decodes any byte). HTML-only
mail becomes Markdown (`listserv.htmltext`); format=flowed text is unwrapped; the parts
that are not the body become attachments. Structural defects that leave no trustworthy
body are reported so the pipeline can quarantine the message. Imports only the standard
library and `listserv.htmltext`.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from email import errors as email_errors
from email import message_from_bytes, policy
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses

from listserv.htmltext import html_to_markdown

# Defects after which the parser's idea of the body cannot be trusted.
FATAL_DEFECTS: dict[type, str] = {
    email_errors.NoBoundaryInMultipartDefect: "a multipart message without a boundary",
    email_errors.StartBoundaryNotFoundDefect: "the MIME boundary never appears",
    email_errors.MultipartInvariantViolationDefect: "a multipart message with no parts",
}
_SKIPPED_TYPES = {"application/pgp-signature", "application/pkcs7-signature",
                  "application/x-pkcs7-signature"}


def parse(raw: bytes) -> Message:
    """compat32 keeps raw 8-bit headers recoverable (policy.default replaces them)."""
    return message_from_bytes(raw, policy=policy.compat32)


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """The declared charset, then UTF-8, then Windows-1252: the order mail needs."""
    if declared:
        name = declared.strip().strip('"').lower()
        try:
            codecs.lookup(name)
        except LookupError:
            name = ""
        if name and name not in {"us-ascii", "ascii", "unknown-8bit"}:
            try:
                return data.decode(name)
            except (UnicodeDecodeError, LookupError):
                pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def header_text(msg: Message, name: str) -> str:
    """A header's value as text: RFC 2047 words and raw 8-bit bytes both decoded."""
    value = msg.get(name)
    if value is None:
        return ""
    return _decode_header_value(value)


def _decode_header_value(value: object) -> str:
    try:
        chunks = decode_header(value)  # type: ignore[arg-type]
    except Exception:  # a malformed encoded word: keep what is there
        return " ".join(str(value).split())
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        text = decode_bytes(chunk, None if charset == "unknown-8bit" else charset)
        if charset == "unknown-8bit" and "=?" in text:
            text = _decode_header_value(text)
        out.append(text)
    joined = "".join(out)
    # Encoded words separated by whitespace join without it; folding leaves runs of it.
    return " ".join(joined.split())


def addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address header, addresses lower-cased."""
    values = [header_text(msg, name)] if msg.get(name) is not None else []
    pairs = []
    for display, addr in getaddresses(values):
        if "@" in addr:
            pairs.append((display, addr.strip().lower()))
    return pairs


def message_ids(value: str) -> list[str]:
    """The `<...>` ids in In-Reply-To / References, in order."""
    return re.findall(r"<[^<>\s]+>", value or "")


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Body:
    text: str = ""
    from_html: bool = False
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # fatal defects, for people


def _boundaryless(part: Message) -> bool:
    """A multipart part without a boundary: its body is plain text, read as such."""
    return part.get_content_maintype() == "multipart" and not part.is_multipart() and any(
        isinstance(d, email_errors.NoBoundaryInMultipartDefect)
        for d in getattr(part, "defects", []))


def fatal_problems(msg: Message) -> list[str]:
    found: list[str] = []
    for part in msg.walk():
        if _boundaryless(part):
            continue
        for defect in getattr(part, "defects", []):
            for cls, words in FATAL_DEFECTS.items():
                if isinstance(defect, cls) and words not in found:
                    found.append(words)
    return found


def extract(msg: Message) -> Body:
    """The body text (Markdown when it came from HTML) and the attachments."""
    body = Body(problems=fatal_problems(msg))
    texts: list[str] = []
    _collect(msg, texts, body)
    body.text = "\n\n".join(t.strip("\n") for t in texts if t.strip()).strip("\n")
    return body


def _payload_text(part: Message) -> str:
    data = part.get_payload(decode=True)
    if data is None:
        payload = part.get_payload()
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    text = decode_bytes(data, part.get_content_charset())
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _is_attachment(part: Message) -> bool:
    return part.get_content_disposition() == "attachment" or (
        part.get_filename() is not None and part.get_content_disposition() != "inline"
    )


def _choose_alternative(children: list[Message]) -> Message | None:
    """Plain text when there is some, else HTML, else whatever nests one of them."""
    def has(part: Message, ctype: str) -> bool:
        return any(p.get_content_type() == ctype for p in part.walk())

    for ctype in ("text/plain", "text/html"):
        for child in children:
            if child.get_content_type() == ctype and _payload_text(child).strip():
                return child
        for child in children:
            if child.is_multipart() and has(child, ctype):
                return child
    return children[0] if children else None


def _collect(part: Message, texts: list[str], body: Body) -> None:
    ctype = part.get_content_type()
    if part.is_multipart():
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        if ctype == "multipart/alternative":
            chosen = _choose_alternative(children)
            if chosen is not None:
                _collect(chosen, texts, body)
            return
        if ctype in {"multipart/related", "multipart/signed"} and children:
            _collect(children[0], texts, body)
            for child in children[1:]:
                if ctype == "multipart/related" and _is_attachment(child):
                    _collect(child, texts, body)
            return
        for child in children:
            _collect(child, texts, body)
        return
    if ctype in _SKIPPED_TYPES:
        return
    if ctype in {"text/plain", "text/html"} and not _is_attachment(part):
        text = _payload_text(part)
        if ctype == "text/html":
            texts.append(html_to_markdown(text))
            body.from_html = True
        else:
            params = {k.lower(): v.lower() for k, v in part.get_params() or [] if v}
            if params.get("format") == "flowed":
                text = unflow(text, delsp=params.get("delsp") == "yes")
            texts.append(text)
        return
    if _boundaryless(part):
        texts.append(_payload_text(part))
        return
    if ctype.startswith("multipart/"):
        return  # a broken multipart leaf: reported through fatal_problems
    data = part.get_payload(decode=True)
    if ctype == "message/rfc822":
        inner = part.get_payload()
        data = inner[0].as_bytes() if isinstance(inner, list) and inner else (data or b"")
    if not data:
        return
    filename = attachment_name(part) or _default_name(ctype)
    body.attachments.append(Attachment(filename=filename, content_type=ctype, data=data))


def attachment_name(part: Message) -> str:
    """The file name: RFC 2231 (`filename*=`, continuations; decoded by the parser),
    RFC 2047 words (common, though not allowed there), or raw 8-bit bytes (UTF-8 or,
    failing that, Windows-1252) that compat32 carries as surrogate escapes."""
    name = part.get_filename() or ""
    if "\ufffd" in name:  # 8-bit bytes: read them from the raw header instead
        for key, value in part._headers:  # compat32 keeps them as surrogate escapes
            if key.lower() not in {"content-disposition", "content-type"}:
                continue
            found = _RAW_NAME.search(str(value))
            if found:
                raw = found.group(1) or found.group(2) or ""
                name = decode_bytes(raw.encode("ascii", "surrogateescape"))
                break
    return _decode_header_value(name)


_RAW_NAME = re.compile(r"""(?:file)?name\s*=\s*(?:"([^"]*)"|([^\s;]+))""", re.I)


def _default_name(ctype: str) -> str:
    ext = {"message/rfc822": "eml", "text/plain": "txt", "text/html": "html",
           "image/png": "png", "image/jpeg": "jpg", "application/pdf": "pdf"}
    return f"attachment.{ext.get(ctype, 'bin')}"


def unflow(text: str, delsp: bool = False) -> str:
    """RFC 3676: lines ending in a space continue on the next line of the same depth."""
    out: list[str] = []
    carry: str | None = None
    carry_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        if carry is not None and depth != carry_depth:
            out.append(">" * carry_depth + (" " if carry_depth else "") + carry)
            carry = None
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        carry = content if carry is None else carry + content
        carry_depth = depth
        if not flowed:
            out.append(">" * depth + (" " if depth and carry else "") + carry)
            carry = None
    if carry is not None:
        out.append(">" * carry_depth + (" " if carry_depth else "") + carry)
    return "\n".join(out)
