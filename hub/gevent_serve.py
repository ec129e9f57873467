"""`hub serve --worker gevent` starts here: gevent patches the standard library before
anything else is imported (sockets, threads, locks, the database drivers), then the
ordinary `hub` command line runs. Imports only `hub` (after patching)."""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

from hub.cli import main  # noqa: E402

if __name__ == "__main__":
    main(prog_name="hub")
