"""`hub registry ...` commands for operators. Imports only `hub`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from hub.extensions import db

registry_cli = AppGroup("registry", help="The registry of projects, opportunities, needs, "
                                         "resources and reports.")


@registry_cli.command("reindex")
def reindex() -> None:
    """Rebuild the facets, their counts, the full-text index and the bitsets of every
    record."""
    from hub.registry import bitsets, fields, search, tallies
    from hub.registry.models import Record

    vocab = fields.Vocabulary.load()
    ids = list(db.session.scalars(select(Record.id).order_by(Record.id)))
    for start in range(0, len(ids), 200):
        for record in db.session.scalars(select(Record).where(
                Record.id.in_(ids[start:start + 200]))):
            search.reindex(record, vocab)
        db.session.commit()
    tallies.rebuild()
    bitsets.rebuild()
    db.session.commit()
    click.echo(f"{len(ids)} records reindexed")


@registry_cli.command("recount")
def recount() -> None:
    """Recount the kept facet counts and rebuild the bitsets (choosing the common words
    anew) from the facets and the full-text index, without rewriting the records."""
    from hub.registry import bitsets, match_keys, tallies

    tallies.rebuild()
    match_keys.rebuild()
    bitsets.rebuild()
    db.session.commit()
    click.echo(f"{len(bitsets.common_terms())} common words kept as bitsets")


@registry_cli.command("remind")
def remind() -> None:
    """Send the reminders for stale records now (the worker does it hourly)."""
    from hub.registry import follows

    click.echo(f"{follows.send_reminders()} reminders queued")


def init_app(app: Flask) -> None:
    app.cli.add_command(registry_cli)
