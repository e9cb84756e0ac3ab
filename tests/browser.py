"""What the browser tests share: Debian's Chromium and npm's axe-core, launched or skipped by one policy, a
built site on a static server, and filling a form like a person."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
REQUIRED = os.environ.get("PORTAL_REQUIRE_BROWSER") == "1"  # set by .ci/run and `make a11y`: missing tools fail
TOOLS = {f"Debian chromium ({CHROMIUM}: apt-get install chromium)": Path(CHROMIUM),
         "axe-core (node_modules/axe-core/axe.min.js: npm ci)": AXE}  # fmt: skip
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# WCAG 2.1 still has 4.1.1 Parsing (unique ids); axe files its two id rules under 'wcag2a-obsolete' since WCAG 2.2
# dropped it and leaves them off, so they are switched on here (axe's documented runOnly + rules combination).
WCAG21_PARSING = ["duplicate-id", "duplicate-id-active"]


def missing(axe: bool = True) -> list[str]:
    """The tools a browser test needs that this machine lacks."""
    return [what for what, path in TOOLS.items() if not path.exists() and (axe or path != AXE)]


def chromium(axe: bool = True) -> Iterator[Any]:
    """Chromium for a module's `browser` fixture: skipped when a tool is missing, unless PORTAL_REQUIRE_BROWSER=1
    (then the test fails, a missing Playwright included)."""
    lacking = missing(axe)
    if lacking and not REQUIRED:
        pytest.skip(" and ".join(lacking) + " not installed")
    assert not lacking, " and ".join(lacking) + " not installed (PORTAL_REQUIRE_BROWSER=1)"
    sync_api = __import__("playwright.sync_api").sync_api if REQUIRED else pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


@contextmanager
def serve_site(directory: Path) -> Iterator[str]:
    """A folder on a static server of its own (portal serve's handler, quiet): its address, ending in /."""
    from portal.serve import SiteHandler

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SiteHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def submit(page: Any, fields: dict[str, str] | None = None, form: str = "main form") -> int:
    """Fill a form (select boxes by value, check boxes by 'y') and submit it; returns the response status."""
    target = page.locator(form).first
    for name, value in (fields or {}).items():
        box = target.locator(f"[name={name}]").first
        kind = box.evaluate("e => e.tagName + ':' + e.type")
        if kind.startswith("SELECT"):
            box.select_option(value)
        elif kind.endswith("checkbox"):
            box.check()
        elif kind.endswith("radio"):
            target.locator(f"[name={name}][value='{value}']").check()
        else:
            box.fill(value)
    with page.expect_navigation() as nav:
        target.locator("button[type=submit]").last.click()
    response = nav.value
    return response.status if response else 0
