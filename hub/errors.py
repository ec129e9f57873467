"""Exceptions that services raise and views turn into pages or JSON errors."""

from __future__ import annotations


class HubError(Exception):
    """A refused action. `code` is stable (API clients read it), `message` is for people."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class NotAuthenticated(HubError):
    status = 401
    code = "unauthorized"


class Forbidden(HubError):
    status = 403
    code = "forbidden"


class NotFound(HubError):
    status = 404
    code = "not_found"


class Conflict(HubError):
    status = 409
    code = "conflict"


class Invalid(HubError):
    status = 422
    code = "invalid"


class StorageFull(HubError):
    """The disk (or quota) for uploads is full: nothing was kept, try again later."""

    status = 507
    code = "insufficient_storage"
