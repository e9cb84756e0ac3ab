"""Search on the built site: what citizens type finds the right guide in the real Pagefind index, in Chromium.

The browser matters: Pagefind cuts a Chinese query into words with the browser's own segmenter (参保证明 →
参|保证|明), not with the one that built the index, so only a real browser shows what citizens get.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from core.catalogue import Catalogue
from tests.browser import chromium, serve_site

TOP = 3

# (what a citizen types, the guide that must be among the first three results)
QUERIES = [
    ("参保证明", "SB-010"),
    ("社保证明", "SB-010"),
    ("打印社保缴费记录", "SB-010"),
    ("社保卡丢了", "SB-009"),
    ("补办社保卡", "SB-009"),
    ("社保卡补办", "SB-009"),
    ("换社保卡", "SB-009"),
    ("社保卡挂失", "SB-009"),
    ("退休", "SB-005"),
    ("退休手续", "SB-005"),
    ("办理退休", "SB-005"),
    ("领养老金", "SB-005"),
    ("失业金", "SB-006"),
    ("失业补助", "SB-006"),
    ("工伤", "SB-007"),
    ("工伤鉴定", "SB-007"),
    ("上班受伤", "SB-007"),
    ("工伤报销", "SB-008"),
    ("仲裁", "LD-001"),
    ("劳动仲裁", "LD-001"),
    ("被辞退赔偿", "LD-001"),
    ("讨薪", "LD-002"),
    ("欠工资", "LD-002"),
    ("老板拖欠工资", "LD-002"),
    ("创业贷款", "JY-009"),
    ("贴息贷款", "JY-009"),
    ("就业困难", "JY-002"),
    ("灵活就业交社保", "SB-002"),
    ("个体户交社保", "SB-002"),
    ("转社保", "SB-004"),
    ("社保转移", "SB-004"),
    ("养老保险转移", "SB-004"),
    ("单位交社保", "SB-001"),
    ("新农保", "SB-003"),
    ("农村养老保险", "SB-003"),
    ("失业证", "JY-001"),
    ("找工作", "JY-007"),
    ("招工", "JY-003"),
    ("发布招聘信息", "JY-008"),
    ("公益性岗位", "JY-006"),
    ("零就业", "JY-005"),
    ("社保补贴", "JY-013"),
    ("培训补贴", "JY-014"),
    ("SYB", "JY-015"),
    ("个体户减税", "JY-011"),
    ("企业招用失业人员减税", "JY-010"),
    ("用工调查", "JY-004"),
    ("灵活就业", "JY-012"),
    ("社会保障卡", "SB-009"),
    ("权益记录", "SB-010"),
    ("关系转移", "SB-004"),
]

# Every query of a list in one call; the first few results of each as URLs, best first.
SEARCH = """async ([queries, top]) => {
    const pagefind = await import('/pagefind/pagefind.js');
    const found = {};
    for (const query of queries) {
        const search = await pagefind.search(query);
        found[query] = (await Promise.all(search.results.slice(0, top).map((r) => r.data()))).map((d) => d.url);
    }
    return found;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module (Playwright's sync API cannot be started twice at once)."""
    yield from chromium(axe=False)


@contextmanager
def _search_page(browser: Any, site: Path, query: str = "") -> Iterator[Any]:
    """A built site on a static server, and a tab on its search page (searching `query`, if given)."""
    with serve_site(site) as base:
        context = browser.new_context(locale="zh-CN")
        try:
            page = context.new_page()
            page.goto(base + "search/" + (f"?q={query}" if query else ""))
            yield page
        finally:
            context.close()


@pytest.fixture(scope="module")
def site_page(browser: Any, built_site: Path) -> Iterator[Any]:
    """The shipped site's search page."""
    with _search_page(browser, built_site) as page:
        yield page


def _guide(url: str) -> str:
    """/services/SB-010/ → SB-010; any other page stays its URL."""
    parts = url.strip("/").split("/")
    return parts[1] if len(parts) == 2 and parts[0] == "services" else url


def _search(page: Any, queries: list[str], top: int = TOP) -> dict[str, list[str]]:
    found: dict[str, list[str]] = page.evaluate(SEARCH, [queries, top])
    return {query: [_guide(url) for url in urls] for query, urls in found.items()}


@pytest.fixture(scope="module")
def ranked(site_page: Any) -> dict[str, list[str]]:
    """The table's queries, searched once."""
    return _search(site_page, [query for query, _ in QUERIES])


@pytest.mark.parametrize(("query", "code"), QUERIES, ids=[query for query, _ in QUERIES])
def test_what_citizens_type_finds_the_guide_in_the_top_three(
    ranked: dict[str, list[str]], query: str, code: str
) -> None:
    assert code in ranked[query], f"「{query}」: {ranked[query]}"


def test_the_table_covers_every_shipped_guide(catalogue: Catalogue) -> None:
    assert {code for _, code in QUERIES} == {s.code for s in catalogue.services}


def test_a_guides_full_name_puts_it_first(site_page: Any, catalogue: Catalogue) -> None:
    names = {s.name: s.code for s in catalogue.services}
    found = _search(site_page, list(names), top=1)
    assert {name: found[name][:1] for name in names} == {name: [code] for name, code in names.items()}


def test_the_search_page_does_not_show_the_keyword_metadata(site_page: Any) -> None:
    page = site_page.context.new_page()
    page.goto(site_page.url + "?q=参保证明")
    page.wait_for_selector(".pagefind-ui__result-link", timeout=15_000)
    results = page.locator(".pagefind-ui__results").inner_text()
    assert "个人权益记录查询打印" in results
    assert "Keywords" not in results
    assert "保缴费证明" not in results  # a suffix of the 别名 社保缴费证明
    page.close()


# ------------------------------------------------------------------ a large site: several bundles
ALL = """async ([queries, shards]) => {
    const pagefind = await import('/pagefind/pagefind.js');
    for (const shard of shards) await pagefind.mergeIndex('/pagefind/' + shard);
    const found = {};
    for (const query of queries) {
        const search = await pagefind.search(query);
        found[query] = (await Promise.all(search.results.map((r) => r.data()))).map((d) => d.url).sort();
    }
    return found;
}"""


@pytest.fixture(scope="module")
def sharded_site(tmp_path_factory: pytest.TempPathFactory, catalogue: Catalogue) -> Path:
    """The shipped content indexed as a large site is: in bundles of 20 pages (generator/search_index.py)."""
    from generator import pipeline, search_index
    from tests.conftest import TODAY

    out = tmp_path_factory.mktemp("sharded") / "site"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_index, "SHARD_PAGES", 20)
        pipeline.build_site(catalogue, out, TODAY)
    return out


def _everything(browser: Any, site: Path, queries: list[str]) -> dict[str, list[str]]:
    """Every result of each query on `site`, its extra bundles merged as the search page merges them."""
    shards = json.loads((site / "pagefind/shards.json").read_text(encoding="utf-8"))
    with _search_page(browser, site) as page:
        found: dict[str, list[str]] = page.evaluate(ALL, [queries, shards])
    return found


def test_a_site_in_several_bundles_finds_what_one_bundle_finds(
    browser: Any, sharded_site: Path, built_site: Path
) -> None:
    shards = json.loads((sharded_site / "pagefind/shards.json").read_text(encoding="utf-8"))
    assert shards == ["shard-1/", "shard-2/"]  # 54 pages in bundles of at most 20: three
    assert json.loads((built_site / "pagefind/shards.json").read_text(encoding="utf-8")) == []
    queries = ["登记", "社保卡丢了", "仲裁", "工伤", "身份证"]
    assert _everything(browser, sharded_site, queries) == _everything(browser, built_site, queries)


def test_the_search_page_merges_the_bundles(browser: Any, sharded_site: Path, catalogue: Catalogue) -> None:
    from generator.search_index import _shards

    last = {p.as_posix() for p in _shards(sharded_site, 20)[-1]}
    guide = next(s for s in catalogue.services if f"services/{s.code}/index.html" in last)  # not in the first
    with _search_page(browser, sharded_site, guide.name) as page:
        page.wait_for_selector(".pagefind-ui__result-link", timeout=15_000)
        links = page.locator(".pagefind-ui__result-link").evaluate_all("(a) => a.map((x) => x.href)")
    assert any(f"/services/{guide.code}/" in link for link in links), links
