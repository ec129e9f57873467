"""Every board a mailing list: outbound list mail (outbox, worker, digests), the inbound
gateway and bounces, commands by email (changes confirmed by the member before they are
carried out), and moderation by email (held posts mailed to the board's moderators, who
answer "approve" or "reject <reason>"). Imports `hub` and `forums`,
never `conferences`."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, current_app

DEFAULTS: dict[str, Any] = {
    "HUB_LIST_MAX_BYTES": 10 * 1024 * 1024,  # larger posts get a notice; 2x is refused
    "HUB_LIST_CHUNK": 500,  # deliveries per worker job
    "HUB_LIST_NOTICES_PER_DAY": 10,  # refusals and command replies to one address
    "HUB_LIST_CONFIRM_HOURS": 72,  # how long a change asked for by email may be confirmed
    "HUB_LIST_TICK_SECONDS": 30,  # how often the worker looks for digests and stuck mail
    "HUB_BOUNCE_THRESHOLD": 5.0,
    "HUB_BOUNCE_STALE_DAYS": 7,
    "HUB_DIGEST_HOUR": 6,  # digests go out from this hour, in each member's time zone
    "HUB_GATEWAY_THREADS": 8,
    # Several `hub gateway` processes on the same ports (SO_REUSEPORT). Off by default so
    # that a second hub on the same machine fails loudly instead of sharing the traffic.
    "HUB_GATEWAY_SHARED_PORTS": False,
}


def periodic() -> None:
    """Each worker round: at most every HUB_LIST_TICK_SECONDS, digests and the sweep
    of received mail whose processing was cut short."""
    from listserv import digests, inbound

    state = current_app.extensions.setdefault("listserv_tick", {"at": 0.0})
    now = time.monotonic()
    if now - state["at"] < float(current_app.config["HUB_LIST_TICK_SECONDS"]):
        return
    state["at"] = now
    inbound.sweep()
    digests.send_due()


def init_app(app: Flask) -> None:
    """Register the listserv's blueprints, job handlers and event listeners."""
    from hub import events
    from listserv import (
        announcements,
        cli,
        gateway,
        inbound,
        membership,
        models,  # noqa: F401  (the tables, for migrations)
        moderation,
        services,
        views,
    )

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)  # config.py reads the environment
    # flufl.bounce logs every detector it tries at INFO: seventeen lines per bounce.
    logging.getLogger("flufl.bounce").setLevel(logging.WARNING)
    events.post_pending.connect(announcements.on_post_pending)  # before the outbox
    events.post_pending.connect(services.on_post_pending)
    events.post_pending.connect(inbound.on_post_pending)
    events.post_pending.connect(moderation.on_post_pending)  # held: tell the moderators
    events.post_edit_pending.connect(moderation.on_post_edit_pending)  # the same for edits
    events.member_approved.connect(membership.on_member_approved)  # joining means delivery
    views.init_app(app)
    cli.init_app(app)
    app.extensions["hub_services"]["gateway"] = gateway.service
    app.extensions["hub_periodic"].append(periodic)
