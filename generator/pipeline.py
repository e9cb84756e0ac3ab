"""The generator's pipeline: load → validate → audit → context/render → write → mkdocs → publish."""

from __future__ import annotations

import fcntl
import gc
import itertools
import multiprocessing
import resource
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from core.catalogue import Catalogue
from core.errors import ContentError, PortalError, Problem
from core.memo import Memo
from core.validate import load_catalogue
from generator import audit, cache, render, reuse, write
from generator.cache import Cache
from generator.fragments import Fragments
from generator.mkdocs_build import Kept, run_mkdocs
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
    peak_mib: int = 0  # the largest process: this one or the child that checks and renders (bench/build.py sums all)


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


def preview_folder(out: Path) -> Path:
    """Where `portal preview` builds and serves: a folder of its own in the build cache, updated in place; the
    site published at `out` is left alone."""
    return cache.beside(out) / "preview"


@contextmanager
def previewing(out: Path) -> Iterator[None]:
    """One `portal preview` per site: two would update the same folder, each trusting its own record of it."""
    root = cache.beside(out)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "preview.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise PortalError(f"另一个 portal preview 正在预览 {out}，请先在它的窗口按 Ctrl+C 停止") from None
        yield


@dataclass
class Warm:
    """What `portal preview` keeps between builds: the guides that passed, their pieces of the summary pages, the
    digests of the Markdown files, the record of its folder as the last build left it, and mkdocs' shared state."""

    memo: Memo = field(default_factory=Memo)
    fragments: Fragments = field(default_factory=Fragments)
    markdown: reuse.Digests = field(default_factory=reuse.Digests)
    record: Record = field(default_factory=Record)
    mkdocs: Kept = field(default_factory=Kept)
    collected_at: int = 0  # objects frozen after the last full collection

    def settle(self) -> None:
        """Between two builds, while the editor looks at the last: freeze what the preview keeps, so that the
        collector does not walk 10,000 guides in the middle of the next build (a second each time). What builds
        leave in reference cycles is collected once the frozen objects have grown by a quarter."""
        gc.freeze()
        if gc.get_freeze_count() > self.collected_at * 5 // 4:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self.collected_at = gc.get_freeze_count()


def build_site(
    catalogue: Catalogue,
    out: Path,
    today: date,
    keep_markdown: Path | None = None,
    stages: _Stages | None = None,
    digests: dict[str, str] | None = None,
    warm: Warm | None = None,
) -> int:
    """Render, build aside and swap into `out`, reusing what did not change since the last build (`digests`: each
    content file's hash by its name in Catalogue.sources); on any failure `out` is left untouched. With `warm` (a
    preview's state) the site goes to preview_folder(out) instead, updated in place after its first build."""
    stages = stages or _Stages()
    root = cache.beside(out)
    code = render.code_digest()
    keys = render_keys(catalogue, today, digests or {}, code)
    fragments = warm.fragments if warm else None
    if fragments is not None:
        fragments.begin_build(code)
    with cache.locked(root):
        try:
            return _build(catalogue, out, today, root, keep_markdown, stages, keys, warm)
        finally:
            if fragments is not None:
                fragments.end_build()


def _kept(code: str, present: set[str]) -> bool:
    """A service page's Markdown is still in the folder (nobody deleted it by hand)."""
    return f"docs/services/{code}.md" in present


def _render(catalogue: Catalogue, today: date, root: Path, keys: dict[str, str], warm: Warm | None) -> Cache:
    """Render into the kept Markdown folder what changed since it was last written; the build cache it used."""
    store, build_dir = Cache(root), root / "markdown"
    before, present = write.rendered(build_dir), write.files_under(build_dir)
    fresh = {code for code, key in keys.items() if before.get(code) == key and _kept(code, present)}
    ledger = ("docs/publication.json", audit.ledger(catalogue, today))
    fragments = warm.fragments if warm else None
    files = itertools.chain(render.iter_site(catalogue, today, store, fresh.__contains__, fragments), [ledger])
    written = write.write_files(build_dir, files, render.theme_files())
    written |= {f"docs/{rel}" for rel in write.copy_files(build_dir / "docs", catalogue.files)}
    write.remove_others(build_dir, written | {f"docs/services/{code}.md" for code in fresh}, present)
    write.record_rendered(build_dir, keys)
    return store


def _build(
    catalogue: Catalogue,
    out: Path,
    today: date,
    root: Path,
    keep: Path | None,
    stages: _Stages,
    keys: dict[str, str],
    warm: Warm | None,
) -> int:
    """build_site() with the cache locked."""
    store = _render(catalogue, today, root, keys, warm)
    stages.mark("render")
    return _make_site(out, root, keep, stages, warm, store)


def _adopt(published: Record, target: Path) -> Record:
    """A preview's first build: the published site, hard-linked into the preview's folder, is then updated in place
    like any later build (so its mkdocs state is kept from the first save on)."""
    staging = write.make_staging(target)
    try:
        reuse.link_tree(published.site or target, staging / "site")
        write.publish(staging / "site", target, background=True)  # the preview process lives on to delete it
    finally:
        write.discard(staging)
    return replace(published, site=target)


def _make_site(out: Path, root: Path, keep: Path | None, stages: _Stages, warm: Warm | None, store: Cache) -> int:
    """mkdocs and Pagefind over the rendered Markdown, then publish (or, in a preview, update its folder)."""
    target = preview_folder(out) if warm else out
    previous = warm.record if warm and warm.record.site and target.is_dir() else reuse.load(root, out)
    if warm:
        warm.record = Record()  # until this build succeeds: a folder left half-updated is built afresh next time
        if previous.site is not None and previous.site != target:
            previous = _adopt(previous, target)
    in_place = warm is not None and previous.site == target  # `portal build` never: it publishes by a swap
    staging = None if in_place else write.make_staging(target)
    site_dir = target if staging is None else staging / "site"
    try:
        digest, kept = (warm.markdown, warm.mkdocs) if warm else (reuse.file_digest, None)
        record = run_mkdocs(root / "markdown", site_dir, previous=previous, digest=digest, kept=kept)
        stages.mark("mkdocs")
        pages = {page.dest: page.key for page in record.pages.values()}
        record.shards = run_pagefind(site_dir, pages, previous, html=record.html())
        stages.mark("pagefind")
        if keep is not None:
            write.discard(keep)
            shutil.copytree(root / "markdown", keep)
        aside = None if warm else reuse.write_aside(root, record, site_dir)
        if staging is not None:
            write.publish(site_dir, target, background=warm is not None)  # a preview process lives on to delete it
        if aside is not None:
            reuse.commit(aside)
        elif warm is not None:
            warm.record = replace(record, site=target)
        store.prune()  # only after success: a failed build keeps what the next one can reuse
    finally:
        if staging is not None:
            write.discard(staging)
    stages.mark("publish")
    return len(record.pages)


@dataclass
class _Rendered:
    """What the child process of a build hands back: the checker's warnings, the number of guides, the cache
    entries it used, its stage timings and its peak memory."""

    warnings: list[Problem]
    services: int
    used: set[str]
    seconds: dict[str, float]
    peak_mib: int


def _check_and_render(content: Path, config: Path, out: Path, today: date) -> _Rendered | list[Problem]:
    """In the child process: check, then render the Markdown; the problems if the content has errors."""
    stages = _Stages()
    result = check(content, config, today, out)
    stages.mark("check")
    if result.catalogue is None:
        return result.errors
    digests = {name: doc.digest for name, doc in result.catalogue.sources.items()}
    catalogue = replace(result.catalogue, sources={})
    result.catalogue = None
    gc.freeze()  # the process ends with the render: the collector need never walk the catalogue
    keys = render_keys(catalogue, today, digests, render.code_digest())
    store = _render(catalogue, today, cache.beside(out), keys, None)
    stages.mark("render")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return _Rendered(result.warnings, len(catalogue.services), store.used, stages.seconds, peak)


def _build_cold(content: Path, config: Path, out: Path, today: date, keep: Path | None, stages: _Stages) -> BuildReport:
    """`portal build`: the catalogue (570 MiB at 10,000 guides) lives only in a child process that checks and
    renders, and is gone before mkdocs and Pagefind start."""
    root = cache.beside(out)
    with cache.locked(root):
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as child:
            rendered = child.submit(_check_and_render, content, config, out, today).result()
        if isinstance(rendered, list):
            raise ContentError(rendered)
        stages.mark("render")  # the child's whole run, of which its check:
        checked = rendered.seconds["check"]
        stages.seconds = {"check": checked, "render": stages.seconds["render"] - checked}
        store = Cache(root)
        store.used = rendered.used
        pages = _make_site(out, root, keep, stages, None, store)
    return BuildReport(pages, rendered.services, 0.0, rendered.warnings, stages.seconds, rendered.peak_mib)


def build(
    content: Path, config: Path, out: Path, today: date, keep_markdown: Path | None = None, warm: Warm | None = None
) -> BuildReport:
    """Check, then build (`warm`: a preview's state); raises ContentError (with every problem) or BuildError."""
    started = time.perf_counter()
    stages = _Stages()
    if warm is None:
        report = _build_cold(content, config, out, today, keep_markdown, stages)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        return replace(report, seconds=time.perf_counter() - started, peak_mib=max(peak, report.peak_mib))
    result = check(content, config, today, out, warm.memo)
    stages.mark("check")
    if result.catalogue is None:
        raise ContentError(result.errors)
    digests = {name: doc.digest for name, doc in result.catalogue.sources.items()}
    # Line maps are only for messages; drop them before the memory-hungry mkdocs stage.
    catalogue, result.catalogue = replace(result.catalogue, sources={}), None
    # The catalogue lives through the build: without this the collector walks its 10,000 guides in every full
    # collection (a second of a preview's rebuild). It stays frozen until Warm.settle() collects.
    gc.freeze()
    pages = build_site(catalogue, out, today, keep_markdown, stages, digests, warm)
    return BuildReport(
        pages,
        len(catalogue.services),
        time.perf_counter() - started,
        result.warnings,
        stages.seconds,
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    )
