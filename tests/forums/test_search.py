"""Full-text search over posts: what is found (words, stems, phrases, OR, -word, titles),
what never is (other people's closed forums, held, deleted), filters, snippets that are
escaped before they are highlighted, the page and the API, and the index following every
change to a post."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from forums import editing, moderation, search, services
from hub import clock
from hub.extensions import db

ROLES = ("anonymous", "member", "group_member", "moderator", "secretariat")
READERS = {
    "public": set(ROLES),
    "members": {"member", "group_member", "moderator", "secretariat"},
    "closed": {"group_member", "secretariat"},
}


def _found(client, q, headers=None, **params):
    response = client.get("/api/v1/search", query_string={"q": q, **params},
                          headers=headers or {})
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def _login(auth, cast, role):
    if role != "anonymous":
        auth.login(cast.who(role))


@pytest.fixture
def posts(cast):
    first = services.create_topic(
        cast.member, cast.public, "Detection of GM maize at ports",
        "Customs officers need **sampling** plans for maize shipments.")
    topic = first.topic
    return {
        "first": first,
        "rapid": services.create_reply(cast.moderator, topic,
                                       "Rapid strip tests detect the protein in minutes."),
        "cotton": services.create_reply(cast.group_member, topic,
                                        "Cotton seed lots are sampled the same way."),
        "accents": services.create_reply(cast.moderator, topic,
                                         "Évaluation des risques à Ouagadougou."),
    }


def test_words_stems_phrases_choices_and_exclusions(client, posts):
    assert _found(client, "maize") == [posts["first"].id]
    assert _found(client, "shipment") == [posts["first"].id]  # stemmed: shipments
    assert _found(client, "detecting") == [posts["rapid"].id, posts["first"].id]
    assert _found(client, '"strip tests"') == [posts["rapid"].id]
    assert _found(client, '"tests strip"') == []
    assert _found(client, "cotton OR rapid") == [posts["cotton"].id, posts["rapid"].id]
    assert _found(client, "sampling -cotton") == [posts["first"].id]
    assert _found(client, "evaluation risques") == [posts["accents"].id]  # accents folded
    assert _found(client, "ÉVALUATION") == [posts["accents"].id]
    assert _found(client, "nothing-like-this") == []


def test_a_topic_title_is_found_on_its_first_post_only(client, posts):
    assert _found(client, "ports") == [posts["first"].id]


@pytest.mark.parametrize("board", ["public", "members", "closed"])
@pytest.mark.parametrize("role", ROLES)
def test_results_come_only_from_boards_the_searcher_may_read(client, auth, cast, token_for,
                                                            role, board):
    post = services.create_topic(cast.secretariat, getattr(cast, board), "Liaison matters",
                                 "Confidential biosafety notes.")
    _login(auth, cast, role)
    token = token_for(cast.who(role)) if role != "anonymous" else {}
    readable = role in READERS[board]
    assert _found(client, "confidential", token) == ([post.id] if readable else [])
    page = client.get("/forums/search?q=confidential").get_data(as_text=True)
    assert ("Liaison matters" in page) is readable
    # Naming a board one may not read is refused like the board itself.
    response = client.get("/api/v1/search", headers=token, query_string={
        "q": "notes", "board": getattr(cast, board).slug})
    assert response.status_code == (200 if readable else 404)


def test_held_rejected_deleted_and_moved_posts(client, cast, make_board, token_for):
    moderated = make_board("moderated", premoderated=True)
    held = services.create_topic(cast.member, moderated, "Waiting", "Pending biosafety text.")
    assert _found(client, "pending") == []
    moderation.approve_post(cast.moderator, held)
    assert _found(client, "pending") == [held.id]

    refused = services.create_reply(cast.member, held.topic, "Refused biosafety text.")
    moderation.reject_post(cast.moderator, refused, "Off topic.")
    assert _found(client, "refused") == []

    gone = services.create_reply(cast.moderator, held.topic, "Withdrawn statement.")
    assert _found(client, "withdrawn") == [gone.id]
    editing.delete_post(cast.moderator, gone)
    assert _found(client, "withdrawn") == []

    moderation.delete_topic(cast.moderator, held.topic)
    assert _found(client, "pending") == []

    moving = services.create_topic(cast.secretariat, cast.public, "Moving", "Relocated text.")
    assert _found(client, "relocated") == [moving.id]
    moderation.move_topic(cast.secretariat, moving.topic, cast.closed)
    assert _found(client, "relocated") == []
    assert _found(client, "relocated", token_for(cast.group_member)) == [moving.id]


def test_edits_replace_the_indexed_text_and_titles(client, cast):
    first = services.create_topic(cast.member, cast.public, "Old title", "Original wording.")
    editing.edit_post(cast.member, first, "Revised wording.", title="Renamed topic")
    assert _found(client, "original") == []
    assert _found(client, "revised") == [first.id]
    assert _found(client, "renamed") == [first.id]
    assert _found(client, "old title") == []


def test_filters_by_board_author_and_date(client, cast, posts, make_board):
    other = make_board("other-board")
    elsewhere = services.create_topic(cast.moderator, other, "Elsewhere", "Maize trials too.")
    assert _found(client, "maize") == [elsewhere.id, posts["first"].id]
    assert _found(client, "maize", board="other-board") == [elsewhere.id]
    assert _found(client, "maize", author=cast.member.id) == [posts["first"].id]
    today = clock.now().date()
    assert _found(client, "maize", **{"from": today.isoformat()}) == [
        elsewhere.id, posts["first"].id]
    assert _found(client, "maize", **{"to": (today - timedelta(days=1)).isoformat()}) == []
    page = client.get("/forums/search", query_string={"q": "maize", "author": "Plain Member"})
    assert page.status_code == 200
    assert "Detection of GM" in page.get_data(as_text=True)
    assert "Elsewhere" not in page.get_data(as_text=True)


def test_pages_of_results_newest_first(client, cast, app):
    app.config["HUB_FLOOD_POSTS"] = 0
    first = services.create_topic(cast.member, cast.public, "Many", "Biosafety one.")
    ids = [first.id] + [services.create_reply(cast.member, first.topic, f"Biosafety {n}.").id
                        for n in range(2, 8)]
    seen, url = [], "/api/v1/search?q=biosafety&limit=3"
    while url:
        data = client.get(url).get_json()
        seen += [item["id"] for item in data["items"]]
        url = data["next"]
    assert seen == ids[::-1]
    html = client.get("/forums/search?q=biosafety").get_data(as_text=True)
    assert re.search(r'rel="next" href="[^"]*before=', html) is None  # 7 fit on one page


def test_snippets_are_escaped_then_highlighted(client, cast):
    body = ("A long introduction about other matters. " * 12
            + "The <script>alert(1)</script> payload & the word biosafety, "
              "then more text about <b>bold</b> claims. " + "Closing words. " * 30)
    post = services.create_topic(cast.member, cast.public, "Tags <i>here</i> & there", body)
    [item] = client.get("/api/v1/search?q=biosafety").get_json()["items"]
    assert item["id"] == post.id
    snippet = item["snippet"]
    assert "<mark>biosafety</mark>" in snippet
    assert "<script>" not in snippet and "<b>" not in snippet
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert len(snippet) < 400
    html = client.get("/forums/search?q=tags").get_data(as_text=True)
    assert "<mark>Tags</mark> &lt;i&gt;here&lt;/i&gt; &amp; there" in html
    assert "<script>alert" not in html


def test_the_api_refuses_what_it_cannot_search(client):
    for query, status, code in [({}, 422, "invalid"), ({"q": "-alone"}, 422, "invalid"),
                                ({"q": "x", "from": "soon"}, 422, "invalid"),
                                ({"q": "x", "board": "nowhere"}, 404, "not_found"),
                                ({"q": "x", "author": "999999"}, 422, "invalid")]:
        response = client.get("/api/v1/search", query_string=query)
        assert response.status_code == status, query
        assert response.get_json()["error"]["code"] == code


def test_the_search_page_without_a_query_and_with_mistakes(client, cast):
    page = client.get("/forums/search")
    assert page.status_code == 200 and 'name="q"' in page.get_data(as_text=True)
    bad = client.get("/forums/search?q=maize&from=yesterday")
    assert bad.status_code == 422
    assert "A date is written YYYY-MM-DD." in bad.get_data(as_text=True)


def test_search_is_indexed_never_a_like_scan(client, cast, posts, statements):
    with statements:
        assert _found(client, "maize") == [posts["first"].id]
    sql = " ".join(statements.seen).upper()
    assert " LIKE " not in sql
    if db.engine.dialect.name == "postgresql":
        assert "FROM FORUM_POST_FTS" in sql and "@@" in sql
    else:
        assert "MATCH" in sql


def test_reindex_and_the_migration_index_what_is_stored(app, runner, client, cast, posts):
    search.unindex_posts([p.id for p in posts.values()])
    assert _found(client, "maize") == []
    result = runner.invoke(args=["forums", "reindex"])
    assert result.exit_code == 0 and "posts indexed" in result.output
    assert _found(client, "maize") == [posts["first"].id]
    # Upgrading a hub that already has posts indexes them.
    db.session.remove()
    downgrade(revision="0006_forums_search")  # (a no-op while it is the newest)
    downgrade(revision="-1")  # to just before the search index
    upgrade()
    assert _found(client, "cotton") == [posts["cotton"].id]


def test_both_ways_of_finding_the_newest_matches_agree(client, cast, app, monkeypatch,
                                                       token_for):
    """PostgreSQL walks the newest posts when the planner expects many matches (and asks
    the GIN index for those before its window), and asks the GIN index alone otherwise:
    the same results, page by page, phrases included, and never a closed board's post."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the two ways are PostgreSQL's")
    app.config["HUB_FLOOD_POSTS"] = 0
    first = services.create_topic(cast.member, cast.public, "Dense", "Maize and more maize.")
    for n in range(12):
        services.create_reply(cast.member, first.topic, f"Maize field note {n}." if n % 3
                              else "Nothing about it, field maize aside.")
    services.create_topic(cast.secretariat, cast.closed, "Closed", "Maize field notes.")

    insider = token_for(cast.group_member)

    def pages(q, headers=None):
        data = client.get("/api/v1/search", query_string={"q": q, "limit": 3},
                          headers=headers or {}).get_json()
        seen = [item["id"] for item in data["items"]]
        while data["next"]:
            data = client.get(data["next"], headers=headers or {}).get_json()
            seen += [item["id"] for item in data["items"]]
        return seen

    def every_way():
        found = {q: pages(q) for q in ("maize", '"maize field"', '"field maize"')}
        return found, pages('"maize field"', insider)

    monkeypatch.setattr(search, "_pg_estimate", lambda condition: (0.0, 1.0))
    by_index = every_way()
    assert [len(ids) for ids in by_index[0].values()] == [13, 8, 4]
    assert len(by_index[1]) == 9  # the closed board's post, for its group only
    monkeypatch.setattr(search, "_pg_estimate", lambda condition: (1e9, 1.0))
    for window in (4, 10_000):  # the rest from the GIN index; the window holds every post
        monkeypatch.setattr(search, "WALK_POSTS", window)
        assert every_way() == by_index


def test_the_index_is_a_table_of_its_own_keyed_by_the_post(cast):
    """One row per indexed post in `forum_post_fts` (on PostgreSQL a narrow table, what the
    walk reads, and no vector left on the post; on SQLite the FTS5 table by rowid), gone
    with its post."""
    first = services.create_topic(cast.member, cast.public, "Narrow", "Row of its own.")
    post = services.create_reply(cast.member, first.topic, "A reply indexed too.")
    key = "post_id" if db.engine.dialect.name == "postgresql" else "rowid"
    count = f"SELECT count(*) FROM forum_post_fts WHERE {key} = :id"
    assert db.session.scalar(sa.text(count), {"id": post.id}) == 1
    if db.engine.dialect.name == "postgresql":
        assert db.session.scalar(sa.text(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'post' "
            "AND column_name = 'search_vector' AND table_schema = current_schema()")) == 0
    editing.delete_post(cast.moderator, post)
    assert db.session.scalar(sa.text(count), {"id": post.id}) == 0
