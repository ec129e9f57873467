"""Shared set-up for the forums' benchmarks (not a benchmark itself): a database of their
own, a long topic written quickly, `hub serve` in a subprocess, and a load generator.

The database is SQLite in a temporary directory, or HUB_DATABASE_URL when set (it is
WIPED: give the benchmarks a database of their own).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text, update  # noqa: E402

from hub import create_app, seed  # noqa: E402
from hub.extensions import db  # noqa: E402
from hub.models import Member, MemberStatus, Role  # noqa: E402

WORDS = ("biosafety risk assessment detection laboratory maize cotton regulators training "
         "customs sampling awareness radio liability redress framework guidance protocol "
         "socio-economic consultation inspection ports seeds evaluation mission synthesis "
         "network capacity labelling transboundary movement permits field trials containment "
         "monitoring public participation decision national focal point").split()


def database() -> str:
    url = os.environ.get("HUB_DATABASE_URL")
    if url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return "sqlite:///" + str(Path(tempfile.mkdtemp(prefix="hub-bench-")) / "bench.sqlite3")


def make_app(url: str, **config: Any) -> Any:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "HUB_BASE_URL": "http://127.0.0.1:5000", "HUB_FLOOD_POSTS": 0,
                      "HUB_REDIS_URL": os.environ.get("HUB_REDIS_URL") or None, **config})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        seed.ensure_reference_data()
    return app


def member(email: str, name: str, role: str = Role.MEMBER) -> Member:
    from hub import clock

    row = Member(email=email, name=name, role=role, status=MemberStatus.ACTIVE,
                 organization="Bench institute", country="KE", region="africa",
                 email_verified_at=clock.now(), approved_at=clock.now())
    row.set_password("bench password 1")
    db.session.add(row)
    db.session.commit()
    return row


def paragraph(rng: random.Random, words: int = 60) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def long_topic(board: Any, authors: list[Member], n: int, rng: random.Random) -> Any:
    """A topic of `n` posts: the first ones through the posting service, the rest copied
    in bulk with stored HTML (what the service would have stored), positions and thread
    keys as the service sets them."""
    from forums import services
    from forums.models import POSITION_DIGITS, Post, Topic
    from hub import clock, markup

    first = services.create_topic(authors[0], board, "A long discussion of stacked events",
                                  paragraph(rng))
    topic = first.topic
    bodies = [f"{paragraph(rng, 40)}\n\n- {paragraph(rng, 8)}\n- {paragraph(rng, 8)}\n\n"
              f"**{paragraph(rng, 6)}** {paragraph(rng, 30)}" for _ in range(20)]
    rendered = [(b, markup.render(b)) for b in bodies]
    now = clock.now()
    rows = []
    for position in range(2, n + 1):
        body, html = rendered[position % len(rendered)]
        rows.append({"topic_id": topic.id, "author_id": authors[position % len(authors)].id,
                     "body": body, "html": html, "status": "published", "source": "web",
                     "kind": "post", "position": position, "depth": 0,
                     "thread_key": f"{position:0{POSITION_DIGITS}d}", "created_at": now,
                     "elided": "", "reject_reason": ""})
        if len(rows) == 2000:
            db.session.execute(insert(Post), rows)
            rows = []
    if rows:
        db.session.execute(insert(Post), rows)
    last_id = db.session.scalar(text("SELECT max(id) FROM post"))
    db.session.execute(update(Topic).where(Topic.id == topic.id).values(
        last_position=n, post_count=n, last_post_id=last_id, last_post_at=now))
    db.session.commit()
    analyze()
    return topic


def analyze() -> None:
    """Planner statistics for what a bench has just inserted in bulk. Run it again after
    every later bulk insert: statistics taken while a table was small make the planner
    scan it (SQLite looked `topic.id = ?` up through a scan of 11,000 topics when topic
    had been analyzed at one row). A live SQLite hub has no statistics at all, and uses
    the primary key; PostgreSQL's autovacuum keeps its own current."""
    db.session.execute(text("ANALYZE"))
    db.session.commit()


# -- servers ---------------------------------------------------------------------------------

def machine() -> str:
    """What else the machine was doing: figures from a busy machine are worse."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, load average {load} at the start"


def reference_cpu() -> str:
    """The CPU time of a fixed loop, to compare CPU figures across machines."""
    best = min(_timed_loop() for _ in range(3))
    return f"reference loop (sum(range(10**6))): {best:.1f} ms of CPU"


def _timed_loop() -> float:
    started = time.process_time()
    sum(range(10**6))
    return (time.process_time() - started) * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"no answer from {url}")


@contextmanager
def hub_serve(url: str, *args: str, env: dict[str, str] | None = None,
              procs: list[subprocess.Popen] | None = None) -> Iterator[str]:
    """`hub serve` (as in production: gunicorn, one process) on a free port; its process
    is appended to `procs` when given (to watch its memory)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "HUB_DATABASE_URL": url, "HUB_SECRET_KEY": "bench",
                   "HUB_BASE_URL": base, "HUB_FLOOD_POSTS": "0",
                   "HUB_RATELIMIT_POST": "100000 per minute", **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "hub.cli", "serve", "--host", "127.0.0.1",
                             "--port", str(port), *args], cwd=ROOT, env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if procs is not None:
        procs.append(proc)
    try:
        wait_until_up(base + "/healthz", proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


BARE_APP = """
import sys
from flask import Flask
from hub.cli import serve_app
app = Flask("bare")
app.add_url_rule("/healthz", "ok", lambda: "ok")
serve_app(app, "127.0.0.1", int(sys.argv[1]), worker=sys.argv[2], threads=64)
"""


@contextmanager
def bare_serve(worker: str = "gthread") -> Iterator[str]:
    """A bare Flask endpoint under the same gunicorn settings as `hub serve`."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    code = BARE_APP if worker == "gthread" else (
        "from gevent import monkey; monkey.patch_all()\n" + BARE_APP)
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), worker], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(base + "/healthz", proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)


# -- load ------------------------------------------------------------------------------------

# Every request of a bench, the sign-in included, names the same client: Flask-Login's
# session protection compares the User-Agent with the one that signed in, and a member
# whose agent changed gets a rewritten session cookie on every page.
AGENT = "hub-bench/1"


@dataclass
class Load:
    rps: float
    p50_ms: float
    tool: str


def load(url: str | list[str], seconds: float = 8, connections: int = 16,
         cookie: str = "") -> Load:
    """Requests per second against `url` from another process: wrk when installed
    (Debian's package), else a thread pool of keep-alive HTTP clients. A list of URLs
    (on one server) is requested in a random order, so that caches miss as they would."""
    if isinstance(url, list):
        return _python_load(url, seconds, connections, cookie)
    if shutil.which("wrk"):
        headers = ["-H", f"User-Agent: {AGENT}", *(["-H", f"Cookie: {cookie}"] if cookie else [])]
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                              "--latency", *headers, url],
                             capture_output=True, text=True, check=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)]
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if errors:
            status = subprocess.run(["curl", "-s", "-A", AGENT, "-o", "/dev/null", "-w",
                                     "%{http_code}",
                                     *(["-H", f"Cookie: {cookie}"] if cookie else []), url],
                                    capture_output=True, text=True).stdout
            raise SystemExit(f"{errors.group(1)} failed requests on {url} (now: {status})\n"
                             + out)
        return Load(rps, float(p50.group(1)) * scale, "wrk")
    return _python_load(url, seconds, connections, cookie)


PY_LOAD = """
import sys, threading, time
from http.client import HTTPConnection
from urllib.parse import urlsplit
import random
urls, seconds, n, cookie = sys.argv[1].split(), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
AGENT = sys.argv[5]
parts = urlsplit(urls[0])
paths = [urlsplit(u).path + ("?" + urlsplit(u).query if urlsplit(u).query else "")
         for u in urls]
stop = time.monotonic() + seconds
lat, lock = [], threading.Lock()
def run():
    conn = HTTPConnection(parts.hostname, parts.port, timeout=30)
    mine = []
    rng = random.Random(threading.get_ident())
    while time.monotonic() < stop:
        path = rng.choice(paths)
        t = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie, "User-Agent": AGENT} if cookie
                     else {"User-Agent": AGENT})
        r = conn.getresponse(); r.read()
        if r.status != 200: raise SystemExit(r.status)
        mine.append(time.perf_counter() - t)
    with lock: lat.extend(mine)
threads = [threading.Thread(target=run) for _ in range(n)]
for t in threads: t.start()
for t in threads: t.join()
lat.sort()
print(len(lat) / seconds, lat[len(lat) // 2] * 1000)
"""


def _python_load(url: str | list[str], seconds: float, connections: int, cookie: str) -> Load:
    urls = " ".join(url) if isinstance(url, list) else url
    out = subprocess.run([sys.executable, "-c", PY_LOAD, urls, str(seconds), str(connections),
                          cookie, AGENT],
                         capture_output=True, text=True, check=True).stdout.split()
    return Load(float(out[0]), float(out[1]), "python thread pool")


def sign_in(base: str, email: str, password: str = "bench password 1") -> str:
    """The session cookie of a member signed in through the login form (with its CSRF
    token), as a Cookie header value; asked with AGENT, as the load generators ask."""
    parts = urlsplit(base)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", "/login", headers={"User-Agent": AGENT})
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urlencode({"email": email, "password": password, "csrf_token": token})
    conn.request("POST", "/login", body=form, headers={
        "User-Agent": AGENT, "Cookie": cookie,
        "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    conn.close()
    signed = response.getheader("Set-Cookie", "").split(";", 1)[0]
    if response.status != 302 or not signed.startswith("session="):
        raise SystemExit(f"could not sign in as {email}: {response.status}")
    return signed


def get(url: str) -> int:
    conn = HTTPConnection(*url.split("//")[1].split("/")[0].split(":"))
    path = "/" + url.split("//")[1].split("/", 1)[1]
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response.status


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values)



# -- load-independent figures ---------------------------------------------------------------

def _schedstat_ns(pid: int) -> int:
    """Nanoseconds a process has spent on a CPU (its first schedstat field)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


class Work:
    """What a piece of work costs whatever else the machine is doing, on an app's engine:
    the CPU time of this process plus, on PostgreSQL, that of the server processes
    serving its connections (read from /proc: the server is on this machine); and, for
    one call, the database's own account of it: on PostgreSQL every statement again under
    EXPLAIN (ANALYZE, BUFFERS), execution time and the 8 kB buffers it touched; on SQLite
    the virtual machine's instructions (counted in steps of 100), which do not depend on
    the load at all."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.engine = engine
        self.dialect = engine.dialect.name
        self.pids: set[int] = set()
        self.statements: list[tuple[str, Any]] | None = None
        event.listen(engine, "connect", self._connected)
        event.listen(engine, "before_cursor_execute", self._executing)
        engine.dispose()  # connections made from now on are known

    def _connected(self, dbapi_conn: Any, _record: Any) -> None:
        if self.dialect == "postgresql":
            self.pids.add(dbapi_conn.info.backend_pid)

    def _executing(self, _conn: Any, _cursor: Any, statement: str, parameters: Any,
                   _context: Any, _many: bool) -> None:
        if self.statements is not None:
            self.statements.append((statement, parameters))

    def cpu_ns(self) -> int:
        """CPU time so far: this process and the server processes of its connections."""
        return time.process_time_ns() + sum(_schedstat_ns(pid) for pid in self.pids)

    def account(self, session: Any, fn: Any) -> dict[str, float]:
        """Run `fn()` once and return the database's account of its statements:
        {"statements", "db_ms" (PostgreSQL: planning + execution), "buffers"} or, on
        SQLite, {"statements", "vm_steps", "db_cpu_ms"}."""
        self.statements = []
        steps = [0]
        if self.dialect == "sqlite":
            raw = session.connection().connection.dbapi_connection

            def count() -> int:
                steps[0] += 100
                return 0
            raw.set_progress_handler(count, 100)
        try:
            fn()
        finally:
            seen, self.statements = self.statements, None
            if self.dialect == "sqlite":
                raw.set_progress_handler(None, 0)
        if self.dialect == "sqlite":
            return {"statements": len(seen), "vm_steps": steps[0],
                    "db_cpu_ms": self._replayed(raw, seen)}
        return {"statements": len(seen), **self._explained(session, seen)}

    @staticmethod
    def _replayed(raw: Any, seen: list[tuple[str, Any]]) -> float:
        """SQLite: the CPU milliseconds of the SELECTs run again on the same connection
        (the best of five: FTS5's own work is not counted in VM instructions)."""
        best = float("inf")
        for _ in range(5):
            started = time.process_time_ns()
            for statement, parameters in seen:
                if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                    raw.execute(statement, parameters).fetchall()
            best = min(best, (time.process_time_ns() - started) / 1e6)
        return best

    def _explained(self, session: Any, seen: list[tuple[str, Any]]) -> dict[str, float]:
        import json

        total_ms, buffers = 0.0, 0
        conn = session.connection()
        for statement, parameters in seen:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                if statement.lstrip().upper().startswith("SET"):
                    conn.exec_driver_sql(statement, parameters)
                continue
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement,
                                        parameters).scalar()
            plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]
            total_ms += plan.get("Planning Time", 0.0) + plan["Execution Time"]
            top = plan["Plan"]
            buffers += top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
            buffers += plan.get("Planning", {}).get("Shared Hit Blocks", 0)
        return {"db_ms": total_ms, "buffers": buffers}

    def plans(self, session: Any, fn: Any) -> list[str]:
        """The EXPLAIN (ANALYZE, BUFFERS) text of every SELECT `fn()` sends (PostgreSQL),
        or SQLite's EXPLAIN QUERY PLAN."""
        self.statements = []
        try:
            fn()
        finally:
            seen, self.statements = self.statements, None
        conn = session.connection()
        out = []
        for statement, parameters in seen:
            head = statement.lstrip().upper()
            if head.startswith("SET"):
                conn.exec_driver_sql(statement, parameters)
            if not head.startswith(("SELECT", "WITH")):
                continue
            prefix = ("EXPLAIN (ANALYZE, BUFFERS) " if self.dialect == "postgresql"
                      else "EXPLAIN QUERY PLAN ")
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            out.append(statement + "\n" + "\n".join(str(r[-1]) for r in rows))
        return out
