"""The generator's pipeline: load → validate → audit → context/render → write → mkdocs → publish."""

from __future__ import annotations

import itertools
import resource
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from core.catalogue import Catalogue
from core.errors import ContentError, Problem
from core.validate import load_catalogue
from generator import audit, cache, render, write
from generator.cache import Cache
from generator.mkdocs_build import run_mkdocs, run_pagefind


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
    peak_mib: int = 0  # this process (load … mkdocs)
    search_peak_mib: int = 0  # the Pagefind child process


def check(content: Path, config: Path, today: date, published: Path) -> CheckResult:
    """Validate and audit the content; nothing is written."""
    try:
        catalogue = load_catalogue(content, config)
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


def build_site(
    catalogue: Catalogue, out: Path, today: date, keep_markdown: Path | None = None, stages: _Stages | None = None
) -> int:
    """Render, build aside and swap into `out`; on any failure `out` is left untouched."""
    stages = stages or _Stages()
    store = Cache(cache.beside(out))
    ledger = ("docs/publication.json", audit.ledger(catalogue, today))
    files = itertools.chain(render.iter_site(catalogue, today, store), [ledger])
    staging = write.make_staging(out)
    try:
        build_dir, site_dir = staging / "build", staging / "site"
        pages = write.write_files(build_dir, files, render.theme_files())
        write.copy_files(build_dir / "docs", catalogue.files)
        stages.mark("render")
        run_mkdocs(build_dir, site_dir)
        stages.mark("mkdocs")
        run_pagefind(site_dir)
        stages.mark("pagefind")
        if keep_markdown is not None:
            write.discard(keep_markdown)
            build_dir.rename(keep_markdown)
        write.publish(site_dir, out)
        store.prune()  # only after success: a failed build keeps what the next one can reuse
    finally:
        write.discard(staging)
    stages.mark("publish")
    return pages


def build(content: Path, config: Path, out: Path, today: date, keep_markdown: Path | None = None) -> BuildReport:
    """Check, then build; raises ContentError (with every problem) or BuildError."""
    started = time.perf_counter()
    stages = _Stages()
    result = check(content, config, today, out)
    stages.mark("check")
    if result.catalogue is None:
        raise ContentError(result.errors)
    # Line maps are only for messages; drop them before the memory-hungry mkdocs stage.
    catalogue, result.catalogue = replace(result.catalogue, sources={}), None
    pages = build_site(catalogue, out, today, keep_markdown, stages)
    return BuildReport(
        pages,
        len(catalogue.services),
        time.perf_counter() - started,
        result.warnings,
        stages.seconds,
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
    )
