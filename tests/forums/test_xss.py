"""Hostile text in titles, posts, names and file names is neutralised on every page
and in the API."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from forums import attachments, services

PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<svg/onload=alert(1)>",
    '"><iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
]


class _Audit(HTMLParser):
    """Collects what a browser would execute: handlers, scripts, frames, js: links."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"iframe", "svg", "style", "object", "embed"}:
            self.problems.append(tag)
        if tag == "script" and not (dict(attrs).get("src") or "").startswith("/"):
            self.problems.append("inline script")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}")
            if name in {"href", "src"} and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.problems.append(f"{tag} {name}={value}")


def _assert_clean(html: str) -> None:
    audit = _Audit()
    audit.feed(html)
    assert audit.problems == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_titles_and_posts_are_neutralised(client, auth, cast, make_member,
                                                      token_for, payload):
    author = make_member(name=f"Mallory {payload}")
    auth.login(author)
    client.post("/forums/open-board/new", data={"title": f"Title {payload}",
                                                "body": f"Body {payload}"})
    post = services.create_topic(author, cast.public, f"T {payload}", f"B {payload}",
                                 attachments=[attachments.Upload(f"{payload}.txt", "text/plain",
                                                              b"x")])
    services.create_reply(cast.member, post.topic, f"> {payload}\n\n{payload}", parent=post)
    pages = ["/forums/open-board", f"/forums/topics/{post.topic_id}",
             f"/forums/topics/{post.topic_id}?view=flat", "/forums/", "/",
             f"/forums/topics/{post.topic_id}/reply?parent={post.id}&quote=1"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_clean(response.get_data(as_text=True))
    data = client.get(f"/api/v1/topics/{post.topic_id}/posts",
                      headers=token_for(cast.member)).get_json()
    for item in data["items"]:
        _assert_clean(item["html"])
    assert data["items"][0]["body"].endswith(payload)  # the source is kept as written


def test_the_stored_html_is_what_pages_show(cast):
    post = services.create_topic(cast.member, cast.public, "T", "<b onclick=x>hi</b>")
    assert post.html == "<p><b>hi</b></p>"


def test_the_audit_would_see_an_attack():
    audit = _Audit()
    audit.feed('<img src=x onerror="alert(1)"><a href=" javascript:x">a</a><script>1</script>')
    assert audit.problems == ["img onerror", "a href= javascript:x", "inline script"]
