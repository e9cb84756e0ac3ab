"""Stage 7 — the search index: Pagefind Extended (it segments Chinese) over the built site, in bundles.

Pagefind's indexer holds about 0.35 MB a page until it writes, so a large site is indexed as several bundles of
about `SHARD_PAGES` pages, `INDEXERS` at a time: `pagefind/` and `pagefind/shard-N/`, listed in
`pagefind/shards.json`, which the search page merges at query time (portal.js). A page's bundle follows from a
hash of its path, so an edit re-indexes only the bundles of the pages it changed; a bundle whose pages all kept
their keys is linked from the published site (generator/reuse.py), or, in a preview's folder, left where it is."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

from generator import reuse
from generator.errors import BuildError
from generator.reuse import Record

SHARD_PAGES = 500  # pages per bundle, about: 200 MB of indexer and a second or two to re-index one
# Bundles indexed at once: one Pagefind run keeps about 1.3 cores busy, so two use both cores of the machine the
# budgets are measured on (DESIGN.md), for a second indexer's memory.
INDEXERS = 2
SHARDS_FILE = "shards.json"  # in the main bundle: the other bundles' folders, merged by the search page
PAGEFIND = f"pagefind {version('pagefind')}"


def _shards(site_dir: Path, size: int, html: list[str] | None = None) -> list[list[Path]]:
    """The site's pages (`html`: their paths, when known) in len / `size` groups (rounded up) of about `size` each,
    by a hash of each page's path."""
    found = (
        (Path(rel) for rel in html) if html is not None else (p.relative_to(site_dir) for p in site_dir.rglob("*.html"))
    )
    pages = sorted(found)
    count = max(1, -(-len(pages) // size))
    groups: list[list[Path]] = [[] for _ in range(count)]
    for page in pages:
        groups[zlib.crc32(page.as_posix().encode("utf-8")) % count].append(page)
    return groups


def _pagefind(cwd: Path, output: Path) -> None:
    """One Pagefind Extended run over the site (or a shard of it) under `cwd`, writing its bundle to `output`."""
    # Run inside the site: Pagefind skips paths with hidden parts, and staging folders are hidden.
    command = [sys.executable, "-m", "pagefind", "--site", ".", "--silent", "--output-path", str(output.resolve())]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"搜索索引生成失败：{(result.stderr or result.stdout).strip()[-500:]}")


def _key(site_dir: Path, group: list[Path], where: str, count: int, pages: dict[str, str]) -> str:
    """A bundle's key: Pagefind's version, the bundle's place, and each of its pages with its page key (the HTML's
    own hash for pages mkdocs writes from its templates every time, such as 404.html)."""
    parts = [PAGEFIND, where, str(count)]
    for page in group:
        rel = page.as_posix()
        parts += [rel, pages.get(rel) or reuse.digest((site_dir / page).read_bytes())]
    return reuse.digest(*parts)


def _index(site_dir: Path, group: list[Path], output: Path, work: Path | None) -> None:
    """Index one group of pages: the whole site (`work` None), or a hard-linked mirror of the group in `work`."""
    if work is None:
        _pagefind(site_dir, output)
        return
    for page in group:  # the shard mirrors the site's paths, so its results link to the real pages
        reuse.link(site_dir / page, work / page)
    _pagefind(work, output)


def _index_all(site_dir: Path, jobs: list[tuple[list[Path], Path, Path | None]]) -> None:
    """Index each (pages, output folder, mirror), `INDEXERS` at a time; the first error is raised once the running
    indexers have ended."""
    with ThreadPoolExecutor(INDEXERS) as pool:  # each thread only waits on its Pagefind process
        list(pool.map(lambda job: _index(site_dir, *job), jobs))


def _swap(bundle: Path, where: str, new: Path, work: Path) -> None:
    """Put a bundle indexed in `new` in place of the one at `bundle/where`; the main bundle takes the others along."""
    old = bundle / where
    if old.is_dir() and not where:  # the list of the others too: a search meanwhile still finds them all
        for other in old.iterdir():
            if other.name.startswith("shard-") or other.name == SHARDS_FILE:
                other.rename(new / other.name)
    if old.is_dir():
        old.rename(work / f"old-{where or 'main'}")
    new.rename(old)


def run_pagefind(
    site_dir: Path,
    pages: dict[str, str] | None = None,
    previous: Record | None = None,
    shard_pages: int | None = None,
    html: list[str] | None = None,
) -> dict[str, str]:
    """Index the built site (`pages`: the key of each page's HTML by its path; `html`: every HTML file, if known),
    reusing the bundles `previous` published whose pages kept their keys; each bundle's key. When `previous` is
    `site_dir` itself (a preview's folder), only the bundles that changed are indexed, and swapped in."""
    bundle = site_dir / "pagefind"
    groups = _shards(site_dir, shard_pages or SHARD_PAGES, html)
    previous = previous or Record()
    in_place = previous.describes(site_dir)
    keys: dict[str, str] = {}
    work = Path(tempfile.mkdtemp(prefix="search-", dir=site_dir.parent)).resolve()
    jobs: dict[int, tuple[list[Path], Path, Path | None]] = {}  # bundle: (pages, folder to write, their mirror)
    kept: list[tuple[Path, Path, tuple[str, ...]]] = []  # bundles linked from the published site
    try:
        for i, group in enumerate(groups):
            where = f"shard-{i}" if i else ""
            keys[where] = _key(site_dir, group, where, len(groups), pages or {})
            old = previous.site / "pagefind" / where if previous.site else None
            mirror = work / str(i) if len(groups) > 1 else None
            if old is not None and previous.shards.get(where) == keys[where] and old.is_dir():
                if not in_place:
                    kept.append((old, bundle / where, ("shard-", SHARDS_FILE) if not i else ()))
            else:
                jobs[i] = (group, work / f"new-{i}" if in_place else bundle / where, mirror)
        if 0 in jobs and not in_place:  # the main bundle first: Pagefind writes it into an empty folder
            _index(site_dir, *jobs.pop(0))
        for source, target, skip in kept:
            reuse.link_tree(source, target, skip=skip)
        _index_all(site_dir, list(jobs.values()))
        for i in sorted(jobs) if in_place else ():  # the main bundle first: it takes the others' folders along
            _swap(bundle, f"shard-{i}" if i else "", work / f"new-{i}", work)
        for where in set(previous.shards) - set(keys) if in_place else ():  # the site has fewer bundles now
            shutil.rmtree(bundle / where, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    others = [f"shard-{i}/" for i in range(1, len(groups))]
    reuse.replace(bundle / SHARDS_FILE, json.dumps(others).encode("utf-8"))
    return keys
