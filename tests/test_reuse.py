"""Incremental builds (generator/reuse.py): after any edit, a build that reuses the published site is the clean
build byte for byte, search index included, and it reuses what did not change."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from core.errors import PortalError
from generator import cache, pipeline, reuse, search_index
from tests.conftest import TODAY

GUIDE = "content/services/jy-shiye-dengji.yml"  # JY-001
# One edit of each kind of content: (file, text, replacement).
EDITS = {
    "guide text": (GUIDE, "summary: >-\n", "summary: >-\n  （已更新）"),
    "guide name": (GUIDE, "name: 失业登记", "name: 失业登记（新）"),
    "office hours": ("content/offices.yml", "周一至周五 9:00–12:00", "周一至周五 8:30–12:00"),
    "window name": ("content/offices.yml", "name: 就业登记窗口", "name: 就业失业登记窗口"),
    "staff name": ("content/posts.yml", "name: 林国平", "name: 林国平（新）"),
    "promise": ("content/promises.yml", "title: 限时办结", "title: 限时办结承诺"),
    "rule": ("content/rules.yml", "name: 首问负责制", "name: 首问责任制"),
    "complaint channel": ("content/complaint_channels.yml", "name: 意见箱", "name: 意见箱（大厅入口）"),
    "procedure": ("content/procedure.yml", "告知去向\n  days: 2", "告知去向\n  days: 3"),  # printed on two pages
    "agency": ("content/agency.yml", "consultation_phone: 0575-8612 3400", "consultation_phone: 0575-8612 3401"),
    "holidays": ("content/holidays.yml", "years: []", "years: []  # 2027 年安排待公布"),
    "notice": (
        "content/notices/2026-linghuo-jiuye-shebao-butie.yml",
        "title: 关于开展2026年度",
        "title: 关于做好2026年度",
    ),
    "site config": ("site_config.yml", "site_name: 青溪县人社局政务公开", "site_name: 青溪县人社局政务公开网"),
}


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _clean(project: Path) -> dict[str, bytes]:
    """What a build with no cache and no published site makes of the project now."""
    out = project / "clean" / "site"
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    tree = _tree(out)
    shutil.rmtree(project / "clean")
    return tree


def _inodes(site: Path) -> dict[str, tuple[int, int]]:
    """Each page's file: a page written again has a new mtime (in place, its inode may be the one just freed)."""
    return {p.relative_to(site).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns) for p in site.rglob("*.html")}


def _same(incremental: dict[str, bytes], clean: dict[str, bytes]) -> None:
    assert sorted(incremental) == sorted(clean)
    assert [name for name in clean if incremental[name] != clean[name]] == []


@pytest.mark.parametrize("preview", [False, True], ids=["build", "preview"])
@pytest.mark.parametrize("kind", list(EDITS))
def test_an_incremental_build_is_the_clean_build(
    project: Path, edit: Callable[..., Path], kind: str, preview: bool
) -> None:
    """`portal build` after the edit, or `portal preview`'s rebuild (its memo and pieces kept from the build before)."""
    out, warm = project / "site", pipeline.Warm() if preview else None
    site = pipeline.preview_folder(out) if preview else out  # the preview's own, updated in place
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    before = _inodes(site)
    edit(*EDITS[kind])
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    _same(_tree(site), _clean(project))
    assert out.exists() != preview  # a preview publishes nothing
    reused = [page for page, inode in _inodes(site).items() if before.get(page) == inode]
    if kind == "guide text":  # only JY-001's page changed: every other page is the published file, linked
        rebuilt = ["services/JY-001/index.html"] if preview else ["404.html", "services/JY-001/index.html"]
        assert sorted(set(before) - set(reused)) == rebuilt  # 404: every build, but kept in place by a preview
    if kind == "site config":  # the name is on every page
        assert reused == []


def test_adding_and_deleting_guides(project: Path) -> None:
    out = project / "site"
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    guides = project / "content/services"
    (guides / "jy-renli-ziyuan-diaocha.yml").unlink()  # JY-004
    text = (guides / "jy-shiye-dengji.yml").read_text(encoding="utf-8")
    (guides / "zz-copy.yml").write_text(text.replace("code: JY-001", "code: ZZ-001"), encoding="utf-8")
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    tree = _tree(out)
    assert "services/ZZ-001/index.html" in tree and "services/JY-004/index.html" not in tree
    _same(tree, _clean(project))


@pytest.mark.parametrize("change", [("</html>", "</html><!-- added -->"), ("JY-002", "JY-00X")])  # longer; same size
def test_a_page_changed_by_hand_is_built_again(
    project: Path, edit: Callable[..., Path], change: tuple[str, str]
) -> None:
    out = project / "site"
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    page = out / "services/JY-002/index.html"
    page.write_text(page.read_text(encoding="utf-8").replace(*change, 1), encoding="utf-8")
    edit(*EDITS["guide text"])
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    _same(_tree(out), _clean(project))


def test_a_site_published_by_something_else_is_not_reused(project: Path) -> None:
    out = project / "site"
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    shutil.copytree(out, project / "copy")
    shutil.rmtree(out)
    (project / "copy").rename(out)  # the same files in a new folder: the record does not describe it
    assert reuse.load(cache.beside(out), out).site is None
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    _same(_tree(out), _clean(project))


def test_the_preview_leaves_the_published_site_alone(project: Path, edit: Callable[..., Path]) -> None:
    """Its first build links the published pages; no later write may go through those links."""
    out, warm = project / "site", pipeline.Warm()
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    published = _tree(out)
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    assert warm.mkdocs.site is not None  # the published site was linked in, then updated in place
    for kind in ("guide text", "office hours", "site config"):
        edit(*EDITS[kind])
        pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
        assert _tree(out) == published
    _same(_tree(pipeline.preview_folder(out)), _clean(project))


def test_the_preview_updates_its_folder_given_relative_paths(
    project: Path, edit: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As `portal preview` runs by default: content, site_config.yml and site relative to the working folder."""
    monkeypatch.chdir(project)
    warm = pipeline.Warm()
    pipeline.build(Path("content"), Path("site_config.yml"), Path("site"), TODAY, warm=warm)
    edit(*EDITS["guide name"])
    pipeline.build(Path("content"), Path("site_config.yml"), Path("site"), TODAY, warm=warm)
    assert "失业登记（新）" in (pipeline.preview_folder(Path("site")) / "services/JY-001/index.html").read_text("utf-8")
    _same(_tree(pipeline.preview_folder(project / "site")), _clean(project))


def test_the_preview_adds_and_deletes_guides_in_place(project: Path) -> None:
    out, warm = project / "site", pipeline.Warm()
    site = pipeline.preview_folder(out)
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    folder = site.stat().st_ino
    guides = project / "content/services"
    (guides / "jy-renli-ziyuan-diaocha.yml").unlink()  # JY-004
    text = (guides / "jy-shiye-dengji.yml").read_text(encoding="utf-8")
    (guides / "zz-copy.yml").write_text(text.replace("code: JY-001", "code: ZZ-001"), encoding="utf-8")
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    assert site.stat().st_ino == folder  # updated in place, not swapped
    assert not (site / "services/JY-004").exists()  # its folder goes with its page
    _same(_tree(site), _clean(project))


def test_the_preview_indexes_only_the_bundles_that_changed(
    project: Path, edit: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index, "SHARD_PAGES", 20)  # the shipped site in three bundles
    out, warm = project / "site", pipeline.Warm()
    bundles = pipeline.preview_folder(out) / "pagefind"
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    before = {p.name: p.stat().st_ino for p in bundles.glob("shard-*")}
    assert len(before) == 2
    edit(*EDITS["guide text"])
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    after = {p.name: p.stat().st_ino for p in bundles.glob("shard-*")}
    assert sorted(after) == sorted(before) and set(after.items()) & set(before.items())  # one kept where it was
    _same(_tree(bundles.parent), _clean(project))


def test_the_preview_keeps_mkdocs_shared_steps_while_their_inputs_stay(
    project: Path, edit: Callable[..., Path]
) -> None:
    out, warm = project / "site", pipeline.Warm()
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    edit(*EDITS["guide name"])
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    kept = warm.mkdocs.site
    assert kept is not None
    edit(*EDITS["guide text"])
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    assert warm.mkdocs.site is kept
    _same(_tree(pipeline.preview_folder(out)), _clean(project))
    edit(*EDITS["site config"])  # mkdocs.yml changes: its shared steps are taken again
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    assert warm.mkdocs.site is not kept
    _same(_tree(pipeline.preview_folder(out)), _clean(project))


def test_a_preview_build_that_failed_half_way_is_not_trusted(
    project: Path, edit: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, warm = project / "site", pipeline.Warm()
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    edit(*EDITS["guide name"])
    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "run_pagefind", lambda *_, **__: (_ for _ in ()).throw(OSError("disk full")))
        with pytest.raises(OSError):
            pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    assert warm.record.site is None  # pages were written in place, the search index was not
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    _same(_tree(pipeline.preview_folder(out)), _clean(project))


def test_one_preview_per_site(project: Path) -> None:
    out = project / "site"
    first = pipeline.previewing(out)
    first.__enter__()
    with pytest.raises(PortalError, match="另一个 portal preview 正在预览"), pipeline.previewing(out):
        pass
    first.__exit__(None, None, None)
    with pipeline.previewing(out):  # free again once the first has stopped
        pass


def test_the_preview_memo_checks_only_what_changed(project: Path, edit: Callable[..., Path]) -> None:
    warm, out = pipeline.Warm(), project / "site"
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    assert warm.memo.reused == 0
    edit(*EDITS["guide name"])
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    guides = len(list((project / "content/services").glob("*.yml")))
    assert warm.memo.reused == guides - 1
    assert 0 < warm.fragments.last < guides  # the edited guide's pieces of the summary pages, made again; no others
    _same(_tree(pipeline.preview_folder(out)), _clean(project))
    edit(*EDITS["office hours"])  # every guide is checked against the offices: none is taken from the memo
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    assert warm.memo.reused == 0
    _same(_tree(pipeline.preview_folder(out)), _clean(project))


def test_the_preview_memo_still_refuses_a_broken_guide(project: Path, edit: Callable[..., Path]) -> None:
    warm, out = pipeline.Warm(), project / "site"
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
    edit(GUIDE, "category: jiuye", "category: nowhere")
    result = pipeline.check(project / "content", project / "site_config.yml", TODAY, out, warm.memo)
    assert result.catalogue is None and any("nowhere" in p.message for p in result.errors)


def test_the_record_names_every_page_and_bundle(project: Path) -> None:
    out = project / "site"
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    record = json.loads((cache.beside(out) / reuse.MANIFEST).read_text(encoding="utf-8"))
    assert record["inode"] == os.stat(out).st_ino
    assert {page["dest"] for page in record["pages"].values()} == {
        p.relative_to(out).as_posix() for p in out.rglob("index.html")
    }
    assert list(record["shards"]) == [""]  # the shipped site is one bundle
