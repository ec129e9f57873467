"""Background jobs: rows in the `job` table, written in the transaction that caused them,
claimed by `hub worker` (FOR UPDATE SKIP LOCKED on PostgreSQL), retried with backoff and
quarantined (status "failed") when they keep failing.

Waking the worker is a hint, never the source of truth: in one process a condition
variable, with `HUB_REDIS_URL` a Redis list every worker blocks on.

A worker claims one job at a time, and holds it by a short lease (HUB_JOB_LEASE_SECONDS,
default 30) that a heartbeat thread renews while the job runs: a worker killed with
`kill -9` stops renewing, and another worker takes its job up when the lease runs out,
not ten minutes later. What a job has already done stays done (the fan-out records each
copy before the next one's final dot), so a job taken up again sends only the rest.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, or_, update
from sqlalchemy.orm import Session

from hub import clock
from hub.extensions import db
from hub.models import Job

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(seconds=30)  # the default of HUB_JOB_LEASE_SECONDS
_WAKE_KEY = "hub:jobs:wake"
_REDIS_WAIT_MAX = 20

Handler = Callable[[dict[str, Any]], None]
_handlers: dict[str, Handler] = {}


class PermanentError(Exception):
    """A job that can never succeed: quarantine it at once instead of retrying."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _handlers[kind] = fn
        return fn

    return register


def enqueue(kind: str, payload: dict[str, Any], delay: timedelta | None = None) -> Job:
    """Add a job to the current transaction; it runs after commit."""
    job = Job(kind=kind, payload=payload, run_at=clock.now() + (delay or timedelta()))
    db.session.add(job)
    db.session.info["hub_jobs_enqueued"] = True
    return job


class _Wakeup:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._flag = False

    def notify(self, app: Flask) -> None:
        url = app.config.get("HUB_REDIS_URL")
        if url:
            try:
                _redis(url).lpush(_WAKE_KEY, "1")
            except Exception:  # a missed wake-up only delays work until the next poll
                log.warning("could not wake workers through Redis", exc_info=True)
        elif (local := _local_wake(app)) is not None:
            local.notify()
        with self._cond:
            self._flag = True
            self._cond.notify_all()

    def listen(self, app: Flask) -> None:
        """Start hearing wake-ups before the first look for work: a commit between that
        look and the first wait must still wake the worker (Redis keeps its wake-ups in
        its list; the local socket only hears them once it exists)."""
        if not app.config.get("HUB_REDIS_URL") and (local := _local_wake(app)) is not None:
            local.wait(0)

    def wait(self, app: Flask, timeout: float) -> None:
        url = app.config.get("HUB_REDIS_URL")
        if url:
            try:
                client = _redis(url)
                client.brpop([_WAKE_KEY], timeout=min(_REDIS_WAIT_MAX, max(1, int(timeout))))
                client.delete(_WAKE_KEY)
                return
            except Exception:
                log.warning("Redis wait failed; polling", exc_info=True)
        elif (local := _local_wake(app)) is not None:
            # Other processes (`hub serve`, the gateway) wake this one through a local
            # socket; so does this process itself (notify above sends to it too).
            with self._cond:
                if self._flag:
                    self._flag = False
                    return
            local.wait(timeout)
            with self._cond:
                self._flag = False
            return
        with self._cond:
            if not self._flag:
                self._cond.wait(timeout)
            self._flag = False


def _local_wake(app: Flask) -> Any:
    """Without Redis, the `hub` command's processes (HUB_LIVE_LOCAL) wake workers on
    this machine through local sockets (hub.live_channel)."""
    if not app.config.get("HUB_LIVE_LOCAL"):
        return None
    from hub.live_channel import channel_dir, local_wake

    return local_wake(channel_dir(app.instance_path, app.config["SQLALCHEMY_DATABASE_URI"],
                                  app.config.get("HUB_SOCKETIO_CHANNEL") or "hub-socketio"))


_redis_clients: dict[str, Any] = {}


def _redis(url: str) -> Any:
    import redis

    if url not in _redis_clients:
        # A Redis that hangs must not hang the worker: waits are bounded (see wait()).
        _redis_clients[url] = redis.Redis.from_url(url, socket_connect_timeout=2,
                                                   socket_timeout=_REDIS_WAIT_MAX + 5)
    return _redis_clients[url]


wakeup = _Wakeup()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("hub_jobs_enqueued", False):
        try:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
        except RuntimeError:
            return
        wakeup.notify(app)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("hub_jobs_enqueued", None)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def lease() -> timedelta:
    try:
        seconds = current_app.config.get("HUB_JOB_LEASE_SECONDS")
    except RuntimeError:
        seconds = None
    return timedelta(seconds=float(seconds)) if seconds else LEASE


def claim(limit: int = 1, kinds: list[str] | None = None) -> list[Job]:
    """Take up to `limit` due jobs for this worker; committed before they run. One by
    default: a job claimed is a job this worker starts now, so a crash strands no queue."""
    now = clock.now()
    me = worker_id()
    is_due = or_(
        (Job.status == "queued") & (Job.run_at <= now),
        (Job.status == "running") & (Job.locked_at < now - lease()),
    )
    due = db.select(Job.id).where(is_due)
    if kinds:
        due = due.where(Job.kind.in_(kinds))
    due = due.order_by(Job.run_at, Job.id).limit(limit)
    if db.engine.dialect.name == "postgresql":
        ids = list(db.session.scalars(due.with_for_update(skip_locked=True)))
    else:
        ids = list(db.session.scalars(due))
    if not ids:
        db.session.rollback()
        return []
    db.session.execute(
        update(Job)
        # Due still: on SQLite (no SKIP LOCKED) another worker may have claimed it since.
        .where(Job.id.in_(ids), is_due)
        .values(status="running", locked_by=me, locked_at=now, attempts=Job.attempts + 1)
    )
    db.session.commit()
    return list(
        db.session.scalars(
            db.select(Job).where(Job.id.in_(ids), Job.locked_by == me, Job.status == "running")
        )
    )


class _Heartbeat:
    """Renews the lease of one running job from a thread (and a connection) of its own,
    every third of the lease, until the job ends."""

    def __init__(self, job_id: int, owner: str) -> None:
        self._engine = db.engine
        self._job_id, self._owner = job_id, owner
        self._every = lease().total_seconds() / 3
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"job-{job_id}-lease",
                                        daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _beat(self) -> None:
        table = Job.__table__
        while not self._stop.wait(self._every):
            try:
                with self._engine.begin() as conn:
                    conn.execute(update(table).where(
                        table.c.id == self._job_id, table.c.locked_by == self._owner,
                        table.c.status == "running").values(locked_at=clock.now()))
            except Exception:  # the lease runs out; another worker may take the job up
                log.warning("job %s: could not renew its lease", self._job_id, exc_info=True)


def _run(job: Job) -> None:
    fn = _handlers.get(job.kind)
    job_id = job.id
    try:
        if fn is None:
            raise PermanentError(f"no handler for job kind {job.kind!r}")
        with _Heartbeat(job_id, job.locked_by or worker_id()):
            fn(dict(job.payload))
    except Exception as exc:
        db.session.rollback()
        job = db.session.get(Job, job_id)
        if job is None:
            return
        job.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if isinstance(exc, PermanentError) or job.attempts >= MAX_ATTEMPTS:
            job.status = "failed"
            job.finished_at = clock.now()
            log.error("job %s (%s) quarantined: %s", job.id, job.kind, job.last_error)
        else:
            job.status = "queued"
            backoff = min(30 * 2 ** (job.attempts - 1), 6 * 3600)
            job.run_at = clock.now() + timedelta(seconds=backoff)
            log.warning("job %s (%s) will retry: %s", job.id, job.kind, job.last_error)
        job.locked_by = None
        db.session.commit()
        return
    job = db.session.get(Job, job_id)
    if job is not None:
        job.status = "done"
        job.finished_at = clock.now()
        job.locked_by = None
        db.session.commit()


def run_pending(max_rounds: int = 2000, kinds: list[str] | None = None) -> int:
    """Run every job that is due now, including jobs those jobs enqueue; returns how many."""
    count = 0
    for _ in range(max_rounds):
        jobs = claim(kinds=kinds)
        if not jobs:
            break
        for job in jobs:
            _run(job)
            count += 1
    return count


def retry(job_id: int) -> None:
    job = db.get_or_404(Job, job_id)
    job.status = "queued"
    job.attempts = 0
    job.run_at = clock.now()
    db.session.info["hub_jobs_enqueued"] = True
    db.session.commit()


def work_forever(app: Flask, stop: threading.Event) -> None:
    """The worker loop: run due jobs, then sleep until woken or the poll interval ends."""
    poll = app.config["HUB_WORKER_POLL_SECONDS"]
    wakeup.listen(app)
    log.info("worker %s started", worker_id())
    while not stop.is_set():
        with app.app_context():
            try:
                ran = run_pending(max_rounds=200)
                periodic = app.extensions.get("hub_periodic", [])
                for task in periodic:
                    task()
            except Exception:
                log.exception("worker round failed")
                db.session.rollback()
                ran = 0
            finally:
                db.session.remove()
        if not ran:
            wakeup.wait(app, poll)
