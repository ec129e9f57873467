"""`hub gateway`: serve LMTP and SMTP; `hub gateway ingest` for MTA pipes; `hub gateway
check` for a dry run of the inbound pipeline (DESIGN.md §4). Imports `hub`, `listserv`."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from hub.extensions import db
from listserv import dryrun, inbound

EX_NOUSER = 67  # sysexits.h: the MTA bounces with "unknown user"
EX_TEMPFAIL = 75  # sysexits.h: the MTA keeps the message and tries again


@click.group("gateway", invoke_without_command=True)
@click.option("--host", default=None, help="Address to listen on (HUB_GATEWAY_HOST).")
@click.option("--lmtp-port", default=None, type=int, help="LMTP port (HUB_GATEWAY_LMTP_PORT).")
@click.option("--smtp-port", default=None, type=int, help="SMTP port (HUB_GATEWAY_SMTP_PORT).")
@click.pass_context
@with_appcontext
def gateway_command(ctx: click.Context, host: str | None, lmtp_port: int | None,
                    smtp_port: int | None) -> None:
    """The inbound mail gateway: LMTP and SMTP servers for the list addresses."""
    if ctx.invoked_subcommand is not None:
        return
    from hub.cli import _run_until_signal, _start_services

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for key, value in (("HUB_GATEWAY_HOST", host), ("HUB_GATEWAY_LMTP_PORT", lmtp_port),
                       ("HUB_GATEWAY_SMTP_PORT", smtp_port)):
        if value is not None:
            app.config[key] = value
    click.echo(f"gateway: LMTP on {app.config['HUB_GATEWAY_HOST']}:"
               f"{app.config['HUB_GATEWAY_LMTP_PORT']}, SMTP on port "
               f"{app.config['HUB_GATEWAY_SMTP_PORT']}")
    stop = threading.Event()
    _run_until_signal(stop, _start_services(app, stop, {"gateway"}))


@gateway_command.command("ingest")
@click.option("--rcpt", "recipient", required=True, help="The envelope recipient.")
@click.option("--sender", default="", help="The envelope sender (empty or <> for bounces).")
@with_appcontext
def ingest(recipient: str, sender: str) -> None:
    """Take one message on stdin (for an MTA pipe); exit 67 for an unknown recipient,
    75 for a temporary failure (the MTA will try again)."""
    raw = sys.stdin.buffer.read()
    try:
        row = inbound.ingest(raw, recipient, sender, "pipe")
    except inbound.UnknownRecipient:
        click.echo(f"{recipient}: no such list here", err=True)
        sys.exit(EX_NOUSER)
    except Exception as exc:  # the database is away, the disk is full: let the MTA retry
        db.session.rollback()
        current_app.logger.exception("ingest failed")
        click.echo(f"temporary failure: {exc}", err=True)
        sys.exit(EX_TEMPFAIL)
    if row is None:
        click.echo("duplicate: already received", err=True)
    else:
        click.echo(f"{row.status}: {row.reason}", err=True)


@gateway_command.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--rcpt", "recipient", default=None,
              help="The recipient (default: Delivered-To, X-Original-To, To or Cc).")
@with_appcontext
def check(files: tuple[str, ...], recipient: str | None) -> None:
    """Dry run of the inbound pipeline: one JSON line per file; nothing stored or sent."""
    for name in files:
        raw = Path(name).read_bytes()
        try:
            result = dryrun.check(raw, name, recipient)
            line = result.as_dict()
        except Exception as exc:
            db.session.rollback()
            line = {"file": name, "verdict": "quarantine", "reason": f"Could not check: {exc}",
                    "board": None, "topic_id": None, "body": None}
        click.echo(json.dumps(line, ensure_ascii=False))


def init_app(app: Flask) -> None:
    app.cli.add_command(gateway_command)
