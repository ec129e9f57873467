"""Full-text search over topics and posts: the index, the query and the snippets.

The index is never `LIKE '%x%'`: a table `forum_post_fts` keyed by the post id, on SQLite
an FTS5 table (porter stemming, accents removed; rowid = post id), on PostgreSQL
`(post_id, search_vector)`, the vector (tsvector: the topic's title, weight A, on its
first post; the text, weight B) with a GIN index. Made by migrations 0006_forums_search
and 0018_forums_search_table; the text is folded by `hub.fulltext`, whose query language
(words, "phrases", OR, -word) the registry shares.

The index holds text only. Who may see a hit is decided when searching: only posts on
boards the searcher may read (`hub.access`), published and not deleted, in published
topics that are not deleted; so moving a topic, closing a board or changing a group
needs no reindexing. The index follows the posting service's events after commit
(create, approve, edit, delete, reject); `hub forums reindex` rebuilds it.

Results are the newest matches first, cut by post id (`before`): on SQLite FTS5 itself
walks its matches newest first; on PostgreSQL common words and phrases are found by
walking the narrow index table newest first (bounded), rarer ones through the GIN index
(see `_pg_matching_ids`). Nothing counts every match: the pages go on by `before`.

Imports `hub` and `forums`.
"""

from __future__ import annotations

import html as html_lib
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from flask import Flask
from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import Connection, column, func, select, table, text, true, union_all
from sqlalchemy.orm import joinedload

from forums import services
from forums.models import Board, Post, Topic
from hub import aftercommit, events, fulltext, inputs
from hub.errors import Invalid, NotFound
from hub.extensions import db
from hub.models import Member

log = logging.getLogger(__name__)

MAX_LIMIT = 50
SNIPPET_CHARS = 240
# PostgreSQL: words the planner expects often enough to fill a page twice in the newest
# WALK_POSTS post ids are looked for by walking them (and the GIN index before them).
WALK_POSTS = 10_000
SCAN_CHARS = 20_000  # matches further into a long post are not looked for in snippets


# -- what a post is found by -----------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")


def plain_text(html: str) -> str:
    """The text of stored HTML (sanitized at write time, so well formed): what is indexed
    and what snippets are cut from. Never shown as HTML: snippets escape it."""
    return " ".join(html_lib.unescape(_TAG.sub(" ", html or "")).split())


def index_text(title: str, html: str, filenames: Iterable[str] = ()) -> tuple[str, str]:
    """(title, body) as folded plain text: the stored HTML without its tags, and the
    names of attached files."""
    body = " ".join([plain_text(html), *filenames])
    return fulltext.fold(title or ""), fulltext.fold(body)


def _dialect(conn: Connection) -> str:
    return conn.dialect.name


def write_index(conn: Connection, rows: Sequence[tuple[int, str, str]]) -> None:
    """(post id, folded title, folded body) into the index, replacing what was there."""
    if not rows:
        return
    if _dialect(conn) == "postgresql":
        conn.execute(
            text("INSERT INTO forum_post_fts (post_id, search_vector) VALUES (:id, "
                 f"setweight(to_tsvector('{fulltext.PG_CONFIG}', :title), 'A') || "
                 f"setweight(to_tsvector('{fulltext.PG_CONFIG}', :body), 'B')) "
                 "ON CONFLICT (post_id) DO UPDATE SET search_vector = excluded.search_vector"),
            [{"id": i, "title": t, "body": b} for i, t, b in rows])
    else:
        conn.execute(text("DELETE FROM forum_post_fts WHERE rowid = :id"),
                     [{"id": i} for i, _t, _b in rows])
        conn.execute(text("INSERT INTO forum_post_fts (rowid, title, body) "
                          "VALUES (:id, :title, :body)"),
                     [{"id": i, "title": t, "body": b} for i, t, b in rows])


def drop_index(conn: Connection, post_ids: Sequence[int]) -> None:
    if post_ids:
        key = "post_id" if _dialect(conn) == "postgresql" else "rowid"
        conn.execute(text(f"DELETE FROM forum_post_fts WHERE {key} = :id"),
                     [{"id": i} for i in post_ids])


def _index_row(p: Post) -> tuple[int, str, str]:
    return (p.id, *index_text(p.topic.title if p.position == 1 else "", p.html,
                              [a.filename for a in p.attachments]))


def _rows_for(post_ids: Sequence[int]) -> list[tuple[int, str, str]]:
    posts = db.session.scalars(
        select(Post).where(Post.id.in_(post_ids))
        .options(joinedload(Post.topic), joinedload(Post.attachments))).unique()
    return [_index_row(p) for p in posts]


def reindex_posts(post_ids: Sequence[int]) -> None:
    """Index these posts now, in a transaction of their own (after the post's commit)."""
    rows = _rows_for(post_ids)
    aftercommit.write(lambda conn: write_index(conn, rows))


def unindex_posts(post_ids: Sequence[int]) -> None:
    aftercommit.write(lambda conn: drop_index(conn, post_ids))


def rebuild(batch: int = 2000) -> int:
    """Index every post again (after a restore, or a crash between a commit and its
    indexing), in one transaction on the session's connection. Returns the number of
    posts indexed."""
    db.session.execute(text("DELETE FROM forum_post_fts"))
    done, last = 0, 0
    while True:
        ids = list(db.session.scalars(
            select(Post.id).where(Post.id > last, Post.deleted_at.is_(None))
            .order_by(Post.id).limit(batch)))
        if not ids:
            db.session.commit()
            return done
        write_index(db.session.connection(), _rows_for(ids))
        db.session.expunge_all()
        done += len(ids)
        last = ids[-1]


# Listeners of hub.events (after commit). An index that fails to follow must not fail the
# post; `hub forums reindex` repairs it.

def _guarded(fn: Any, post_ids: list[int]) -> None:
    try:
        fn(post_ids)
    except Exception:
        log.exception("search index: could not update posts %s", post_ids)


def on_post_pending(sender: Flask, event: events.PostEvent, **_kw: Any) -> None:
    """Inside the post's transaction: the post is committed with its index. The post is
    the session's own (no statement to find it again)."""
    post = db.session.get(Post, event.post_id)
    if post is not None:
        write_index(db.session.connection(), [_index_row(post)])
    aftercommit.mark("search", event.post_id)


def on_post_changed(sender: Flask, event: events.PostEvent, **_kw: Any) -> None:
    if not aftercommit.done("search", event.post_id):
        _guarded(reindex_posts, [event.post_id])


def on_post_removed(sender: Flask, event: events.PostEvent, **_kw: Any) -> None:
    _guarded(unindex_posts, [event.post_id])


def on_topic_changed(sender: Flask, event: events.TopicEvent, **_kw: Any) -> None:
    if event.action == "rename":  # the title lives with the first post
        first = db.session.scalar(select(Post.id).where(Post.topic_id == event.topic_id,
                                                        Post.position == 1))
        if first is not None:
            _guarded(reindex_posts, [first])


# -- searching -------------------------------------------------------------------------------

@dataclass
class Filters:
    q: str = ""
    board: Board | None = None
    author: Member | None = None
    date_from: date | None = None
    date_to: date | None = None
    before: int | None = None  # a post id: results older than it (the next page)

    @property
    def query(self) -> fulltext.TextQuery:
        return fulltext.parse_query(self.q)


@dataclass
class Hit:
    post: Post
    topic: Topic
    board: Board
    title: Markup
    snippet: Markup


def _day_start(day: date) -> datetime:
    """Midnight of a day in the reader's zone, for the date filters."""
    return datetime.combine(day, time.min, tzinfo=get_timezone())


def _visible(board_ids: list[int], f: Filters) -> list[Any]:
    conds = [Topic.board_id.in_(board_ids), Topic.status == "published",
             Topic.deleted_at.is_(None), Post.status == "published",
             Post.deleted_at.is_(None)]
    if f.author is not None:
        conds.append(Post.author_id == f.author.id)
    if f.date_from is not None:
        conds.append(Post.created_at >= _day_start(f.date_from))
    if f.date_to is not None:
        conds.append(Post.created_at < _day_start(f.date_to + timedelta(days=1)))
    if f.before is not None:
        conds.append(Post.id < f.before)
    return conds


_FTS = table("forum_post_fts", column("rowid"), column("title"), column("body"))
_PG_FTS = table("forum_post_fts", column("post_id"), column("search_vector"))


def matching_ids(board_ids: list[int], f: Filters, limit: int) -> list[int]:
    """The ids of the newest `limit` visible posts that match, newest first."""
    query = f.query
    if not query.groups or not board_ids:
        return []
    if db.engine.dialect.name == "postgresql":
        return _pg_matching_ids(board_ids, f, limit)
    # FTS5 walks its matches by rowid (the post id) newest first and stops at `limit`.
    stmt = (select(Post.id).select_from(_FTS)
            .join(Post, Post.id == _FTS.c.rowid).join(Topic, Topic.id == Post.topic_id)
            .where(text("forum_post_fts MATCH :match").bindparams(
                match=fulltext.fts5_expression(query)), *_visible(board_ids, f))
            .order_by(_FTS.c.rowid.desc()).limit(limit))
    return list(db.session.scalars(stmt))


def _pg_matching_ids(board_ids: list[int], f: Filters, limit: int) -> list[int]:
    """Newest matches first on PostgreSQL.

    Words the planner expects often enough to fill the page twice within the newest
    WALK_POSTS ids (its statistics of the indexed words; a phrase counts as all of its
    words, more often than it is): the narrow index table is walked backwards by post
    id, each vector tested, until `limit` visible matches are found or WALK_POSTS ids
    are passed. That reads limit / density rows of about 0.9 kB, however many posts
    there are. Matches before the window, if still needed, come from the GIN index.
    Rarer words: every match from the GIN index in a MATERIALIZED CTE (else the planner
    may walk every post newest first and test each one), then the newest of them that
    are visible; the work grows with the matches, which are few. The worst case is a
    phrase of common words rarely side by side: GIN has no positions, so every post
    holding all of them before the window is read to check their order.
    """
    # For the rest of this read-only transaction: generic plans of prepared statements
    # know neither the words nor the boards, so each search is planned for its own; and
    # no JIT compiling, which costs more than these statements take.
    db.session.execute(text("SELECT set_config('plan_cache_mode', 'force_custom_plan', "
                            "true), set_config('jit', 'off', true)"))
    match = _PG_FTS.c.search_vector.op("@@")(fulltext.pg_expression(f.query))
    ids: list[int] = []
    below = f.before
    matches, rows = _pg_estimate(match)
    if matches * WALK_POSTS >= 2 * limit * rows:  # the window should hold the page
        # From the newest post the window's floor is a subquery of the walk itself (one
        # round trip fewer than asking for the newest id first).
        top = below if below is not None else 1 + func.coalesce(
            select(func.max(_PG_FTS.c.post_id)).scalar_subquery(), 0)
        below = top - WALK_POSTS
        walk = _pg_hits(board_ids, f, [match, _PG_FTS.c.post_id >= below])
        ids = list(db.session.scalars(walk.order_by(_PG_FTS.c.post_id.desc()).limit(limit)))
        if len(ids) == limit or (f.before is not None and below <= 0):
            return ids
    # The matches from the GIN index (narrow rows) newest first, each then checked for
    # its post and topic (LATERAL: one by one, stopping at `limit`; a plain join lets
    # the planner merge the few hits with a backward walk of every post, 440 ms for 33
    # hits in 100,000 posts).
    rest = [_PG_FTS.c.post_id < below] if below is not None else []
    hits = (select(_PG_FTS.c.post_id).where(match, *rest)
            .cte("hits").prefix_with("MATERIALIZED"))
    newest = select(hits.c.post_id).order_by(hits.c.post_id.desc()).subquery("newest")
    seen = (select(Post.id).join(Topic, Topic.id == Post.topic_id)
            .where(Post.id == newest.c.post_id, *_visible(board_ids, f)).lateral("seen"))
    stmt = (select(seen.c.id).select_from(newest.join(seen, true()))
            .order_by(newest.c.post_id.desc()).limit(limit - len(ids)))
    return ids + list(db.session.scalars(stmt))


def _pg_hits(board_ids: list[int], f: Filters, conds: list[Any]) -> Any:
    """The visible posts among the index rows that meet `conds`."""
    return (select(_PG_FTS.c.post_id).join(Post, Post.id == _PG_FTS.c.post_id)
            .join(Topic, Topic.id == Post.topic_id).where(*conds, *_visible(board_ids, f)))


def _pg_estimate(condition: Any) -> tuple[float, float]:
    """How many index rows the planner expects to match, and how many there are
    (planning only, nothing is read)."""
    stmt = union_all(select(_PG_FTS.c.post_id).where(condition),
                     select(_PG_FTS.c.post_id)).compile(
        dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True})
    plan = db.session.connection().exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + str(stmt), stmt.params).scalar()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    matching, every = plan[0]["Plan"]["Plans"]
    return float(matching["Plan Rows"]), float(every["Plan Rows"])


def search(viewer: Any, f: Filters, limit: int = 20) -> tuple[list[Hit], int | None]:
    """A page of hits for `viewer` (newest first) and the `before` of the next page."""
    if not f.query.groups:
        raise Invalid(str(_l("Type at least one word to look for.")), fields={"q": "required"})
    limit = max(1, min(limit, MAX_LIMIT))
    boards = {b.id: b for b in services.readable_boards(viewer, kind=None)}
    if f.board is not None:
        if f.board.id not in boards:
            raise NotFound(str(_l("No such board.")))
        boards = {f.board.id: f.board}
    ids = matching_ids(list(boards), f, limit + 1)
    more = len(ids) > limit
    ids = ids[:limit]
    # One statement (attachments joined, not selected after: one round trip fewer).
    posts = {p.id: p for p in db.session.scalars(
        select(Post).where(Post.id.in_(ids)).options(
            joinedload(Post.author), joinedload(Post.topic),
            joinedload(Post.attachments))).unique()} if ids else {}
    terms = f.query.terms
    hits = []
    for post_id in ids:
        post = posts.get(post_id)
        if post is None:
            continue
        topic = post.topic
        hits.append(Hit(post=post, topic=topic, board=boards[topic.board_id],
                        title=highlight(topic.title, terms),
                        snippet=snippet(plain_text(post.html), terms)))
    return hits, (ids[-1] if more else None)


def parse_filters(viewer: Any, args: Any) -> tuple[Filters, dict[str, str]]:
    """Filters from a query string (the page and the API read the same arguments): `q`,
    `board` (slug), `author` (member id, or name or @handle), `from` and `to`
    (YYYY-MM-DD), `before` (from the next page's link). Returns the filters and the
    problems found, by argument."""
    errors: dict[str, str] = {}
    f = Filters(q=(args.get("q") or "").strip()[:300])
    slug = (args.get("board") or "").strip()
    if slug:
        readable = {b.slug: b for b in services.readable_boards(viewer, kind=None)}
        f.board = readable.get(slug)
        if f.board is None:
            errors["board"] = str(_l("No such board."))
    author = (args.get("author") or "").strip()
    if author:
        f.author = find_author(author)
        if f.author is None:
            errors["author"] = str(_l("No member has that name."))
    for name in ("from", "to"):
        raw = (args.get(name) or "").strip()
        if raw:
            try:
                setattr(f, "date_" + name, date.fromisoformat(raw))
            except ValueError:
                errors[name] = str(_l("A date is written YYYY-MM-DD."))
    before = (args.get("before") or "").strip()
    if before:
        if inputs.is_id(before):
            f.before = int(before)
        else:
            errors["before"] = str(_l("'before' is a post id."))
    return f, errors


def find_author(value: str) -> Member | None:
    """A member by id, by @handle or by exact name (the handle of `Lucía Fernández` is
    `lucia.fernandez`); None when nobody or several match."""
    from forums import mentions
    from hub.models import MemberStatus

    if inputs.is_id(value):
        member = db.session.get(Member, int(value))
        return member if member is not None and member.status == MemberStatus.ACTIVE else None
    found = mentions.resolve("@" + mentions.handle(value.lstrip("@")))
    return next(iter(found.values()), None) if len(found) == 1 else None


# -- snippets --------------------------------------------------------------------------------

_SUFFIXES = ("ational", "ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied",
             "ness", "ers", "ed", "es", "er", "ly", "s")


def _stem(word: str) -> str:
    """A rough stem, so that highlighting finds what the stemming index found ("trials"
    finds "trial", "regulation" finds "regulatory")."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word[:-1] if len(word) >= 5 and word.endswith("e") else word


def _pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    return _compiled(tuple(terms))


@lru_cache(maxsize=256)  # a page of hits asks twice per hit, with the same terms
def _compiled(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    parts = []
    for term in terms:
        words = [re.escape(_stem(w)) + r"\w*" for w in term.split() if w]
        if words:
            parts.append(r"\b" + r"\W+".join(words))
    return re.compile("|".join(parts)) if parts else None


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    return fulltext.fold(ch)


def _folded_with_map(value: str) -> tuple[str, list[int] | None]:
    """The folded text and, for each of its characters, where it came from (None: the
    same place, as for ASCII text)."""
    if value.isascii():
        return value.lower(), None
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(value):
        folded = _fold_char(ch)
        out.append(folded)
        where.extend([i] * len(folded))
    return "".join(out), where


def _spans(value: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    pattern = _pattern(terms)
    if pattern is None or not value:
        return []
    folded, where = _folded_with_map(value[:SCAN_CHARS])
    if where is None:
        return [m.span() for m in pattern.finditer(folded) if m.end() > m.start()]
    return [(where[m.start()], where[m.end() - 1] + 1)
            for m in pattern.finditer(folded) if m.end() > m.start()]


def _marked(value: str, spans: list[tuple[int, int]], offset: int = 0) -> Markup:
    """Escape first, then wrap the matches in <mark>: nothing of the text is markup."""
    out, pos = [], 0
    for start, end in spans:
        start, end = start - offset, end - offset
        if start < pos or end > len(value):
            continue
        out += (escape(value[pos:start]), "<mark>", escape(value[start:end]), "</mark>")
        pos = end
    out.append(escape(value[pos:]))
    return Markup("".join(out))  # (Markup's own % and join escape again, slowly)


def highlight(value: str, terms: Iterable[str]) -> Markup:
    return _marked(value, _spans(value, terms))


def snippet(value: str, terms: Iterable[str], size: int = SNIPPET_CHARS) -> Markup:
    """About `size` characters of `value` around its first match, matches marked."""
    value = " ".join(value.split())
    spans = _spans(value, terms)
    start = 0
    if spans and spans[0][0] > size // 3:
        start = value.rfind(" ", 0, spans[0][0] - size // 4) + 1
    end = len(value)
    if end - start > size:
        end = value.rfind(" ", start, start + size)
        end = start + size if end <= start else end
    part = value[start:end]
    inside = [(a, b) for a, b in spans if a >= start and b <= end]
    result = _marked(part, inside, offset=start)
    if start > 0:
        result = Markup("… ") + result
    if end < len(value):
        result = result + Markup(" …")
    return result


# -- wiring ----------------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    events.post_pending.connect(on_post_pending)
    events.post_published.connect(on_post_changed)
    events.post_held.connect(on_post_changed)
    events.post_edited.connect(on_post_changed)
    events.post_deleted.connect(on_post_removed)
    events.post_rejected.connect(on_post_removed)
    events.topic_changed.connect(on_topic_changed)
