"""Concurrent writers against a real `hub serve` process on the suite's database (SQLite,
or PostgreSQL when HUB_DATABASE_URL is set): no 5xx, no pool timeout, every post
acknowledged is stored once and found by search. A post's after-commit work (search
index, page-cache revision) once took a second pooled connection while the request held
its first; 30 writers then starved a pool of 15 and every request waited 30 s for a 500.
`bench/bench_load.py` runs the same for a minute on both shapes and prints latencies."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
import requests
from sqlalchemy import func, select

from forums.models import Post
from hub.extensions import db
from tests.forums.serve_process import serve

WRITERS, POSTS_EACH, READERS = 30, 3, 5


def _word() -> str:
    """A search term no other post has (letters only: the stemmer leaves it whole)."""
    return "zq" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:12])


@pytest.fixture
def server(app, tmp_path):
    with serve(app, tmp_path) as running:
        yield running


def test_thirty_concurrent_writers_get_no_5xx_and_every_post_is_searchable(
        app, make_member, make_board, make_topic, token_for, server):
    url, log_path = server
    board = make_board()
    topics = [make_topic(make_member(), board, f"Load {n}").topic_id for n in range(3)]
    tokens = [token_for(make_member()) for _ in range(WRITERS)]
    reader = token_for(make_member())
    statuses: Counter[int] = Counter()
    acknowledged: dict[int, str] = {}  # post id -> its word
    lock = threading.Lock()
    stop = threading.Event()

    def write(n: int) -> None:
        with requests.Session() as http:
            for i in range(POSTS_EACH):
                word = _word()
                try:
                    r = http.post(f"{url}/api/v1/topics/{topics[(n + i) % 3]}/posts",
                                  headers=tokens[n], json={"body": f"Load {word}."}, timeout=20)
                except requests.Timeout:
                    with lock:
                        statuses[599] += 1
                    continue
                with lock:
                    statuses[r.status_code] += 1
                    if r.status_code == 201:
                        acknowledged[r.json()["id"]] = word

    def read(n: int) -> None:
        with requests.Session() as http:
            while not stop.is_set():
                try:
                    r = http.get(f"{url}/forums/topics/{topics[n % 3]}", timeout=20)
                    code = r.status_code
                except requests.Timeout:
                    code = 599
                with lock:
                    statuses[code] += 1

    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    readers = [threading.Thread(target=read, args=(n,)) for n in range(READERS)]
    for t in writers + readers:
        t.start()
    for t in writers:
        t.join(timeout=60)
    stop.set()
    for t in readers:
        t.join(timeout=30)

    log = log_path.read_text()
    assert not [code for code in statuses if code >= 500], (statuses, log[-3000:])
    assert "QueuePool limit" not in log
    assert len(acknowledged) == WRITERS * POSTS_EACH, statuses
    db.session.remove()
    stored = db.session.execute(
        select(Post.id, func.count()).where(Post.id.in_(acknowledged)).group_by(Post.id)).all()
    assert len(stored) == len(acknowledged) and {n for _id, n in stored} == {1}
    bodies = Counter(db.session.scalars(select(Post.body).where(Post.topic_id.in_(topics))))
    assert all(bodies[f"Load {w}."] == 1 for w in acknowledged.values())
    with requests.Session() as http:
        missing = [word for word in acknowledged.values()
                   if not http.get(f"{url}/api/v1/search", params={"q": word},
                                   headers=reader, timeout=10).json()["items"]]
    assert not missing
