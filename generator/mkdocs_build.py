"""Stage 6 — mkdocs build of the staged Markdown, then the Pagefind search index."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import MkDocsException

from generator.errors import BuildError


class _Collect(logging.Handler):
    """Keeps mkdocs warnings so a failed strict build can say why."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def run_mkdocs(build_dir: Path, site_dir: Path) -> None:
    """Build `build_dir/mkdocs.yml` into `site_dir` in strict mode (a warning is a bug of ours)."""
    logger = logging.getLogger("mkdocs")
    collect = _Collect()
    logger.addHandler(collect)
    previous = logger.level
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    try:
        config = load_config(config_file=str(build_dir / "mkdocs.yml"), site_dir=str(site_dir), strict=True)
        build(config)
    except (MkDocsException, SystemExit) as exc:
        detail = "；".join(collect.messages) or str(exc)
        raise BuildError(f"mkdocs 构建失败：{detail}") from exc
    finally:
        logger.removeHandler(collect)
        logger.setLevel(previous)
        logger.propagate = True


def run_pagefind(site_dir: Path) -> None:
    """Index the built site with Pagefind Extended, which segments Chinese."""
    # Run inside the site: Pagefind skips paths with hidden parts, and staging folders are hidden.
    command = [sys.executable, "-m", "pagefind", "--site", ".", "--silent"]
    result = subprocess.run(command, cwd=site_dir, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"搜索索引生成失败：{(result.stderr or result.stdout).strip()[-500:]}")
