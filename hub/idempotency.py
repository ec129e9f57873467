"""`Idempotency-Key` on API POSTs (IETF httpapi draft "The Idempotency-Key HTTP Header
Field", as Stripe's API does it): a client that sends a POST again with the same key,
because it never saw the answer, gets the first answer back and nothing is created
twice. Imports `hub` only.

- a key is kept per caller (the member behind the token) for KEEP (24 hours);
- the same key with another method, path or body answers 422 (the draft's "reuse of a
  key with a different payload");
- the same key while the first request still runs answers 409;
- only a success (2xx) is kept: after a refusal or an error the client may try again
  with the same key, and the request runs again.

A replay carries `Idempotent-Replayed: true`.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

from flask import Flask, Response, g, request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from hub import api, clock
from hub.errors import Conflict, Invalid
from hub.extensions import db
from hub.models import IdempotentRequest

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)


def _owner() -> str:
    member = api.caller()
    return f"member:{member.id}" if member is not None else f"addr:{request.remote_addr}"


def _fingerprint() -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _before() -> Response | None:
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST" or not api.is_api_request():
        return None
    key = key.strip().strip('"')
    if not key or len(key) > 255 or not key.isprintable():
        raise Invalid(f"{HEADER} is 1 to 255 printable characters.", code="invalid_key")
    owner, fingerprint = _owner(), _fingerprint()
    found = db.session.scalar(db.select(IdempotentRequest).where(
        IdempotentRequest.owner == owner, IdempotentRequest.key == key,
        IdempotentRequest.created_at > clock.now() - KEEP))
    if found is None:
        db.session.execute(delete(IdempotentRequest).where(
            IdempotentRequest.owner == owner, IdempotentRequest.key == key))
        row = IdempotentRequest(owner=owner, key=key, fingerprint=fingerprint, body=b"")
        db.session.add(row)
        try:
            db.session.commit()
        except IntegrityError:  # the same key, sent twice at once
            db.session.rollback()
            raise Conflict("A request with this Idempotency-Key is still running.",
                           code="idempotency_in_progress") from None
        g.idempotent_request_id = row.id
        return None
    db.session.rollback()
    if found.fingerprint != fingerprint:
        raise Invalid(f"This {HEADER} was used for another request (method, path or body).",
                      code="idempotency_key_reused")
    if found.status_code is None:
        raise Conflict("A request with this Idempotency-Key is still running.",
                       code="idempotency_in_progress")
    replay = Response(found.body, status=found.status_code, mimetype="application/json")
    if found.location:
        replay.headers["Location"] = found.location
    replay.headers["Idempotent-Replayed"] = "true"
    return replay


def _after(response: Response) -> Response:
    row_id = g.pop("idempotent_request_id", None)
    if row_id is None:
        return response
    db.session.rollback()  # whatever the view left unfinished is not ours to commit
    row = db.session.get(IdempotentRequest, row_id)
    if row is None:
        return response
    if 200 <= response.status_code < 300 and not response.is_streamed:
        row.status_code = response.status_code
        row.body = response.get_data()
        row.location = response.headers.get("Location", "")[:2000]
    else:
        db.session.delete(row)
    db.session.commit()
    return response


_pruned = {"at": 0.0}


def prune() -> None:
    """Forget keys older than KEEP (the worker calls this each round; it works every ten
    minutes)."""
    now = time.monotonic()
    if now - _pruned["at"] < 600:
        return
    _pruned["at"] = now
    db.session.execute(delete(IdempotentRequest).where(
        IdempotentRequest.created_at < clock.now() - KEEP))
    db.session.commit()


def init_app(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_after)
    app.extensions.setdefault("hub_periodic", []).append(prune)

