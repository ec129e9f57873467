"""Live fan-out: the time from a post (sent through the API) to its arrival at the last of
500 Socket.IO clients reading the topic, p50 and p95 over a series of posts. The server
is `hub serve` (one process) with the gevent worker and with the threaded one; the
clients are WebSocket connections held by one asyncio process (a minimal Socket.IO
client: connect, join, answer pings, note when each post arrives), the posts come from
a third. One run, one machine, loopback.

Budget: p95 < 100 ms at 500 clients.

    .venv/bin/python bench/bench_live.py
    BENCH_CLIENTS=200 BENCH_WORKERS=gevent .venv/bin/python bench/bench_live.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import forums_support as support  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "500"))
POSTS = int(os.environ.get("BENCH_LIVE_POSTS", "40"))
GAP = float(os.environ.get("BENCH_GAP", "0.25"))  # seconds between posts
WORKERS = os.environ.get("BENCH_WORKERS", "gevent,gthread").split(",")
WARM_UP = 3
BUDGET_MS = 100.0

# The readers: one asyncio process, CLIENTS WebSocket connections speaking Engine.IO 4 /
# Socket.IO 5. Prints "ready" when every client has joined, then one JSON line of
# {position: [arrival times]} when it has seen every post (or after a timeout).
READERS = r'''
import asyncio, base64, json, os, struct, sys, time
host = sys.argv[1]
port, topic, clients, posts = (int(a) for a in sys.argv[2:6])
arrivals = {}
done = asyncio.Event()

def frame(text):
    data = text.encode()
    mask = os.urandom(4)
    n = len(data)
    size = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n)
    head = bytes([0x81]) + size
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))

async def message(reader):
    parts = []
    while True:
        b1, b2 = await reader.readexactly(2)
        n = b2 & 0x7F
        if n == 126:
            n = struct.unpack("!H", await reader.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", await reader.readexactly(8))[0]
        data = await reader.readexactly(n)
        opcode = b1 & 0x0F
        if opcode == 8:
            raise ConnectionError("closed by the server")
        if opcode in (9, 10):
            continue
        parts.append(data)
        if b1 & 0x80:
            return b"".join(parts)

async def reader_client(joined):
    reader, writer = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
                  f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise SystemExit(head.decode(errors="replace"))
    while True:
        data = await message(reader)
        if data[:1] == b"0":
            writer.write(frame("40"))
        elif data[:2] == b"40":
            writer.write(frame('420["join",{"topic":%d}]' % topic))
        elif data[:3] == b"430":
            if not json.loads(data[3:])[0]["ok"]:
                raise SystemExit("join refused")
            joined.set()
        elif data[:1] == b"2":
            writer.write(frame("3"))
        elif data[:9] == b'42["post"':
            now = time.monotonic()
            position = int(data.split(b'"position":', 1)[1].split(b",", 1)[0].split(b"}", 1)[0])
            got = arrivals.setdefault(position, [])
            got.append(now)
            if len(arrivals) >= posts and all(len(v) >= clients for v in arrivals.values()):
                done.set()

async def main():
    tasks, events = [], []
    for i in range(clients):
        joined = asyncio.Event()
        events.append(joined)
        tasks.append(asyncio.create_task(reader_client(joined)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 60)
    print("ready", flush=True)
    try:
        await asyncio.wait_for(done.wait(), posts * 2 + 30)
    except asyncio.TimeoutError:
        pass
    print(json.dumps(arrivals), flush=True)
    os._exit(0)

asyncio.run(main())
'''


def _setup(url: str) -> tuple[int, str]:
    from forums import services
    from forums.models import Board
    from hub import api
    from hub.extensions import db

    app = support.make_app(url)
    with app.app_context():
        author = support.member("poster@example.org", "Poster")
        board = Board(slug="live", name="Live", visibility="public", posting="all")
        db.session.add(board)
        db.session.commit()
        first = services.create_topic(author, board, "Watched by many", "Hello, readers.")
        token = api.create_token(author, "bench")
        db.session.commit()
        topic_id = first.topic_id
        db.engine.dispose()
    return topic_id, token


def _run(url: str, topic_id: int, token: str, worker: str) -> dict[str, float]:
    args = ["--worker", worker] + (["--threads", str(CLIENTS + 64)]
                                   if worker == "gthread" else [])
    with support.hub_serve(url, *args) as base:
        host, port = base.split("//")[1].split(":")
        readers = subprocess.Popen([sys.executable, "-c", READERS, host, port, str(topic_id),
                                    str(CLIENTS), str(POSTS + WARM_UP)], stdout=subprocess.PIPE,
                                   text=True)
        assert readers.stdout.readline().strip() == "ready", "the readers did not connect"
        time.sleep(1.5)  # let the reader counts settle
        sent: dict[int, float] = {}
        conn = HTTPConnection(host, int(port))
        for n in range(POSTS + WARM_UP):
            body = json.dumps({"body": f"Post number {n + 1}, with a **little** markup."})
            started = time.monotonic()
            conn.request("POST", f"/api/v1/topics/{topic_id}/posts", body=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            response = conn.getresponse()
            data = json.loads(response.read())
            if response.status != 201:
                raise SystemExit(f"posting failed: {response.status} {data}")
            if n >= WARM_UP:  # the first ones compile templates and fill caches
                sent[data["position"]] = started
            time.sleep(GAP)
        arrivals = json.loads(readers.stdout.readline())
        readers.wait(timeout=30)
    last, each, missing = [], [], 0
    for position, started in sent.items():
        times = arrivals.get(str(position), [])
        missing += CLIENTS - len(times)
        if times:
            last.append((max(times) - started) * 1000)
            each += [(t - started) * 1000 for t in times]
    return {"p50": support.percentile(last, 50), "p95": support.percentile(last, 95),
            "each_p50": support.percentile(each, 50), "missing": missing}


def main() -> None:
    url = support.database()
    topic_id, token = _setup(url)
    print(support.machine())
    print(f"{CLIENTS} Socket.IO clients (WebSocket) on one topic, {POSTS} posts through the "
          f"API {GAP * 1000:.0f} ms apart; time from sending a post to its arrival")
    results = {}
    for worker in WORKERS:
        results[worker] = r = _run(url, topic_id, token, worker)
        print(f"  hub serve --worker {worker:<8} last of {CLIENTS}: p50 {r['p50']:6.1f} ms  "
              f"p95 {r['p95']:6.1f} ms   (any one client: p50 {r['each_p50']:5.1f} ms)"
              + (f"   {r['missing']} deliveries missing" if r["missing"] else ""))
    if "gevent" in results and "gthread" in results:
        slower = results["gthread"]["p95"] / results["gevent"]["p95"]
        print(f"gthread / gevent (p95): {slower:.1f}x")
    for worker, r in results.items():
        print(f"budget p95 < {BUDGET_MS:.0f} ms at {CLIENTS} clients, --worker {worker}: "
              + ("met" if r["p95"] < BUDGET_MS else "MISSED"))


if __name__ == "__main__":
    main()
