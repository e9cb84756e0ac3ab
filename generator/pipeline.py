"""The generator's pipeline: load → validate → audit → context/render → write → mkdocs → publish."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from generator import audit, render, write
from generator.errors import ContentError, Problem
from generator.load import load_content
from generator.mkdocs_build import run_mkdocs, run_pagefind
from generator.validate import Catalogue, validate


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


def check(content: Path, config: Path, today: date, published: Path) -> CheckResult:
    """Validate and audit the content; nothing is written."""
    try:
        catalogue = validate(load_content(content), config)
    except ContentError as exc:
        return CheckResult(None, errors=exc.problems)
    return CheckResult(catalogue, warnings=audit.audit(catalogue, today, content, published))


def _ledger(catalogue: Catalogue, today: date) -> str:
    """publication.json: which version of each service the published site carries."""
    data = {
        "published": today.isoformat(),
        "services": {s.code: s.updated.isoformat() for s in catalogue.services},
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def build_site(catalogue: Catalogue, out: Path, today: date, keep_markdown: Path | None = None) -> int:
    """Render, build aside and swap into `out`; on any failure `out` is left untouched."""
    files = itertools.chain(render.iter_site(catalogue, today), [("docs/publication.json", _ledger(catalogue, today))])
    staging = write.make_staging(out)
    try:
        build_dir, site_dir = staging / "build", staging / "site"
        pages = write.write_files(build_dir, files, render.theme_files())
        run_mkdocs(build_dir, site_dir)
        run_pagefind(site_dir)
        if keep_markdown is not None:
            write.discard(keep_markdown)
            build_dir.rename(keep_markdown)
        write.publish(site_dir, out)
    finally:
        write.discard(staging)
    return pages


def build(content: Path, config: Path, out: Path, today: date, keep_markdown: Path | None = None) -> BuildReport:
    """Check, then build; raises ContentError (with every problem) or BuildError."""
    started = time.perf_counter()
    result = check(content, config, today, out)
    if result.catalogue is None:
        raise ContentError(result.errors)
    # Line maps are only for messages; drop them before the memory-hungry mkdocs stage.
    catalogue, result.catalogue = replace(result.catalogue, sources={}), None
    pages = build_site(catalogue, out, today, keep_markdown)
    return BuildReport(pages, len(catalogue.services), time.perf_counter() - started, result.warnings)
