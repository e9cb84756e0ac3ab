"""One look: every citizen page of the backend wears the static site's quick links, header, footer and 长辈版, works
without JavaScript, says 进度查询 (never 办件查询), and fits a 375 px phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.catalogue import Catalogue
from generator.render import NAV
from tests.browser import chromium, submit
from tests.conftest import backend_server, login, submit_form
from tests.factories import PASSWORD, complaint_data, make_case, make_user

PHONE = 375  # px: the narrowest phone the pages must fit
# The backend's own pages, by the label each one carries in the quick links.
FORMS = {"我要投诉": "/forms/complaint/", "我要评价": "/forms/evaluation/", "意见建议": "/forms/suggestion/",
         "进度查询": "/forms/track/"}  # fmt: skip
# The static site's pages, by the title its own navigation gives them.
SITE = ("办事指南", "搜索")


@dataclass
class Chrome:
    """What a person sees around a page's content: the quick links, the header, the footer."""

    html_class: str = ""
    quick: dict[str, str] = field(default_factory=dict)  # label -> href
    current: list[str] = field(default_factory=list)  # labels marked aria-current
    brand: tuple[str, str] | None = None  # site name, href
    switch: tuple[str, str] | None = None  # 长辈版 or 标准版, href
    footer: str = ""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chrome = Chrome()
        self.where: list[str] = []  # "quick", "footer"
        self.link: dict[str, str | None] | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.chrome.html_class = a.get("class") or ""
        elif tag == "nav" and a.get("aria-label") == "在线服务":
            self.where.append("quick")
        elif tag == "footer":
            self.where.append("footer")
        elif tag == "a":
            self.link, self.text = a, ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("nav", "footer") and self.where:
            self.where.pop()
        elif tag == "a" and self.link is not None:
            href, classes, text = self.link.get("href") or "", self.link.get("class") or "", self.text.strip()
            if "quick" in self.where:
                self.chrome.quick[text] = href
                if self.link.get("aria-current"):
                    self.chrome.current.append(text)
            elif "rs-brand" in classes:
                self.chrome.brand = (text, href)
            elif "rs-elder-switch" in classes:
                self.chrome.switch = (text, href)
            self.link = None

    def handle_data(self, data: str) -> None:
        if self.link is not None:
            self.text += data
        if "footer" in self.where:
            self.chrome.footer += data


def chrome(html: str) -> Chrome:
    reader = _Reader()
    reader.feed(html)
    return reader.chrome


def site_path(catalogue: Catalogue, title: str) -> str:
    """Where the static site puts the page its navigation calls `title` (mkdocs' directory URLs)."""
    source = dict(NAV)[title].removesuffix(".md").removesuffix("index")
    root = re.sub(r"^https?://[^/]+", "", catalogue.config.site_url)
    return root + (source + "/" if source and not source.endswith("/") else source)


def citizen_pages(client: FlaskClient, app: Flask) -> dict[str, str]:
    """Every page a citizen meets, as a browser without JavaScript gets it."""
    sessions, vault = app.extensions["sessions"], app.extensions["vault"]
    pages = {
        "complaint": client.get("/forms/complaint/").get_data(as_text=True),
        "evaluation": client.get("/forms/evaluation/?window=county-hall:1").get_data(as_text=True),
        "suggestion": client.get("/forms/suggestion/").get_data(as_text=True),
        "track": client.get("/forms/track/").get_data(as_text=True),
        "error": client.get("/forms/no-such-page/").get_data(as_text=True),
    }
    assert submit_form(client, "/forms/complaint/", complaint_data()).status_code == 303
    pages["receipt"] = client.get("/forms/complaint/done").get_data(as_text=True)
    bad = {"target": "window:county-hall:1", "level": "2", "reason": "等了很久"}
    pages["evaluation done"] = submit_form(client, "/forms/evaluation/", bad).get_data(as_text=True)
    case = make_case(sessions, vault)
    numbers = {"receipt_no": case.case.receipt_no, "query_code": case.query_code}
    pages["status"] = submit_form(client, "/forms/track/", numbers).get_data(as_text=True)
    make_user(sessions, "boss", "supervisor")
    login(client, "boss")
    pages["qr cards"] = client.get("/forms/evaluation/qr/").get_data(as_text=True)
    return pages


def test_every_citizen_page_has_the_sites_navigation(client: FlaskClient, app: Flask, catalogue: Catalogue) -> None:
    expected = {**FORMS, **{title: site_path(catalogue, title) for title in SITE}}
    assert expected["办事指南"] == "/services/" and expected["搜索"] == "/search/"
    for name, html in citizen_pages(client, app).items():
        seen = chrome(html)
        assert seen.quick == expected, name
        assert seen.brand == (catalogue.config.site_name, site_path(catalogue, "首页")), name


def test_the_site_links_lead_to_pages_the_site_has(built_site: Path, catalogue: Catalogue) -> None:
    for title in ("首页", *SITE):
        assert (built_site / site_path(catalogue, title).lstrip("/") / "index.html").is_file(), title


def test_the_page_a_citizen_is_on_is_marked(client: FlaskClient) -> None:
    for label, url in FORMS.items():
        assert chrome(client.get(url).get_data(as_text=True)).current == [label]


def test_every_citizen_page_has_the_sites_footer(client: FlaskClient, app: Flask, catalogue: Catalogue) -> None:
    agency = catalogue.agency
    wanted = [catalogue.config.copyright or agency.name, agency.address, agency.consultation_phone,
              agency.complaint_phone]  # fmt: skip
    for name, html in citizen_pages(client, app).items():
        footer = chrome(html).footer
        assert all(item in footer for item in wanted), (name, footer)


def test_nothing_says_the_old_name(client: FlaskClient, app: Flask, built_site: Path) -> None:
    for name, html in citizen_pages(client, app).items():
        assert "办件查询" not in html, name
    for page in built_site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "办件查询" not in html, page
        if page.name == "index.html" and page.parent == built_site:
            assert '<a href="/forms/track/">进度查询</a>' in html


def test_elder_version_switches_on_and_off_without_javascript(client: FlaskClient) -> None:
    url = "/forms/evaluation/?window=county-hall:1"  # a counter's QR code: the window must stay chosen
    standard = chrome(client.get(url).get_data(as_text=True))
    assert "rs-elder" not in standard.html_class and standard.switch is not None and standard.switch[0] == "长辈版"
    on = client.get(standard.switch[1])
    assert on.status_code == 303 and on.location == url
    assert "rs-elder=1" in on.headers["Set-Cookie"] and "Path=/" in on.headers["Set-Cookie"]
    for page in (url, "/forms/track/", "/forms/no-such-page/"):  # every page after it, until switched off
        html = client.get(page).get_data(as_text=True)
        assert "rs-elder" in chrome(html).html_class, page
    elder = chrome(client.get(url).get_data(as_text=True))
    assert elder.switch is not None and elder.switch[0] == "标准版"
    assert '<option selected value="window:county-hall:1">' in client.get(url).get_data(as_text=True)
    off = client.get(elder.switch[1])
    assert off.status_code == 303 and off.location == url
    assert "rs-elder" not in chrome(client.get(url).get_data(as_text=True)).html_class


def test_the_static_site_may_use_the_switch_too(client: FlaskClient) -> None:
    """A link on the site can send a citizen through the switch and back to the page they were reading."""
    response = client.get("/forms/elder?on=1&next=/services/JY-001/")
    assert response.status_code == 303 and response.location == "/services/JY-001/"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example/", "", "services/"])
def test_the_switch_never_leads_off_the_site(client: FlaskClient, target: str) -> None:
    response = client.get("/forms/elder", query_string={"on": "1", "next": target})
    assert response.status_code == 303 and response.location == "/"


def test_pages_shown_once_keep_their_content(client: FlaskClient, app: Flask) -> None:
    """Leaving the receipt (or a page that answered a form) to switch would lose it: no switch there, but the
    version chosen before still applies."""
    client.set_cookie("rs-elder", "1")
    pages = citizen_pages(client, app)
    for name in ("receipt", "evaluation done", "status"):
        seen = chrome(pages[name])
        assert seen.switch is None and "rs-elder" in seen.html_class, name
    for name in ("complaint", "evaluation", "suggestion", "track", "error", "qr cards"):
        assert chrome(pages[name]).switch is not None, name


# ------------------------------------------------------------------ 375 px, in Chromium
@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The backend alone on SQLite, served by werkzeug in a thread, with a case to look up and a supervisor."""
    with backend_server(tmp_path_factory.mktemp("look"), PORTAL_RATELIMIT_PUBLIC="100 per minute") as (base, app):
        sessions, vault = app.extensions["sessions"], app.extensions["vault"]
        make_user(sessions, "boss", "supervisor")
        yield {"base": base, "case": make_case(sessions, vault)}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium; skipped when it is missing, unless PORTAL_REQUIRE_BROWSER=1 (then the test fails)."""
    yield from chromium(axe=False)


def _walk(page: Any, base: str, case: Any) -> Iterator[str]:
    """Each citizen page in turn, in the state a person meets it; yields its label once it is showing."""
    for label, path in (("complaint", "/forms/complaint/"), ("evaluation", "/forms/evaluation/?window=county-hall:1"),
                        ("suggestion", "/forms/suggestion/"), ("track", "/forms/track/"),
                        ("error", "/forms/no-such-page/")):  # fmt: skip
        page.goto(base + path)
        yield label
    page.goto(base + "/forms/complaint/")
    submit(page, {"target": "other", "consent": "y"})
    yield "complaint, with errors"
    page.goto(base + "/forms/complaint/")
    submit(page, {"target": "window:county-hall:1", "matter": "排队两小时无人办理", "name": "张三",
                   "phone": "13812345678", "consent": "y"})  # fmt: skip
    yield "receipt"
    page.goto(base + "/forms/evaluation/?window=county-hall:1")
    submit(page, {"level": "2", "reason": "等了很久"})
    yield "evaluation done"
    page.goto(base + "/forms/track/")
    submit(page, {"receipt_no": case.case.receipt_no, "query_code": case.query_code})
    yield "status"
    page.goto(base + "/staff/login")
    submit(page, {"username": "boss", "password": PASSWORD})
    page.goto(base + "/forms/evaluation/qr/")
    yield "qr cards"


@pytest.mark.parametrize("version", ["标准版", "长辈版"])
def test_no_citizen_page_is_wider_than_a_phone(live: dict[str, Any], browser: Any, version: str) -> None:
    context = browser.new_context(viewport={"width": PHONE, "height": 740}, java_script_enabled=False, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    if version == "长辈版":  # switched on the way a citizen does it: the link in the header, JavaScript off
        page.goto(live["base"] + "/forms/track/")
        page.click(".rs-elder-switch")
    too_wide = {}
    for label in _walk(page, live["base"], live["case"]):
        width, html_class = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.className]")
        assert ("rs-elder" in html_class) == (version == "长辈版"), label
        if width > PHONE:
            too_wide[label] = width
    context.close()
    assert too_wide == {}, f"wider than {PHONE} px ({version}): {too_wide}"
