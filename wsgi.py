"""The WSGI entry point for gunicorn and other servers: `wsgi:app`."""

from __future__ import annotations

from hub import create_app

app = create_app()
