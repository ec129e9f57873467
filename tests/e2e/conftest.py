"""A live hub on a free port and headless Chromium (Debian's, never a download)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def _port() -> int:
    return _free_port()


@pytest.fixture
def app_config(app_config: dict[str, Any], _port: int) -> dict[str, Any]:
    return {**app_config, "HUB_BASE_URL": f"http://127.0.0.1:{_port}"}


@pytest.fixture
def live_server(app, _port: int) -> Iterator[str]:
    server = make_server("127.0.0.1", _port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def _playwright() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {CHROMIUM}; CI must run the browser tests")
        pytest.skip("Chromium is not installed (Debian packages chromium, chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def chromium(_playwright: Any) -> Iterator[Any]:
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _axe_script() -> str:
    """axe-core's axe.min.js, as the pinned axe-playwright-python package ships it."""
    from pathlib import Path

    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


@pytest.fixture(scope="session")
def axe_violations() -> Any:
    """`axe_violations(page)`: axe-core's WCAG 2.1 A/AA violations on the page, as
    "rule: target" lines (empty: clean)."""
    script = _axe_script()

    def check(page: Any) -> list[str]:
        page.add_script_tag(content=script)
        found = page.evaluate("""async () => {
            const r = await axe.run(document, {runOnly: {type: "tag",
                values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}});
            return r.violations.map(v => v.id + ": " +
                v.nodes.map(n => n.target.join(" ")).slice(0, 3).join(", "));
        }""")
        return list(found)

    return check
