"""The JSON API's base: bearer-token authentication, JSON errors, list pagination and
the OpenAPI document built from the URL map, so every endpoint is listed.

Each package defines its endpoints on its own blueprint made by `blueprint()`.
"""

from __future__ import annotations

import hashlib
import inspect
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from hub import clock, inputs
from hub.errors import Forbidden, HubError, Invalid, NotAuthenticated
from hub.extensions import csrf, db
from hub.models import ApiToken, Member, MemberStatus

PREFIX = "/api/v1"
F = TypeVar("F", bound=Callable[..., Any])

_blueprints: list[Blueprint] = []


def blueprint(name: str, import_name: str) -> Blueprint:
    """An API blueprint: mounted under /api/v1, CSRF-exempt (tokens, not cookies)."""
    bp = Blueprint(name, import_name, url_prefix=PREFIX)
    _blueprints.append(bp)
    return bp


def register(app: Flask, bp: Blueprint) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)


# -- tokens ------------------------------------------------------------------------------

def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(member: Member, name: str = "", days: int | None = None) -> str:
    """A new personal token; only its hash is stored, the secret is shown once."""
    secret = "hub_" + secrets.token_urlsafe(32)
    lifetime = days if days is not None else current_app.config["HUB_API_TOKEN_DAYS"]
    db.session.add(
        ApiToken(
            member_id=member.id,
            name=name[:100],
            token_hash=_hash(secret),
            prefix=secret[:12],
            expires_at=clock.now() + timedelta(days=lifetime) if lifetime else None,
        )
    )
    return secret


def token_member(header: str | None) -> Member | None:
    if not header or not header.startswith("Bearer "):
        return None
    secret = header[7:].strip()
    if not secret:
        return None
    token = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash == _hash(secret)))
    if token is None or token.revoked_at is not None:
        return None
    expires = clock.aware(token.expires_at)
    if expires is not None and expires <= clock.now():
        return None
    member = token.member
    return member if member.status == MemberStatus.ACTIVE else None


def caller() -> Member | None:
    """The member behind this API request, or None (anonymous)."""
    if "api_member" not in g:
        g.api_member = token_member(request.headers.get("Authorization"))
    return g.api_member


def require_member() -> Member:
    member = caller()
    if member is None:
        if request.headers.get("Authorization"):
            raise NotAuthenticated("The token is invalid, expired or revoked.")
        raise NotAuthenticated("Send a personal API token: Authorization: Bearer <token>.")
    return member


def require_secretariat() -> Member:
    member = require_member()
    if not member.is_secretariat:
        raise Forbidden("Only the Secretariat can do this.")
    return member


# -- request and response helpers ---------------------------------------------------------

def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("Send a JSON object with Content-Type: application/json.",
                      code="invalid_json")
    return data


def field(data: dict[str, Any], name: str, kind: type = str, required: bool = True,
          default: Any = None) -> Any:
    if name not in data or data[name] is None:
        if required:
            raise Invalid(f"'{name}' is required.", fields={name: "required"})
        return default
    value = data[name]
    if kind is bool and not isinstance(value, bool):
        raise Invalid(f"'{name}' must be true or false.", fields={name: "type"})
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise Invalid(f"'{name}' must be an integer.", fields={name: "type"})
    if kind is str and not isinstance(value, str):
        raise Invalid(f"'{name}' must be a string.", fields={name: "type"})
    if kind is list and not isinstance(value, list):
        raise Invalid(f"'{name}' must be a list.", fields={name: "type"})
    return value


def page(items: list[Any], next_args: dict[str, Any] | None) -> Response:
    """The list shape: {"items": [...], "next": url-or-null}."""
    nxt = None
    if next_args is not None:
        args = request.args.to_dict()
        args.update({k: str(v) for k, v in next_args.items()})
        nxt = url_for(request.endpoint, _external=True, **(request.view_args or {}), **args)
    return jsonify({"items": items, "next": nxt})


def limit_arg(default: int = 50, maximum: int = 200) -> int:
    raw = request.args.get("limit", "")
    if not raw:
        return default
    if not inputs.is_id(raw) or int(raw) < 1:
        raise Invalid("'limit' must be a positive integer.", fields={"limit": "type"})
    return min(int(raw), maximum)


def int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    if not inputs.is_id(raw.removeprefix("-")):
        raise Invalid(f"'{name}' must be an integer.", fields={name: "type"})
    return int(raw)


def error_response(status: int, code: str, message: str, fields: dict | None = None) -> Response:
    payload: dict[str, Any] = {"error": {"code": code, "message": message}}
    if fields:
        payload["error"]["fields"] = fields
    response = jsonify(payload)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="hub"'
    return response


def is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media",
    422: "invalid", 429: "rate_limited", 500: "server_error",
}


def handle_http(exc: HTTPException) -> Response:
    status = exc.code or 500
    return error_response(status, _HTTP_CODES.get(status, "error"), exc.description or "")


def handle_hub(exc: HubError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.fields)


# -- OpenAPI -----------------------------------------------------------------------------

_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
_schemas: dict[str, dict[str, Any]] = {}


def schema(request_body: dict[str, Any] | None = None, **responses: Any) -> Callable[[F], F]:
    """Attach a request body schema (and optional responses) to an endpoint's OpenAPI entry."""

    def mark(fn: F) -> F:
        fn._openapi = {"requestBody": request_body, "responses": responses}  # type: ignore
        return fn

    return mark


def openapi_document(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(PREFIX):
            continue
        view = app.view_functions[rule.endpoint]
        doc = inspect.getdoc(view) or rule.endpoint
        summary, _, description = doc.partition("\n")
        path = _PARAM.sub(r"{\1}", rule.rule)
        extra = getattr(view, "_openapi", {})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "operationId": f"{rule.endpoint}.{method.lower()}",
                "summary": summary.strip(),
                "responses": {
                    "200": {"description": "OK"},
                    "4XX": {"description": "A JSON error {error: {code, message}}"},
                },
            }
            if description.strip():
                op["description"] = description.strip()
            params = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                for p in _PARAM.findall(rule.rule)
            ]
            if method == "POST":  # hub.idempotency: a retried POST creates nothing twice
                params.append({
                    "name": "Idempotency-Key", "in": "header", "required": False,
                    "schema": {"type": "string", "maxLength": 255},
                    "description": "A key of the client's choosing: the same POST sent again "
                                   "with it within 24 hours answers the first result "
                                   "(Idempotent-Replayed: true) and creates nothing new."})
            if params:
                op["parameters"] = params
            if method in {"POST", "PUT", "PATCH"} and extra.get("requestBody"):
                op["requestBody"] = {
                    "content": {"application/json": {"schema": extra["requestBody"]}}
                }
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "Biosafety Capacity-Building Network hub API", "version": "1"},
        "servers": [{"url": app.config["HUB_BASE_URL"] + PREFIX}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas,
        },
        "security": [{"bearer": []}],
        "paths": {p[len(PREFIX):] or "/": ops for p, ops in paths.items()},
    }


def api_view(fn: F) -> F:
    """Rolls back on refused actions so a half-done change is never committed."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except HubError:
            db.session.rollback()
            raise

    return wrapper  # type: ignore[return-value]
