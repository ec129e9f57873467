"""HTML mail to Markdown text, for members whose mail client sends only HTML.

The result is Markdown *source*: it goes through the one posting path, where
`hub.markup.render` sanitizes it like any other post. Layout is kept where it carries
meaning (paragraphs, line breaks, lists, quotes, links, emphasis, code); everything else
(styles, scripts, hidden pre-headers, images without words) is dropped. Quoted history is
kept as `> ` lines so the reply trimmer can cut it. Imports only the standard library.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_VOID = {"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source",
         "embed", "param", "track"}
_SKIP = {"head", "style", "script", "title", "template", "noscript", "svg", "object"}
_BLOCK = {"div", "section", "article", "header", "footer", "main", "nav", "aside", "center",
          "address", "figure", "figcaption", "form", "fieldset", "dl", "dt", "dd", "font_block"}
_PARAGRAPH = {"p"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Tags whose start implicitly closes an open <p> (HTML's optional end tags).
_CLOSES_P = {"p", "div", "ul", "ol", "table", "blockquote", "pre", "h1", "h2", "h3", "h4",
             "h5", "h6", "hr", "section", "article", "header", "footer"}
_HIDDEN = re.compile(r"display\s*:\s*none", re.I)
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_ESCAPE = re.compile(r"([\\`*_\[\]])")
# "<" that could open a tag; addresses and links in angle brackets stay Markdown autolinks.
_TAGLIKE = re.compile(r"<(?=[A-Za-z/!?])(?![^<>\s]+@[^<>\s]+>)(?!https?://)")


class _Node:
    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag: str, attrs: dict[str, str], parent: _Node | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[_Node | str] = []
        self.parent = parent


class _TreeBuilder(HTMLParser):
    """A forgiving DOM: unclosed tags close with their ancestors, stray end tags are
    ignored, <p> and <li> close the way browsers close them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("root", {}, None)
        self.current = self.root

    def _close_until(self, tag: str) -> None:
        node: _Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def _open(self, tag: str) -> _Node | None:
        node: _Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        return node

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _CLOSES_P and self._open("p") is not None:
            self._close_until("p")
        if tag == "li" and self.current.tag == "li":
            self._close_until("li")
        if tag in {"td", "th"} and self.current.tag in {"td", "th"}:
            self._close_until(self.current.tag)
        if tag == "tr" and self._open("tr") is not None and self._open("table") is not None:
            self._close_until("tr")
        node = _Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in _VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(_Node(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self._open(tag) is not None:
            self._close_until(tag)

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


class _Writer:
    """An output buffer that knows whether it is at the start of a line."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.tail = ""  # the last two characters written

    def _push(self, text: str) -> None:
        if text:
            self.parts.append(text)
            self.tail = (self.tail + text)[-2:]

    def at_line_start(self) -> bool:
        return not self.parts or self.tail.endswith("\n")

    def text(self, text: str) -> None:
        if self.at_line_start():
            text = text.lstrip(" ")
        elif self.tail.endswith(" ") and text.startswith(" "):
            text = text[1:]
        self._push(text)

    def raw(self, text: str) -> None:
        self._push(text)

    def newline(self) -> None:
        self._push("\n")

    def line_start(self) -> None:
        if not self.at_line_start():
            self._push("\n")

    def blank_line(self) -> None:
        self.line_start()
        if self.parts and not self.tail.endswith("\n\n"):
            self._push("\n")

    def value(self) -> str:
        return "".join(self.parts)


def _escape(text: str) -> str:
    return _TAGLIKE.sub("&lt;", _ESCAPE.sub(r"\\\1", text))


def _hidden(node: _Node) -> bool:
    return node.tag in _SKIP or bool(_HIDDEN.search(node.attrs.get("style", "")))


def _inline(node: _Node) -> str:
    sub = _Writer()
    for child in node.children:
        _render(child, sub)
    return " ".join(sub.value().split(" ")).strip()


def _render_children(node: _Node, out: _Writer) -> None:
    for child in node.children:
        _render(child, out)


def _render(node: _Node | str, out: _Writer, pre: bool = False) -> None:
    if isinstance(node, str):
        if pre:
            out.raw(node)
        else:
            out.text(_escape(_SPACES.sub(" ", node)))
        return
    if _hidden(node):
        return
    tag = node.tag
    if tag == "br":
        out.newline()
    elif tag == "hr":
        out.blank_line()
        out.raw("---")
        out.blank_line()
    elif tag == "img":
        alt = _SPACES.sub(" ", node.attrs.get("alt", "")).strip()
        if alt:
            out.text(_escape(alt))
    elif tag in {"b", "strong"}:
        _wrap(node, out, "**")
    elif tag in {"i", "em", "cite"}:
        _wrap(node, out, "*")
    elif tag in {"s", "strike", "del"}:
        _wrap(node, out, "~~")
    elif tag == "code" and (node.parent is None or node.parent.tag != "pre"):
        inner = "".join(_plain(node))
        if inner.strip():
            out.text(f"`{inner.strip()}`")
    elif tag == "a":
        _link(node, out)
    elif tag == "pre":
        out.blank_line()
        out.raw("```\n" + "".join(_plain(node)).strip("\n") + "\n```")
        out.blank_line()
    elif tag in _HEADINGS:
        out.blank_line()
        text = _inline(node)
        if text:
            out.raw("#" * _HEADINGS[tag] + " " + text)
        out.blank_line()
    elif tag == "blockquote":
        sub = _Writer()
        _render_children(node, sub)
        lines = _tidy(sub.value()).split("\n")
        out.line_start()
        out.raw("\n".join(("> " + line).rstrip() for line in lines))
        out.newline()
    elif tag in {"ul", "ol"}:
        nested = node.parent is not None and node.parent.tag == "li"
        out.line_start() if nested else out.blank_line()
        number = 1
        for child in node.children:
            if isinstance(child, _Node) and child.tag == "li":
                marker = f"{number}. " if tag == "ol" else "- "
                _list_item(child, out, marker)
                number += 1
            elif isinstance(child, _Node):
                _render(child, out)
        out.line_start() if nested else out.blank_line()
    elif tag == "li":
        _list_item(node, out, "- ")
    elif tag == "tr":
        out.line_start()
        cells = [_inline(c) for c in node.children if isinstance(c, _Node)
                 and c.tag in {"td", "th"}]
        out.raw(" | ".join(c for c in cells if c))
        out.line_start()
    elif tag in {"table", "tbody", "thead", "tfoot"}:
        out.line_start()
        _render_children(node, out)
        out.line_start()
    elif tag in _PARAGRAPH:
        out.blank_line()
        _render_children(node, out)
        out.blank_line()
    elif tag in _BLOCK:
        out.line_start()
        _render_children(node, out)
        out.line_start()
    else:  # span, font, u, small, html, body, unknown tags: their content only
        _render_children(node, out)


def _wrap(node: _Node, out: _Writer, mark: str) -> None:
    inner = _inline(node)
    if not inner:
        return
    lead = " " if node.children and isinstance(node.children[0], str) and \
        node.children[0][:1].isspace() else ""
    out.text(f"{lead}{mark}{inner}{mark}")


def _link(node: _Node, out: _Writer) -> None:
    href = node.attrs.get("href", "").strip()
    text = _inline(node)
    if not href or href.lower().startswith(("javascript:", "data:", "vbscript:")):
        if text:
            out.text(text)
        return
    plain_href = href[7:] if href.lower().startswith("mailto:") else href
    if not text or text.replace("\\", "") in {href, plain_href}:
        out.text(plain_href)
    else:
        out.text(f"[{text}]({href.replace(' ', '%20').replace(')', '%29')})")


def _list_item(node: _Node, out: _Writer, marker: str) -> None:
    sub = _Writer()
    _render_children(node, sub)
    lines = _tidy(sub.value()).split("\n")
    out.line_start()
    indent = " " * len(marker)
    out.raw(marker + lines[0] + "".join("\n" + (indent + line if line else "")
                                        for line in lines[1:]))
    out.newline()


def _plain(node: _Node) -> list[str]:
    """Text of a subtree exactly as written (for <pre> and <code>)."""
    out: list[str] = []
    for child in node.children:
        if isinstance(child, str):
            out.append(child)
        elif child.tag == "br":
            out.append("\n")
        elif not _hidden(child):
            out.extend(_plain(child))
    return out


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def html_to_markdown(html: str) -> str:
    """An HTML document or fragment as Markdown source."""
    builder = _TreeBuilder()
    try:
        builder.feed(html or "")
        builder.close()
    except Exception:  # html.parser is forgiving; this is for truly broken input
        return _tidy(_SPACES.sub(" ", re.sub(r"<[^>]*>", " ", html or "")))
    out = _Writer()
    _render_children(builder.root, out)
    return _tidy(out.value())
