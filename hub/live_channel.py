"""Live updates across the processes of one machine, without Redis.

`hub serve` runs several processes; a post saved in one (or in `hub worker`, or the mail
gateway) must reach the readers whose sockets another one holds. With HUB_REDIS_URL,
Socket.IO's Redis manager carries the events. Without it, this manager does the same
over local datagram sockets: each process that holds sockets listens on its own socket
file in a directory shared by the hub's processes (one per database and channel, so two
hubs on one machine never hear each other), and an event is sent to every socket file
there. A process that is gone leaves a file nobody answers; the first sender to find it
so removes it.

Imports python-socketio only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from socketio import PubSubManager

log = logging.getLogger(__name__)

# An event carries at most a rendered post; datagrams this size pass on Linux.
BUFFER = 4 * 1024 * 1024


def channel_dir(instance_path: str, database_url: str, channel: str) -> Path:
    digest = hashlib.sha256(f"{database_url}\n{channel}".encode()).hexdigest()[:16]
    return Path(instance_path) / "live" / digest


class LocalSocketManager(PubSubManager):
    """A Socket.IO client manager whose message queue is a directory of socket files."""

    name = "local-sockets"

    def __init__(self, directory: Path, write_only: bool = False, **kwargs: Any) -> None:
        super().__init__(channel=str(directory), write_only=write_only, **kwargs)
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.host_id = uuid.uuid4().hex
        self._path = self.directory / f"{self.host_id[:16]}.sock"
        self._out = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        with contextlib.suppress(OSError):
            self._out.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, BUFFER)
        # A peer that stopped reading must never hold up the request that posts.
        self._out.setblocking(False)

    def _publish(self, data: Any) -> None:
        message = json.dumps(data).encode()
        for peer in self._peers():
            try:
                self._out.sendto(message, str(peer))
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(FileNotFoundError):
                    peer.unlink()  # its process is gone
            except BlockingIOError:
                log.warning("live channel: %s is not reading; an event is lost", peer.name)
            except OSError as exc:
                log.warning("live channel: could not send to %s: %s", peer.name, exc)

    def _peers(self) -> list[Path]:
        try:
            return [p for p in self.directory.iterdir()
                    if p.suffix == ".sock" and p != self._path]
        except FileNotFoundError:
            return []

    def initialize(self) -> None:
        # Bound before the first socket is served, so no event sent after it is missed.
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        with contextlib.suppress(OSError):
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUFFER)
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()
        if not self.write_only:
            self._listener.bind(str(self._path))
        super().initialize()

    def _listen(self) -> Iterator[dict]:
        try:
            while True:
                raw = self._listener.recv(BUFFER)
                try:
                    yield json.loads(raw)
                except ValueError:
                    log.warning("live channel: a message that is not JSON was dropped")
        finally:
            self._listener.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path)


class FilePresence:
    """Who reads which room, shared by the `hub` command's processes on one machine
    without Redis: each process keeps its own readers (room -> sid -> member id) in a
    file of the channel's directory, named by its process id; a count reads every live
    process's file (a file whose process is gone is removed). Same interface as the
    forums' in-process and Redis presences; `count` needs `distinct` to count members
    once."""

    def __init__(self, directory: Path, distinct: Any) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._distinct = distinct
        self._mine: dict[str, dict[str, int | None]] = {}
        self._path = directory / f"{os.getpid()}.rooms"
        self._lock = threading.Lock()

    def _write(self) -> None:
        temporary = self._path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self._mine))
        temporary.replace(self._path)

    def add(self, room: str, sid: str, member_id: int | None) -> None:
        with self._lock:
            self._mine.setdefault(room, {})[sid] = member_id
            self._write()

    def remove(self, room: str, sid: str) -> None:
        with self._lock:
            readers = self._mine.get(room)
            if readers is not None:
                readers.pop(sid, None)
                if not readers:
                    del self._mine[room]
            self._write()

    def _everyone(self, room: str) -> list[int | None]:
        with self._lock:
            readers = list(self._mine.get(room, {}).values())
        for path in self.directory.glob("*.rooms"):
            if path == self._path:
                continue
            if not _alive(int(path.stem)):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            try:
                readers.extend(json.loads(path.read_text()).get(room, {}).values())
            except (OSError, ValueError):
                continue  # being replaced this instant: the next count has it
        return readers

    def heartbeat(self) -> None:
        pass  # a process's file goes when its process does

    def answers(self) -> bool:
        return True  # local files: there is no server to lose

    def has_readers(self, room: str) -> bool:
        return bool(self._everyone(room))

    def count(self, room: str) -> int:
        return self._distinct(self._everyone(room))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalWake:
    """Wakes the `hub worker` processes of this machine when jobs are queued, without
    Redis: each waiting worker listens on a socket file (`wake-PID.sock`) in the
    channel's directory, and a commit that queued jobs sends a byte to each. A wake-up
    that is lost only delays the work until the worker's next poll."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._out = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._out.setblocking(False)
        self._in: socket.socket | None = None
        self._lock = threading.Lock()

    def notify(self) -> None:
        for peer in self.directory.glob("wake-*.sock"):
            try:
                self._out.sendto(b"1", str(peer))
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(FileNotFoundError):
                    peer.unlink()
            except OSError:
                continue  # its queue is full: it has wake-ups waiting already

    def wait(self, timeout: float) -> None:
        import select

        with self._lock:
            if self._in is None:
                path = self.directory / f"wake-{os.getpid()}.sock"
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                self._in = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._in.bind(str(path))
                self._in.setblocking(False)
            listener = self._in
        ready, _w, _x = select.select([listener], [], [], timeout)
        if ready:
            with contextlib.suppress(BlockingIOError):
                while listener.recv(64):  # every wake-up sent so far counts as one
                    pass


    def close(self) -> None:
        self._out.close()
        if self._in is not None:
            self._in.close()


_wakes: dict[Path, LocalWake] = {}


def local_wake(directory: Path) -> LocalWake:
    if directory not in _wakes:
        _wakes[directory] = LocalWake(directory)
    return _wakes[directory]
