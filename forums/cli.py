"""`hub forums ...` commands for operators. Imports `hub` and `forums`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

forums_cli = AppGroup("forums", help="Bulletin boards.")


@forums_cli.command("reindex")
def reindex() -> None:
    """Rebuild the full-text index of every post (after a restore, or when a process
    stopped between saving a post and indexing it)."""
    from forums import search

    click.echo(f"{search.rebuild()} posts indexed")


def init_app(app: Flask) -> None:
    app.cli.add_command(forums_cli)
