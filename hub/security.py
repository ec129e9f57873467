"""Security headers on every response and safe redirects."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


# Set on every response unless the view set its own (Werkzeug's `setdefault` scans the
# headers twice for each one: the names present are collected once instead).
HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def _headers(response: Response) -> Response:
    h = response.headers
    present = {name.lower() for name, _value in h}
    wanted = (*HEADERS, HSTS) if request.is_secure else HEADERS
    h.extend([item for item in wanted if item[0].lower() not in present])
    return response


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths; anything else would be an open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signer made once per secret key rather than
    on every request (Flask builds a new one each time, cookie or not), and a cookie this
    process has verified kept with what it holds until it expires, so a member's next
    pages do not check its signature and decode it again (a tenth of a member's page).
    Only cookies holding plain values are kept (each request gets its own copy); the
    kept entry is found by the whole signed cookie under the same keys, so nothing is
    accepted that Flask would refuse."""

    KEEP = 4096  # cookies kept per process
    _SCALARS = (str, int, float, bool, type(None))

    def __init__(self) -> None:
        self._kept: tuple[tuple, URLSafeTimedSerializer | None] | None = None
        self._opened: dict[str, tuple[tuple, float, dict[str, Any]]] = {}

    def _keys(self, app: Flask) -> tuple:
        return (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = self._keys(app)
        kept = self._kept
        if kept is None or kept[0] != keys:
            kept = self._kept = (keys, super().get_signing_serializer(app))
        return kept[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        signer = self.get_signing_serializer(app)
        value = request.cookies.get(self.get_cookie_name(app))
        if signer is None or not value:
            return super().open_session(app, request)
        keys, now = self._keys(app), time.time()
        kept = self._opened.get(value)
        if kept is not None and kept[0] == keys and now < kept[1]:
            return self.session_class(kept[2])
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = signer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if all(isinstance(v, self._SCALARS) for v in data.values()):
            if len(self._opened) >= self.KEEP:
                self._opened.clear()
            self._opened[value] = (keys, signed_at.timestamp() + max_age, dict(data))
        return self.session_class(data)


def init_app(app: Flask) -> None:
    app.session_interface = SignedCookieSessions()
    app.after_request(_headers)
