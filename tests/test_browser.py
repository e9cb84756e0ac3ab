"""In headless Chromium: Chinese search, sub-path hosting, one-page print sheet, no third-party request."""

from __future__ import annotations

import functools
import os
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from core.catalogue import Catalogue
from portal.serve import SiteHandler

CHROMIUM = "/usr/bin/chromium"
REQUIRED = os.environ.get("PORTAL_REQUIRE_BROWSER") == "1"  # set by .ci/run: missing browser fails
if not Path(CHROMIUM).exists() and not REQUIRED:
    pytest.skip("Debian chromium is not installed (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api") if not REQUIRED else __import__("playwright.sync_api").sync_api
PREFIX = "/portal/"


@pytest.fixture(scope="module")
def base_url(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built site served under a sub-path, as on a shared intranet host."""
    root = tmp_path_factory.mktemp("host")
    shutil.copytree(built_site, root / PREFIX.strip("/"))
    (root / "index.html").write_text("host root", encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SiteHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        args = ["--no-sandbox", "--headless", "--disable-background-networking", "--disable-gpu"]
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object, base_url: str) -> Iterator[object]:
    context = browser.new_context()  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.outside = []
    tab.on("request", lambda r: tab.outside.append(r.url) if not r.url.startswith(base_url[:22]) else None)
    yield tab
    context.close()


def _search(page: object, base_url: str, query: str) -> set[str]:
    """Ask Pagefind directly, as its UI does, and return the URLs of every result."""
    page.goto(f"{base_url}search/")  # type: ignore[attr-defined]
    script = """async (q) => {
        const pf = await import(new URL('../pagefind/pagefind.js', location.href).href);
        const found = await pf.search(q);
        const data = await Promise.all(found.results.map(r => r.data()));
        return data.map(d => d.url);
    }"""
    return set(page.evaluate(script, query))  # type: ignore[attr-defined]


def _codes(urls: set[str]) -> set[str]:
    return {m.group(1) for u in urls if (m := re.search(r"/services/([A-Z]{2}-\d+)/", u))}


def test_search_finds_words_inside_titles(page: object, base_url: str, catalogue: Catalogue) -> None:
    codes = _codes(_search(page, base_url, "登记"))
    names = {s.code: s.name for s in catalogue.services}
    found = {names[c] for c in codes}
    assert {"失业登记", "求职登记", "灵活就业登记"} <= found


def test_search_finds_words_inside_materials(page: object, base_url: str, catalogue: Catalogue) -> None:
    expected = {s.code for s in catalogue.services if any("居民身份证" in x.name for x in s.materials)}
    assert len(expected) >= 5
    assert expected <= _codes(_search(page, base_url, "身份证"))


def test_search_page_shows_results_from_the_home_form(page: object, base_url: str) -> None:
    page.goto(base_url)  # type: ignore[attr-defined]
    page.fill("#rs-q", "失业登记")  # type: ignore[attr-defined]
    page.click(".rs-search button")  # type: ignore[attr-defined]
    page.wait_for_selector(".pagefind-ui__result-link", timeout=15000)  # type: ignore[attr-defined]
    titles = page.locator(".pagefind-ui__result-link").all_inner_texts()  # type: ignore[attr-defined]
    assert any("失业登记" in t for t in titles)
    assert page.outside == []  # type: ignore[attr-defined]


def test_pages_under_a_sub_path_load_all_assets(page: object, base_url: str) -> None:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)  # type: ignore[attr-defined]
    for path in ("", "services/JY-001/", "windows/", "disclosure/", "notices/archive/"):
        page.goto(base_url + path)  # type: ignore[attr-defined]
    assert failed == [] and page.outside == []  # type: ignore[attr-defined]
    assert page.locator("link[rel=stylesheet]").count() >= 2  # type: ignore[attr-defined]


def test_one_time_notice_prints_on_one_a4_page(page: object, base_url: str, catalogue: Catalogue) -> None:
    for service in catalogue.services:
        page.goto(f"{base_url}services/{service.code}/")  # type: ignore[attr-defined]
        pdf = page.pdf(format="A4", prefer_css_page_size=True)  # type: ignore[attr-defined]
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert pages == 1, f"{service.code} prints on {pages} pages"
