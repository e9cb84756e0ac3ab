"""The generator's pipeline: load → validate → audit → context/render → write → mkdocs → publish."""

from __future__ import annotations

import gc
import itertools
import resource
import shutil
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from core.catalogue import Catalogue
from core.errors import ContentError, Problem
from core.memo import Memo
from core.validate import load_catalogue
from generator import audit, cache, render, reuse, write
from generator.cache import Cache
from generator.fragments import Fragments
from generator.mkdocs_build import run_mkdocs
from generator.reuse import Record
from generator.search_index import run_pagefind


@dataclass
class CheckResult:
    """What `portal check` found: the catalogue when valid, and every problem."""

    catalogue: Catalogue | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


@dataclass
class BuildReport:
    """What a successful build produced."""

    pages: int
    services: int
    seconds: float
    warnings: list[Problem]
    stages: dict[str, float] = field(default_factory=dict)
    peak_mib: int = 0  # this process (load … mkdocs); bench/build.py measures its children with it


def check(content: Path, config: Path, today: date, published: Path, memo: Memo | None = None) -> CheckResult:
    """Validate and audit the content (`memo`: what a long-running preview remembers); nothing is written."""
    try:
        catalogue = load_catalogue(content, config, memo)
    except ContentError as exc:
        return CheckResult(None, errors=exc.problems)
    return CheckResult(catalogue, warnings=audit.audit(catalogue, today, content, published))


class _Stages:
    """Wall time per stage and peak memory, for `portal build --timings` and the benchmark."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def mark(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = now - self._last
        self._last = now


def render_keys(catalogue: Catalogue, today: date, digests: dict[str, str], code: str) -> dict[str, str]:
    """The key of each service page's Markdown: its guide's file, every other content file (offices, posts … show
    on every guide), the date and the generator itself (`code`: render.code_digest())."""
    codes = {s.code for s in catalogue.services}
    shared = sorted((name, value) for name, value in digests.items() if name not in codes)
    common = reuse.digest(code, today.isoformat(), *(part for pair in shared for part in pair))
    return {code: reuse.digest(common, digests[code]) for code in codes if code in digests}


def build_site(
    catalogue: Catalogue,
    out: Path,
    today: date,
    keep_markdown: Path | None = None,
    stages: _Stages | None = None,
    digests: dict[str, str] | None = None,
    fragments: Fragments | None = None,
) -> int:
    """Render, build aside and swap into `out`, reusing what did not change since the last build (`digests`: each
    content file's hash by its name in Catalogue.sources; `fragments`: a preview's pieces of the summary pages);
    on any failure `out` is left untouched."""
    stages = stages or _Stages()
    root = cache.beside(out)
    code = render.code_digest()
    keys = render_keys(catalogue, today, digests or {}, code)
    if fragments is not None:
        fragments.begin_build(code)
    with cache.locked(root):
        try:
            return _build(catalogue, out, today, root, keep_markdown, stages, keys, fragments)
        finally:
            if fragments is not None:
                fragments.end_build()


def _kept(build_dir: Path, code: str) -> bool:
    """A service page's Markdown is still in the folder (nobody deleted it by hand)."""
    return (build_dir / "docs/services" / f"{code}.md").is_file()


def _build(
    catalogue: Catalogue,
    out: Path,
    today: date,
    root: Path,
    keep: Path | None,
    stages: _Stages,
    keys: dict[str, str],
    fragments: Fragments | None,
) -> int:
    """build_site() with the cache locked."""
    store, previous, build_dir = Cache(root), reuse.load(root, out), root / "markdown"
    before = write.rendered(build_dir)
    fresh = {code for code, key in keys.items() if before.get(code) == key and _kept(build_dir, code)}
    ledger = ("docs/publication.json", audit.ledger(catalogue, today))
    files = itertools.chain(render.iter_site(catalogue, today, store, fresh.__contains__, fragments), [ledger])
    staging = write.make_staging(out)
    try:
        site_dir = staging / "site"
        written = write.write_files(build_dir, files, render.theme_files())
        written |= {f"docs/{rel}" for rel in write.copy_files(build_dir / "docs", catalogue.files)}
        write.remove_others(build_dir, written | {f"docs/services/{code}.md" for code in fresh})
        write.record_rendered(build_dir, keys)
        stages.mark("render")
        pages = run_mkdocs(build_dir, site_dir, previous=previous)
        stages.mark("mkdocs")
        shards = run_pagefind(site_dir, {page.dest: page.key for page in pages.values()}, previous)
        stages.mark("pagefind")
        if keep is not None:
            write.discard(keep)
            shutil.copytree(build_dir, keep)
        aside = reuse.write_aside(root, Record(None, pages, shards), site_dir)
        write.publish(site_dir, out, background=fragments is not None)  # a preview process lives on to delete it
        reuse.commit(aside)
        store.prune()  # only after success: a failed build keeps what the next one can reuse
    finally:
        write.discard(staging)
    stages.mark("publish")
    return len(pages)


@dataclass
class Warm:
    """What `portal preview` keeps between builds: the guides that passed and their pieces of the summary pages."""

    memo: Memo = field(default_factory=Memo)
    fragments: Fragments = field(default_factory=Fragments)


def build(
    content: Path, config: Path, out: Path, today: date, keep_markdown: Path | None = None, warm: Warm | None = None
) -> BuildReport:
    """Check, then build (`warm`: a preview's state); raises ContentError (with every problem) or BuildError."""
    started = time.perf_counter()
    stages = _Stages()
    result = check(content, config, today, out, warm.memo if warm else None)
    stages.mark("check")
    if result.catalogue is None:
        raise ContentError(result.errors)
    digests = {name: doc.digest for name, doc in result.catalogue.sources.items()}
    # Line maps are only for messages; drop them before the memory-hungry mkdocs stage.
    catalogue, result.catalogue = replace(result.catalogue, sources={}), None
    # The catalogue lives through the build: without this the collector walks its 10,000 guides in every full
    # collection (a second of a preview's rebuild). mkdocs_build freezes around its fork too and thaws at its end.
    gc.freeze()
    try:
        pages = build_site(catalogue, out, today, keep_markdown, stages, digests, warm.fragments if warm else None)
    finally:
        gc.unfreeze()
    return BuildReport(
        pages,
        len(catalogue.services),
        time.perf_counter() - started,
        result.warnings,
        stages.seconds,
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    )
