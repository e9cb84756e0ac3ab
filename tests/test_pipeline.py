"""The whole build: pages produced, offline and sub-path safe, and atomic on failure."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from core.catalogue import Catalogue
from core.errors import ContentError
from generator import cache, mkdocs_build, pipeline
from generator.errors import BuildError
from tests.conftest import TODAY

ASSET_REF = re.compile(
    r'<(?:script|img|iframe|source)[^>]*\ssrc="([^"]+)"|<link(?![^>]*rel="canonical")[^>]*\shref="([^"]+)"'
)


PAGES = (
    "index.html", "services/index.html", "time-limits/index.html", "promises/index.html",
    "windows/index.html", "rules/index.html", "complaints/index.html", "notices/index.html",
    "notices/archive/index.html", "disclosure/index.html", "about/index.html",
    "search/index.html", "offices/county-hall/index.html", "categories/jiuye/index.html", "downloads/index.html",
)  # fmt: skip


def _html_files(site: Path) -> list[Path]:
    """Pages served at their own path (404.html is served anywhere, so it must use absolute paths)."""
    return sorted(p for p in site.rglob("*.html") if p.name != "404.html")


def test_every_page_is_built(built_site: Path, catalogue: Catalogue) -> None:
    for page in PAGES:
        assert (built_site / page).is_file(), page
    for service in catalogue.services:
        assert (built_site / f"services/{service.code}/index.html").is_file()
    assert (built_site / "pagefind/pagefind-ui.js").is_file()
    assert any((built_site / "pagefind").glob("pagefind.zh*.pf_meta"))  # Chinese index


def test_open_data_and_ledger(built_site: Path, catalogue: Catalogue) -> None:
    data = json.loads((built_site / "catalogue.json").read_text(encoding="utf-8"))
    assert len(data["services"]) == len(catalogue.services)
    ledger = json.loads((built_site / "publication.json").read_text(encoding="utf-8"))
    assert ledger["published"] == TODAY.isoformat()
    assert ledger["items"]["JY-001"] == "2026-11-02"
    assert ledger["items"]["post:jiuye-dengji"] and ledger["items"]["rule:badge"]  # every kind, see test_audit


LINK = re.compile(r'\s(?:href|src)="([^"]*)"')
ID = re.compile(r'\sid="([^"]+)"')


def _broken(site: Path, page: Path, ref: str, backend: tuple[str, ...]) -> str | None:
    """Why an internal link from `page` leads nowhere, or None when it resolves (anchor included)."""
    ref = html.unescape(ref)
    parts = urlsplit(ref)
    if parts.scheme or parts.netloc or ref.startswith(backend):
        return None  # another site, or the backend's pages (served beside the site: see test_site)
    if ref.startswith("/"):
        return "absolute: breaks when the site is served under a sub-path"
    target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file() or site.resolve() not in target.parents:
        return "no such file"
    anchors = ID.findall(target.read_text(encoding="utf-8")) if target.suffix == ".html" else []
    return "no such anchor" if parts.fragment and unquote(parts.fragment) not in anchors else None


def test_no_internal_link_is_broken(built_site: Path, catalogue: Catalogue) -> None:
    """Every href and src of every page, followed: files, downloads and anchors (0 broken allowed)."""
    backend = tuple(catalogue.config.forms.model_dump().values())
    broken, followed = [], 0
    for page in _html_files(built_site):
        for ref in LINK.findall(page.read_text(encoding="utf-8")):
            followed += 1
            if why := _broken(built_site, page, ref, backend):
                broken.append(f"{page.relative_to(built_site)}: {ref} ({why})")
    assert followed > 1000 and broken == [], "\n".join(broken)


def test_blank_forms_and_samples_are_published_and_listed(built_site: Path, catalogue: Catalogue) -> None:
    assert len(catalogue.files) >= 30
    for rel, source in catalogue.files.items():
        assert (built_site / rel).read_bytes() == source.read_bytes(), rel
    listing = (built_site / "downloads/index.html").read_text(encoding="utf-8")
    employment = [s for s in catalogue.services if s.code.startswith("JY-")]
    assert len(employment) >= 15
    for service in employment:
        forms = [x for x in service.materials if x.blank_form]
        assert forms and all(x.sample for x in forms), service.code
        # The page is downloads/ itself: its links are the bare file names, beside it.
        assert all(f'href="{x.blank_form.removeprefix("downloads/")}"' in listing for x in forms), service.code


def test_no_third_party_requests(built_site: Path) -> None:
    for path in _html_files(built_site):
        for match in ASSET_REF.finditer(path.read_text(encoding="utf-8")):
            ref = match.group(1) or match.group(2)
            assert not re.match(r"(https?:)?//", ref), f"{path}: {ref}"
    for css in built_site.rglob("*.css"):
        assert "fonts.googleapis" not in css.read_text(encoding="utf-8"), css


def test_assets_are_relative_for_sub_path_hosting(built_site: Path) -> None:
    for path in _html_files(built_site):
        for match in ASSET_REF.finditer(path.read_text(encoding="utf-8")):
            ref = match.group(1) or match.group(2)
            assert not ref.startswith("/"), f"{path}: {ref}"


def test_pages_are_indexed_but_chrome_is_not(built_site: Path) -> None:
    html = (built_site / "services/JY-001/index.html").read_text(encoding="utf-8")
    assert "data-pagefind-body" in html
    assert 'data-pagefind-ignore="all"' in html  # the printable sheet repeats the page
    assert 'lang="zh"' in html


def test_failed_check_leaves_published_site_untouched(project: Path, edit: Callable[..., Path]) -> None:
    out = project / "site"
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    before = (out / "services/JY-001/index.html").read_bytes()
    edit("content/services/jy-shiye-dengji.yml", "kind: 即办件", "kind: 急办件")
    with pytest.raises(ContentError):
        pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    assert (out / "services/JY-001/index.html").read_bytes() == before
    assert [p.name for p in project.iterdir() if "staging" in p.name] == []


def test_failed_build_step_leaves_published_site_untouched(
    project: Path, edit: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = project / "site"
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    edit("content/services/jy-shiye-dengji.yml", "name: 失业登记", "name: 失业登记（新）")

    def broken(*_: object, **__: object) -> None:
        raise BuildError("搜索索引生成失败：测试")

    monkeypatch.setattr(pipeline, "run_pagefind", broken)
    with pytest.raises(BuildError):
        pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    html = (out / "services/JY-001/index.html").read_text(encoding="utf-8")
    assert "失业登记（新）" not in html and "失业登记" in html
    leftovers = [p.name for p in project.iterdir() if p.name.startswith(".")]
    assert leftovers == [cache.beside(out).name]  # no staging folder; the cache stays, for the next build


def test_successful_rebuild_replaces_the_site(project: Path, edit: Callable[..., Path]) -> None:
    out = project / "site"
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    (out / "stale.html").write_text("old", encoding="utf-8")
    edit("content/services/jy-shiye-dengji.yml", "name: 失业登记", "name: 失业登记（新）")
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    assert "失业登记（新）" in (out / "services/JY-001/index.html").read_text(encoding="utf-8")
    assert not (out / "stale.html").exists()


@pytest.mark.parametrize("jobs", [1, 2])
def test_mkdocs_warning_is_a_build_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    monkeypatch.setattr(mkdocs_build, "PARALLEL_FROM", 0)  # with jobs=2, the warning is raised in a worker
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/index.md").write_text("[坏链接](missing.md)\n\n[坏锚点](other.md#nowhere)\n", encoding="utf-8")
    (tmp_path / "docs/other.md").write_text("# 另一页\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text("site_name: t\nplugins: []\nvalidation:\n  anchors: warn\n", encoding="utf-8")
    with pytest.raises(BuildError, match=r"missing\.md.*；.*#nowhere"):
        mkdocs_build.run_mkdocs(tmp_path, tmp_path / "out", jobs=jobs)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("jobs", [1, 2])
def test_pages_on_every_core_are_what_mkdocs_build_writes(
    tmp_path: Path, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """The generator's own page loop (forked workers) against stock `mkdocs build`, file for file."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    pipeline.build_site(catalogue, tmp_path / "site", TODAY, keep_markdown=tmp_path / "md")
    build(load_config(config_file=str(tmp_path / "md/mkdocs.yml"), site_dir=str(tmp_path / "stock")))
    monkeypatch.setattr(mkdocs_build, "PARALLEL_FROM", 0)  # fork even for a small site
    mkdocs_build.run_mkdocs(tmp_path / "md", tmp_path / "ours", jobs=jobs)
    stock, ours = _tree(tmp_path / "stock"), _tree(tmp_path / "ours")
    assert sorted(stock) == sorted(ours)
    assert [name for name in stock if stock[name] != ours[name]] == []
