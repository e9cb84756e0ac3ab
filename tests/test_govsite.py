"""A Chinese government site: the footer's items on every page (the backend's too), 网站地图, 联系我们 and 隐私声明,
the 找错 link; and in Chromium, every page type of the site in 标准版 and 长辈版, with JavaScript on and off,
has no WCAG 2.1 AA violation (axe-core) and is no wider than a 375 px phone."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from flask.testing import FlaskClient

from core.catalogue import Catalogue
from generator import pipeline
from generator.render import NAV
from tests.browser import AXE, TAGS, WCAG21_PARSING, chromium, serve_site
from tests.conftest import ROOT, TODAY

PHONE, DESKTOP = 375, 1280  # px
ELDER_FONT, STANDARD_FONT = "25px", "20px"  # the root font size: Material's 125 %, 长辈版 156.25 %
ICP_LOOKUP, POLICE_LOOKUP = "https://beian.miit.gov.cn/", "https://beian.mps.gov.cn/#/query/webSearch?code="


@dataclass
class Footer:
    """What a page's footer shows: its text, its links (text -> href) and its images (alt -> src)."""

    text: str = ""
    links: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)


class _FooterReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.footer, self.depth, self.href, self.link = Footer(), 0, "", ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "footer":
            self.depth += 1
        elif self.depth and tag == "a":
            self.href, self.link = a.get("href", ""), ""
        elif self.depth and tag == "img":
            self.footer.images[a.get("alt", "")] = a.get("src", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "footer":
            self.depth -= 1
        elif self.depth and tag == "a":
            self.footer.links[self.link.strip()] = self.href

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.footer.text += data
            self.link += data


def footer(html: str) -> Footer:
    reader = _FooterReader()
    reader.feed(html)
    return reader.footer


def page_types(catalogue: Catalogue) -> dict[str, str]:
    """One page of each kind the site has, by label: its path in the built site (mkdocs' directory URLs)."""
    stems = {title: source.removesuffix(".md").removesuffix("index") for title, source in NAV}
    return {
        **{title: stem if stem == "" or stem.endswith("/") else stem + "/" for title, stem in stems.items()},
        "事项": f"services/{catalogue.services[0].code}/",
        "类别": f"categories/{catalogue.config.categories[0].id}/",
        "办公场所页": f"offices/{catalogue.offices[0].id}/",
        "公告": f"notices/{catalogue.notices[0].id}/",
        "历史公告": "notices/archive/",
        "网站地图": "sitemap/",
        "联系我们": "contact/",
        "隐私声明": "privacy/",
        "404": "404.html",
    }


def footer_texts(catalogue: Catalogue) -> list[str]:
    """The footer's plain-text items from the shipped site_config.yml."""
    config = catalogue.config
    return [f"主办单位：{config.organizer}", f"承办单位：{config.undertaker}", f"网站标识码：{config.site_code}"]


def html_of(site: Path, path: str) -> str:
    return (site / (path if path.endswith(".html") else path + "index.html")).read_text(encoding="utf-8")


# ------------------------------------------------------------------ the built pages
def test_every_page_type_has_the_government_footer(built_site: Path, catalogue: Catalogue) -> None:
    config = catalogue.config
    assert config.site_code and config.icp and config.police_record and config.gov_badge  # the shipped sample
    digits = re.sub(r"\D", "", config.police_record)
    for label, path in page_types(catalogue).items():
        seen = footer(html_of(built_site, path))
        for item in footer_texts(catalogue):
            assert item in seen.text, (label, item)
        assert seen.links[config.icp] == ICP_LOOKUP, label
        assert seen.links[config.police_record] == POLICE_LOOKUP + digits, label
        assert seen.links["我为政府网站找错"] == config.forms.suggestion, label
        badge = seen.images["党政机关网站标识"]
        assert not urlsplit(badge).netloc, label  # from this site: no third-party request
        base = f"http://site.test/{path}"
        assert urljoin(base, badge) == f"http://site.test/{config.gov_badge}", label
        assert (built_site / config.gov_badge).is_file()
        for title, target in (("网站地图", "sitemap/"), ("联系我们", "contact/"), ("隐私声明", "privacy/")):
            assert urljoin(base, seen.links[title]) == f"http://site.test/{target}", (label, title)


def test_the_organizer_defaults_to_the_agency_and_unset_items_are_left_out(project: Path, catalogue: Catalogue) -> None:
    config = project / "site_config.yml"
    text = config.read_text(encoding="utf-8")
    kept = "\n".join(line for line in text.splitlines() if not line.startswith(("organizer:", "undertaker:",
                     "site_code:", "icp:", "police_record:", "gov_badge:")))  # fmt: skip
    config.write_text(kept + "\n", encoding="utf-8")
    out = project / "site"
    pipeline.build(project / "content", config, out, TODAY)
    seen = footer(html_of(out, ""))
    assert f"主办单位：{catalogue.agency.name}" in seen.text
    assert "承办单位" not in seen.text and "网站标识码" not in seen.text and seen.images == {}
    assert not any("备" in text for text in seen.links)
    assert seen.links["我为政府网站找错"] == catalogue.config.forms.suggestion


def test_a_badge_from_another_site_is_refused(
    edit: Callable[[str, str, str], Path], check: Callable[[], pipeline.CheckResult]
) -> None:
    edit("site_config.yml", "gov_badge: assets/images/gov-badge-sample.svg", "gov_badge: https://cdn.example/b.png")
    errors = check().errors
    assert any(p.path.name == "site_config.yml" and "gov_badge（党政机关网站标识）" in p.message for p in errors)


def _links(site: Path, path: str) -> set[str]:
    """Every page a page links to, as site paths ("services/JY-001/")."""
    base = f"http://site.test/{path}"
    found = set()
    for href in re.findall(r'<a [^>]*href="([^"#]*)', html_of(site, path)):
        url = urlsplit(urljoin(base, href))
        if url.netloc == "site.test":
            found.add(url.path.lstrip("/"))
    return found


def test_the_sitemap_lists_every_page_of_the_site(built_site: Path, catalogue: Catalogue) -> None:
    pages = {
        str(PurePosixPath(p.relative_to(built_site).parent)) + "/"
        for p in built_site.rglob("index.html")
        if "pagefind" not in p.parts
    }
    pages = {"" if p == "./" else p for p in pages}
    assert {"sitemap/", "contact/", "privacy/"} <= pages
    listed = _links(built_site, "sitemap/")
    assert pages - listed == set()
    assert len([p for p in listed if p.startswith("services/") and p != "services/"]) == len(catalogue.services)


def test_contact_page_has_the_agencys_addresses_and_phones(built_site: Path, catalogue: Catalogue) -> None:
    html = html_of(built_site, "contact/")
    agency = catalogue.agency
    for item in (agency.name, agency.address, agency.consultation_phone, agency.complaint_phone,
                 agency.supervisory_body, agency.supervisory_phone, *(o.phone for o in catalogue.offices)):  # fmt: skip
        assert item in html, item
    assert f'href="{catalogue.config.forms.suggestion}"' in html


def test_privacy_page_says_what_is_kept_why_how_long_and_how_to_ask(built_site: Path, catalogue: Catalogue) -> None:
    html = html_of(built_site, "privacy/")
    for heading in ("浏览网站", "在线办事时收集的信息", "谁能看到", "保存多久", "查询、更正和删除"):
        assert f">{heading}</h2>" in html, heading
    for item in ("身份证号", "联系电话", "用途", "加密保存", "rs-elder", f"{catalogue.config.retention_days} 天",
                 catalogue.agency.consultation_phone, catalogue.agency.supervisory_body):  # fmt: skip
        assert item in html, item


def test_phone_tables_keep_every_column(built_site: Path, catalogue: Catalogue) -> None:
    """Tables of up to eight columns become labelled cards on a phone, so every cell carries its column's name;
    the 政务公开 matrix scrolls in a named, focusable region with a hint."""
    service = html_of(built_site, f"services/{catalogue.services[0].code}/")
    materials = re.search(r'<div class="rs-table rs-table--cards"><table>.*?材料名称.*?</table>', service, re.S)
    assert materials is not None
    cells = re.findall(r"<td\b[^>]*>", materials.group(0))
    assert cells and all("data-label=" in c for c in cells)
    assert 'data-label="来源"' in materials.group(0) and 'data-label="备注"' in materials.group(0)
    matrix = html_of(built_site, "disclosure/")
    assert re.search(r'rs-table--wide.*?rs-table__hint.*?role="region" aria-label="[^"]+" tabindex="0"', matrix, re.S)


# ------------------------------------------------------------------ the backend's footer
def test_the_backend_pages_have_the_same_footer(client: FlaskClient, catalogue: Catalogue) -> None:
    config = catalogue.config
    for url in ("/forms/complaint/", "/forms/evaluation/", "/forms/suggestion/", "/forms/track/"):
        seen = footer(client.get(url).get_data(as_text=True))
        for item in footer_texts(catalogue):
            assert item in seen.text, (url, item)
        assert seen.links[config.icp] == ICP_LOOKUP
        assert seen.links[config.police_record] == POLICE_LOOKUP + re.sub(r"\D", "", config.police_record)
        assert seen.images["党政机关网站标识"] == "/" + str(config.gov_badge)
        assert (seen.links["网站地图"], seen.links["联系我们"], seen.links["隐私声明"]) == (
            "/sitemap/", "/contact/", "/privacy/")  # fmt: skip
        zhaocuo = client.get(seen.links["我为政府网站找错"])
        assert zhaocuo.status_code == 200 and "<h1>意见建议</h1>" in zhaocuo.get_data(as_text=True)


# ------------------------------------------------------------------ in Chromium
# JavaScript off: the pages are served without their <script> elements, which is the page a browser with scripting
# disabled shows (Material leaves the html element's no-js class); axe-core itself needs scripting, so it is
# evaluated into that page by the test.
RUN_AXE = """async ([tags, extra]) => {
    const rules = Object.fromEntries(extra.map((id) => [id, {enabled: true}]));
    const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, rules, resultTypes: ['violations']});
    const where = (v) => v.nodes.map((n) => n.target.join(' ')).join(', ');
    return r.violations.map((v) => `${v.id} (${v.impact}) ${v.help}: ${where(v)}`);
}"""
# A card cell wider than the phone, or a wide table whose scroller is not what scrolls, would hide a column.
HIDDEN_CELLS = """(w) => [...document.querySelectorAll('.rs-table--cards td')]
    .filter((td) => td.textContent.trim() && (td.getBoundingClientRect().right > w + 0.5 || !td.offsetParent))
    .map((td) => td.dataset.label)"""
SCRIPT = re.compile(rb"<script\b[^>]*>.*?</script>", re.S)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The shipped content with a month of statistics (so 服务评价公示 has charts), built and served over HTTP."""
    root = tmp_path_factory.mktemp("govsite")
    shutil.copytree(ROOT / "content", root / "content")
    shutil.copy(ROOT / "tests" / "data" / "stats.json", root / "content" / "stats.json")
    pipeline.build(root / "content", ROOT / "site_config.yml", root / "site", TODAY)
    with serve_site(root / "site") as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium()


def _without_scripts(route: Any) -> None:
    response = route.fetch()
    route.fulfill(response=response, body=SCRIPT.sub(b"", response.body()))


def _tab(browser: Any, base: str, javascript: bool, elder: bool, width: int = PHONE) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="zh-CN")
    context.set_default_timeout(10_000)
    if not javascript:
        context.route(re.compile(r"(/|\.html)$"), _without_scripts)
        context.route(re.compile(r"\.js$"), lambda route: route.abort())
    elif elder:  # what /forms/elder (or the switch on any page) leaves behind
        context.add_cookies([{"name": "rs-elder", "value": "1", "url": base}])
    return context.new_page()


MODES = [(True, False), (True, True), (False, False), (False, True)]


def test_every_page_type_passes_axe_and_fits_a_phone_in_both_versions(
    browser: Any, site: str, catalogue: Catalogue
) -> None:
    started, axe, failures, checked = time.monotonic(), AXE.read_text(encoding="utf-8"), [], 0
    requested: set[str] = set()
    for javascript, elder in MODES:
        mode = f"{'长辈版' if elder else '标准版'}, JavaScript {'on' if javascript else 'off'}"
        page = _tab(browser, site, javascript, elder)
        page.on("request", lambda r: requested.add(urlsplit(r.url).netloc))
        for label, path in page_types(catalogue).items():
            page.goto(site + path + ("#rs-elder" if elder and not javascript else ""))
            font = page.evaluate("getComputedStyle(document.documentElement).fontSize")
            assert font == (ELDER_FONT if elder else STANDARD_FONT), (mode, label, font)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE:
                failures.append(f"{mode} {label}: {width} px wide at {PHONE} px")
            if hidden := page.evaluate(HIDDEN_CELLS, PHONE):
                failures.append(f"{mode} {label}: table cells out of sight: {hidden}")
            page.evaluate(axe + ";0")
            failures += [f"{mode} {label}: {v}" for v in page.evaluate(RUN_AXE, [TAGS, WCAG21_PARSING])]
            checked += 1
        page.context.close()
    print(f"\n{checked} pages checked (axe-core, {PHONE} px) in {time.monotonic() - started:.1f}s")
    assert not failures, "\n".join(failures)
    assert requested == {urlsplit(site).netloc}  # no third-party request, the 备案 links included


@pytest.mark.parametrize("elder", [False, True], ids=["标准版", "长辈版"])
def test_the_disclosure_matrix_fits_a_desktop(browser: Any, site: str, elder: bool) -> None:
    page = _tab(browser, site, True, elder, DESKTOP)
    page.goto(site + "disclosure/")
    tables = page.locator(".rs-table__scroll").all()
    assert len(tables) == 2  # 八公开 and 九公开
    assert all(t.evaluate("(e) => e.scrollWidth <= e.clientWidth") for t in tables)
    assert all(hint.is_hidden() for hint in page.locator(".rs-table__hint").all())
    page.set_viewport_size({"width": PHONE, "height": 800})
    page.wait_for_function("![...document.querySelectorAll('.rs-table--wide')].some(t => t.matches('.rs-table--fits'))")
    assert all(
        hint.is_visible() for hint in page.locator(".rs-table__hint").all()
    )  # on a phone they scroll, and say so
    page.context.close()


def test_the_switch_is_remembered_with_javascript_and_works_without(browser: Any, site: str) -> None:
    page = _tab(browser, site, True, False)
    page.goto(site + "services/")
    page.get_by_role("link", name="长辈版").click()
    cookie = next(c for c in page.context.cookies() if c["name"] == "rs-elder")
    assert (cookie["value"], cookie["path"]) == ("1", "/") and cookie["expires"] > time.time() + 300 * 86400
    page.goto(site + "about/")  # another page: still 长辈版, from the cookie the backend shares
    assert page.evaluate("document.documentElement.classList.contains('rs-elder')")
    page.get_by_role("link", name="标准版").click()
    assert not page.evaluate("document.documentElement.classList.contains('rs-elder')")
    assert all(c["name"] != "rs-elder" for c in page.context.cookies())
    page.context.close()

    page = _tab(browser, site, False, False)
    page.goto(site + "services/")
    page.get_by_role("link", name="长辈版").click()
    assert page.url.endswith("/services/#rs-elder")
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == ELDER_FONT
    page.get_by_role("link", name="标准版").click()
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == STANDARD_FONT
    page.context.close()
