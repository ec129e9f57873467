"""Links that work with or without a request: the posting path also runs in the worker
and the mail gateway, where there is no request to build URLs from. Imports `hub` only."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for


def path(endpoint: str, **values: Any) -> str:
    """A site-relative URL (for stored HTML and redirects)."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return url_for(endpoint, **values)


def absolute(endpoint: str, **values: Any) -> str:
    """An absolute URL on HUB_BASE_URL (for email)."""
    return current_app.config["HUB_BASE_URL"] + path(endpoint, **values)
