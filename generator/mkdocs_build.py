"""Stage 6 — mkdocs build of the staged Markdown, its pages on every core, then the Pagefind search index.

`mkdocs build` renders one page after another. Here mkdocs' own steps run as it runs them (config, files, nav and
theme once), then the pages are converted and written in forked workers, each with the shared state already in
memory: no page depends on another's rendering (the nav's titles are in mkdocs.yml, and there is no prev/next
footer), so the output is byte for byte what `mkdocs build` writes (tests/test_pipeline.py compares them). Anchor
links are checked afterwards on what the workers report. mkdocs' page steps are private API: pyproject pins
mkdocs below 1.7."""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

from mkdocs import utils
from mkdocs.commands.build import _build_page, _build_theme_template, _populate_page
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import MkDocsException
from mkdocs.structure.files import InclusionLevel, get_files, set_exclusions
from mkdocs.structure.nav import get_navigation
from mkdocs.structure.pages import Page

from generator.errors import BuildError

JOBS = min(2, os.cpu_count() or 1)  # the budget machine has two cores
PARALLEL_FROM = 400  # pages; below this a fork costs more than it saves
CHUNK = 100  # pages a worker takes at a time
BIG_PAGE = 200_000  # bytes of Markdown: such a page (the 政务公开 tables at scale) goes first, alone
SHARD_PAGES = 2000  # pages per Pagefind bundle, about: its indexer holds about 0.35 MB a page until it writes
SHARDS_FILE = "shards.json"  # in the main bundle: the other bundles' folders, merged by the search page
# A page's anchors (ids it has) and the anchors it links to on other pages: {target page: {anchor: as written}}.
Anchors = tuple[set[str], dict[str, dict[str, str]]]
log = logging.getLogger("mkdocs")


class _Collect(logging.Handler):
    """Keeps mkdocs warnings so a failed strict build can say why."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _Site:
    """What every page shares, made once before any worker starts, as mkdocs.commands.build.build makes it."""

    def __init__(self, config: MkDocsConfig) -> None:
        config = config.plugins.on_config(config)
        config.plugins.on_pre_build(config=config)
        utils.clean_directory(config.site_dir)
        files = get_files(config)
        env = config.theme.get_env()
        files.add_files_from_theme(env, config)
        files = config.plugins.on_files(files, config=config)
        set_exclusions(files, config)
        nav = get_navigation(files, config)
        nav = config.plugins.on_nav(nav, config=config, files=files)
        self.pages = files.documentation_pages(inclusion=InclusionLevel.is_included)
        for file in self.pages:
            if file.page is None:
                Page(None, file, config)
        for page in nav.pages:  # the nav shows their front matter (icon, status) on every page
            page.read_source(config)
        self.env = config.plugins.on_env(env, config=config, files=files)
        self.config, self.files, self.nav = config, files, nav
        self.by_uri = {f.src_uri: f for f in self.pages}

    def write_static(self) -> None:
        """Theme assets and static templates (404.html)."""
        self.files.copy_static_files(inclusion=InclusionLevel.is_included)
        for template in self.config.theme.static_templates:
            _build_theme_template(template, self.env, self.files, self.config, self.nav)

    def build(self, uris: list[str]) -> dict[str, Anchors]:
        """Convert and write these pages; what anchor checking needs of each."""
        found = {}
        for uri in uris:
            page = self.by_uri[uri].page
            assert page is not None
            _populate_page(page, self.config, self.files)
            _build_page(page, self.config, self.pages, self.nav, self.env)
            links = {f.src_uri: dict(a) for f, a in (page.links_to_anchors or {}).items()}
            found[uri] = (set(page.present_anchor_ids or ()), links)
            page.content, page.markdown, page.toc = None, None, []  # type: ignore[assignment]  # memory stays flat
        return found


_SITE: _Site | None = None  # a forked worker's inherited copy


def _work(chunk: list[str]) -> tuple[dict[str, Anchors], list[str]]:
    """In a worker: build a chunk of pages, with the warnings they raised."""
    assert _SITE is not None
    collect = _Collect()
    log.addHandler(collect)
    try:
        return _SITE.build(chunk), collect.messages
    finally:
        log.removeHandler(collect)


def _chunks(site: _Site) -> list[list[str]]:
    """Big pages first and alone, the rest in chunks, so both workers finish together."""
    size = {uri: os.path.getsize(file.abs_src_path or "") for uri, file in site.by_uri.items()}
    order = sorted(size, key=lambda uri: -size[uri])
    big = [uri for uri in order if size[uri] > BIG_PAGE]
    rest = order[len(big) :]
    return [[uri] for uri in big] + [rest[i : i + CHUNK] for i in range(0, len(rest), CHUNK)]


def _build_pages(site: _Site, jobs: int) -> tuple[dict[str, Anchors], list[str]]:
    """Every page, in `jobs` forked workers when there are enough of them."""
    global _SITE
    if jobs <= 1 or len(site.by_uri) < PARALLEL_FROM:
        return site.build(list(site.by_uri)), []
    anchors: dict[str, Anchors] = {}
    messages: list[str] = []
    _SITE = site
    gc.freeze()  # the shared state stays shared: no copy-on-write from reference counts the collector touches
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for found, said in pool.imap_unordered(_work, _chunks(site)):
                anchors.update(found)
                messages += said
    finally:
        gc.unfreeze()
        _SITE = None
    return anchors, messages


def _check_anchors(anchors: dict[str, Anchors], level: int) -> None:
    """mkdocs' Page.validate_anchor_links, on what the workers reported."""
    for uri, (_, links) in sorted(anchors.items()):
        for target, wanted in links.items():
            if target not in anchors:
                continue
            present = anchors[target][0]
            for anchor, original in wanted.items():
                if anchor not in present:
                    log.log(level, f"Doc file '{uri}' contains a link '{original}', but '{target}' lacks '#{anchor}'.")


def run_mkdocs(build_dir: Path, site_dir: Path, jobs: int = JOBS) -> None:
    """Build `build_dir/mkdocs.yml` into `site_dir` in strict mode (a warning is a bug of ours)."""
    collect = _Collect()
    log.addHandler(collect)
    previous = log.level
    log.setLevel(logging.WARNING)
    log.propagate = False
    try:
        config = load_config(config_file=str(build_dir / "mkdocs.yml"), site_dir=str(site_dir), strict=True)
        site = _Site(config)
        site.write_static()
        anchors, said = _build_pages(site, jobs)
        collect.messages += said
        _check_anchors(anchors, site.config.validation.links.anchors)
        site.config.plugins.on_post_build(config=site.config)
        if collect.messages:
            raise MkDocsException(f"Aborted with {len(collect.messages)} warnings in strict mode!")
    except (MkDocsException, SystemExit) as exc:
        detail = "；".join(collect.messages) or str(exc)
        raise BuildError(f"mkdocs 构建失败：{detail}") from exc
    finally:
        log.removeHandler(collect)
        log.setLevel(previous)
        log.propagate = True


def _shards(site_dir: Path, size: int) -> list[list[Path]]:
    """The site's pages in len / `size` groups (rounded up) of about `size` each, by a hash of each page's path."""
    pages = sorted(p.relative_to(site_dir) for p in site_dir.rglob("*.html"))
    count = max(1, -(-len(pages) // size))
    groups: list[list[Path]] = [[] for _ in range(count)]
    for page in pages:
        groups[zlib.crc32(page.as_posix().encode("utf-8")) % count].append(page)
    return groups


def _pagefind(cwd: Path, output: Path) -> None:
    """One Pagefind Extended run over the site (or a shard of it) under `cwd`, writing its bundle to `output`."""
    # Run inside the site: Pagefind skips paths with hidden parts, and staging folders are hidden.
    command = [sys.executable, "-m", "pagefind", "--site", ".", "--silent", "--output-path", str(output)]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"搜索索引生成失败：{(result.stderr or result.stdout).strip()[-500:]}")


def run_pagefind(site_dir: Path, shard_pages: int | None = None) -> None:
    """Index the built site with Pagefind Extended, which segments Chinese. A large site is indexed as several
    bundles, one after another, so the indexer's memory stays bounded (`SHARD_PAGES`); the search page merges
    them at query time (portal.js reads pagefind/shards.json), fetching a few per cent more per query."""
    bundle = site_dir / "pagefind"
    groups = _shards(site_dir, shard_pages or SHARD_PAGES)
    if len(groups) == 1:
        _pagefind(site_dir, bundle)
    else:
        work = Path(tempfile.mkdtemp(prefix="search-", dir=site_dir.parent))
        try:
            for i, group in enumerate(groups):
                shard = work / str(i)
                for page in group:  # the shard mirrors the site's paths, so its results link to the real pages
                    (shard / page).parent.mkdir(parents=True, exist_ok=True)
                    os.link(site_dir / page, shard / page)
                _pagefind(shard, bundle if i == 0 else bundle / f"shard-{i}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    others = [f"shard-{i}/" for i in range(1, len(groups))]
    (bundle / SHARDS_FILE).write_text(json.dumps(others), encoding="utf-8")
