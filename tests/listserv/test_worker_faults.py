"""Faults in the outbound path: an SMTP server that stops answering holds a worker only
for HUB_SMTP_TIMEOUT seconds, and the connection is closed, not QUIT into an open DATA;
a worker killed with `kill -9` has its job taken up by a running worker within the
short lease, without anyone touching the database."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from aiosmtpd.controller import Controller

from hub.extensions import db
from hub.models import Job
from listserv.models import Delivery
from tests.listserv.helpers import free_port
from tests.listserv.test_worker_crash import HOLD_AT, HoldingServer, _worker


class SilentAfterData:
    """Answers like an SMTP server until the end of DATA, then says nothing."""

    def __init__(self) -> None:
        self.port = free_port()
        self.lines: list[bytes] = []
        self.closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(10)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self._listener.accept()
        conn.settimeout(30)
        conn.sendall(b"220 silent ESMTP\r\n")
        buffer, in_data = b"", False
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                buffer += chunk
                while b"\r\n" in buffer:
                    line, buffer = buffer.split(b"\r\n", 1)
                    self.lines.append(line)
                    if in_data:
                        if line == b".":
                            in_data = False  # and never answer
                        continue
                    verb = line[:4].upper()
                    if verb in (b"EHLO", b"HELO"):
                        conn.sendall(b"250 silent\r\n")
                    elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                        conn.sendall(b"250 OK\r\n")
                    elif verb == b"DATA":
                        in_data = True
                        conn.sendall(b"354 go ahead\r\n")
                    elif verb == b"QUIT":
                        conn.sendall(b"221 bye\r\n")
        except OSError:
            pass
        finally:
            self.closed.set()
            conn.close()
            self._listener.close()


@pytest.mark.config(HUB_SMTP_TIMEOUT=0.5, HUB_SMTP_CONNECT_TIMEOUT=2)
def test_a_server_silent_after_data_holds_the_worker_only_for_the_timeout(
        app, make_member, board, subscribe, start_topic, run_jobs):
    server = SilentAfterData()
    app.config.update(HUB_SMTP_HOST="127.0.0.1", HUB_SMTP_PORT=server.port)
    reader = make_member()
    subscribe(reader, board)
    post = start_topic(make_member(), board)
    started = time.monotonic()
    run_jobs()
    assert time.monotonic() - started < 10
    assert server.closed.wait(5)
    assert b"QUIT" not in [line[:4].upper() for line in server.lines]
    db.session.rollback()
    delivery = db.session.scalar(db.select(Delivery).where(Delivery.post_id == post.id,
                                                           Delivery.member_id == reader.id))
    assert delivery.status == "pending"  # tried again later, not lost
    failed = db.session.scalar(db.select(Job).where(Job.kind == "listserv.deliver"))
    assert failed.status == "queued" and "timed out" in failed.last_error.lower()


def test_a_killed_workers_job_is_taken_up_within_the_lease(
        app, make_member, board, subscribe, start_topic, tmp_path):
    readers = [make_member() for _ in range(HOLD_AT + 5)]
    for member in readers:
        subscribe(member, board)
    start_topic(make_member(), board)
    db.session.commit()
    sink = HoldingServer()
    port = free_port()
    server = Controller(sink, hostname="127.0.0.1", port=port)
    server.start()
    log_path = tmp_path / "workers.log"
    lease = {"HUB_JOB_LEASE_SECONDS": "2"}
    try:
        with log_path.open("wb") as log:
            first = _worker(app, port, log, env=lease)
            second = None
            try:
                assert sink.holding.wait(60), log_path.read_text()[-3000:]
                second = _worker(app, port, log, env=lease)  # running before the kill
                time.sleep(0.5)
                first.kill()
                first.wait(10)
                killed = time.monotonic()
                sink.release.set()
                while len(sink.delivered) < len(readers):
                    assert time.monotonic() - killed < 20, (len(sink.delivered),
                                                            log_path.read_text()[-3000:])
                    time.sleep(0.1)
                taken_up = time.monotonic() - killed
            finally:
                for proc in (first, second):
                    if proc is not None and proc.poll() is None:
                        proc.terminate()
                        proc.wait(10)
    finally:
        server.stop()
    assert taken_up < 10
    assert sorted(sink.delivered) == sorted(m.email for m in readers)
