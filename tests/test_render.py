"""Rendering: escaping of editors' text, structured data, and golden pages from the shipped content."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from core.catalogue import Catalogue
from generator import render
from tests.conftest import TODAY

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_PAGES = [
    "docs/index.md",
    "docs/services/JY-001.md",
    "docs/time-limits.md",
    "docs/windows.md",
    # The lists of every guide, made of kept pieces in a preview (render.py `rows`):
    "docs/categories/jiuye.md",
    "docs/services/index.md",
    "docs/offices/county-hall.md",
    "docs/downloads.md",
    "docs/sitemap.md",
    "docs/disclosure.md",
]


@pytest.fixture(scope="module")
def pages(catalogue: Catalogue) -> dict[str, str]:
    return dict(render.iter_site(catalogue, TODAY))


@pytest.mark.parametrize("name", GOLDEN_PAGES)
def test_golden_pages(pages: dict[str, str], name: str, request: pytest.FixtureRequest) -> None:
    """Regenerate with `make goldens` (pytest --update-goldens) after an intended change."""
    path = GOLDEN / name.removeprefix("docs/")
    if request.config.getoption("--update-goldens"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(pages[name], encoding="utf-8")
    assert pages[name] == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("**粗体** [链接](javascript:alert(1))", r"\*\*粗体\*\* \[链接\]\(javascript:alert\(1\)\)"),
        ("# 不是标题", r"\# 不是标题"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("1. 不是列表", r"1\. 不是列表"),
        ("表格|分隔", r"表格\|分隔"),
    ],
)
def test_editor_text_is_shown_literally(text: str, shown: str) -> None:
    env = render._environment()
    assert env.from_string("{{ t }}").render(t=text) == shown


def test_service_page_carries_every_disclosure_field(pages: dict[str, str], catalogue: Catalogue) -> None:
    for service in catalogue.services:
        page = pages[f"docs/services/{service.code}.md"]
        for heading in ("事项信息", "服务对象", "受理条件", "申请材料", "办理流程", "办理时限", "收费标准", "政策依据",
                        "办理结果", "承办岗位", "办理地点和时间", "咨询与投诉"):  # fmt: skip
            assert f"## {heading}" in page, (service.code, heading)
        assert ("## 救济途径" in page) == (service.type != "公共服务" or bool(service.remedies)), service.code
        assert service.implementer.name in page and service.type in page
        assert "最后更新" in page and "变更说明" in page
        assert 'class="rs-sheet"' in page and "<svg" in page  # printable notice with offline QR code
        assert len(re.findall(r"^\| \d+ \|", page, re.M)) >= len(service.materials)


def test_json_ld_is_a_government_service(pages: dict[str, str]) -> None:
    page = pages["docs/services/JY-001.md"]
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', page).group(1)  # type: ignore[union-attr]
    data = json.loads(raw)
    assert data["@type"] == "GovernmentService"
    assert data["identifier"] == "JY-001" and data["name"] == "失业登记"
    assert data["provider"]["name"] == "青溪县人力资源和社会保障局"
    assert data["category"] == "公共服务" and data["serviceOperator"]["name"] and data["serviceOutput"]["name"]
    assert "remedies" in data and "validUntil" not in data


def test_json_ld_carries_remedies_and_the_end_date(catalogue: Catalogue) -> None:
    from generator import context

    service = next(s for s in catalogue.services if s.valid_until)
    data = json.loads(context.json_ld(catalogue, context.service_view(catalogue, service, TODAY)))
    assert data["validUntil"] == service.valid_until.isoformat()  # type: ignore[union-attr]
    acted = next(s for s in catalogue.services if s.remedies)
    data = json.loads(context.json_ld(catalogue, context.service_view(catalogue, acted, TODAY)))
    assert {r["kind"] for r in data["remedies"]} == {r.kind for r in acted.remedies}


def test_json_ld_cannot_close_its_script(catalogue: Catalogue) -> None:
    from generator import context

    service = catalogue.services[0].model_copy(update={"name": "a</script><script>alert(1)"})
    text = context.json_ld(catalogue, context.service_view(catalogue, service, TODAY))
    assert "</script>" not in text and json.loads(text)["name"] == "a</script><script>alert(1)"


def test_mkdocs_config_is_offline_and_small(pages: dict[str, str]) -> None:
    config = yaml.safe_load(pages["mkdocs.yml"])
    assert config["theme"]["font"] is False and config["plugins"] == []
    assert len(config["nav"]) == len(render.NAV)  # no services in the nav; the ratings page even without stats
    assert "本页暂无统计数据" in pages["docs/ratings.md"]
    assert config["theme"]["language"] == "zh"


def test_catalogue_json_lists_every_service(pages: dict[str, str], catalogue: Catalogue) -> None:
    data = json.loads(pages["docs/catalogue.json"])
    assert [s["code"] for s in data["services"]] == [s.code for s in catalogue.services]
    assert data["services"][0]["materials"][0]["name"]


def test_notices_split_into_current_and_archive(pages: dict[str, str]) -> None:
    assert "灵活就业人员社会保险补贴" in pages["docs/notices/index.md"]
    assert "高校毕业生就业见习岗位" not in pages["docs/notices/index.md"]
    assert "高校毕业生就业见习岗位" in pages["docs/notices/archive.md"]


def test_the_guide_landing_page_lists_every_service(pages: dict[str, str], catalogue: Catalogue) -> None:
    landing = pages["docs/services/index.md"]
    escaped = {s.code: s.code.replace("-", "\\-") for s in catalogue.services}  # Markdown-escaped as on the page
    missing = [code for code, text in escaped.items() if f"](../services/{text}.md)" not in landing]
    assert missing == [] and len(catalogue.config.popular) > 1


def test_an_expired_guide_leaves_every_list_but_keeps_its_page(catalogue: Catalogue) -> None:
    expiring = next(s for s in catalogue.services if s.valid_until)
    assert expiring.valid_until is not None
    link = f"services/{expiring.code.replace('-', chr(92) + '-')}.md"
    before = dict(render.iter_site(catalogue, expiring.valid_until))
    after = dict(render.iter_site(catalogue, expiring.valid_until + timedelta(days=1)))
    assert "已停止办理的事项" not in before["docs/services/index.md"]
    assert f"本事项办理期限至 {expiring.valid_until}" in before[f"docs/services/{expiring.code}.md"]
    assert "## 已停止办理的事项" in after["docs/services/index.md"]
    for listing in ("docs/time-limits.md", "docs/disclosure.md", f"docs/categories/{expiring.category}.md"):
        assert link in before[listing] and link not in after[listing], listing
    assert "本事项已停止办理" in after[f"docs/services/{expiring.code}.md"]
