"""The only place where member-written Markdown becomes HTML.

Markdown first, then bleach with an allow-list; links get `rel="nofollow ugc noopener"`.
Callers store the result at write time: pages never render Markdown per view.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from functools import partial

import bleach
import markdown as md
from bleach.css_sanitizer import CSSSanitizer
from bleach.linkifier import LinkifyFilter
from markupsafe import Markup, escape

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4",
        "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup",
        "table", "tbody", "td", "th", "thead", "tr", "ul", "span", "div",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel", "class"],
    "abbr": ["title"],
    "img": ["src", "alt", "title", "width", "height"],
    "td": ["align"],
    "th": ["align"],
    "span": ["class"],
    "div": ["class"],
    "code": ["class"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
_REL = "nofollow ugc noopener"
_css = CSSSanitizer(allowed_css_properties=[])

# Hooks other packages register (mentions, record references): text -> text, run on the
# Markdown source before conversion. Kept here so every path renders the same way.
_preprocessors: list[Callable[[str], str]] = []


def register_preprocessor(fn: Callable[[str], str]) -> None:
    if fn not in _preprocessors:
        _preprocessors.append(fn)


def _set_rel(attrs: dict, new: bool = False) -> dict:
    href = attrs.get((None, "href"), "")
    if href.startswith("#") or href.startswith("/"):
        return attrs
    attrs[(None, "rel")] = _REL
    return attrs


_per_thread = threading.local()


def _own(name: str, make: Callable[[], bleach.Cleaner]) -> bleach.Cleaner:
    """This thread's cleaner `name`. A Cleaner keeps its HTML parser's state on itself
    (bleach: "not thread-safe"): one shared by the server's threads mixed their posts, one
    member's text stored inside another's post or a post stored empty."""
    cleaner = getattr(_per_thread, name, None)
    if cleaner is None:
        cleaner = make()
        setattr(_per_thread, name, cleaner)
    return cleaner


def _cleaner() -> bleach.Cleaner:
    # Linkify inside the cleaning pass: a separate Linker pass double-escapes code blocks.
    return _own("html", lambda: bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        css_sanitizer=_css,
        strip=True,
        strip_comments=True,
        filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"},
                         parse_email=False)],
    ))


_blank_lines = re.compile(r"\n{3,}")


def render(source: str) -> str:
    """Markdown source -> sanitized HTML string, ready to store."""
    text = source or ""
    for fn in _preprocessors:
        text = fn(text)
    html = md.markdown(
        text,
        extensions=["fenced_code", "tables", "sane_lists", "nl2br"],
        output_format="html",
    )
    return _cleaner().clean(html)


def render_plain(text: str) -> Markup:
    """Plain text (a bio, a description) -> escaped HTML paragraphs with safe links."""
    escaped = str(escape(_blank_lines.sub("\n\n", text or "").strip()))
    paragraphs = [p.replace("\n", "<br>") for p in escaped.split("\n\n") if p]
    return Markup(_cleaner().clean("".join(f"<p>{p}</p>" for p in paragraphs)))


_URL = re.compile(r"https?://[^\s<>\"']+")


def linked_text(text: str) -> Markup:
    """Preformatted plain text (a mail in the dev mailbox) escaped, every http(s)
    address a link (any host: the hub's own is often 127.0.0.1); line breaks stay."""
    text = text or ""
    out: list[Markup] = []
    last = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?)»")
        out.append(escape(text[last:match.start()]))
        out.append(Markup('<a href="{0}" rel="{1}">{0}</a>').format(url, _REL))
        last = match.start() + len(url)
    out.append(escape(text[last:]))
    return Markup("").join(out)


def stored(html: str | None) -> Markup:
    """Mark HTML produced by `render` (and stored) as safe for templates."""
    return Markup(html or "")


def to_text(html: str) -> str:
    """Stored HTML -> plain text, for snippets and email text parts."""
    return _own("text", lambda: bleach.Cleaner(tags=set(), strip=True)).clean(html or "")
