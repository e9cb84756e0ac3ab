"""Stage 5 — write: the only stage that touches the output; build aside, then swap."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path


def make_staging(out: Path) -> Path:
    """A fresh folder beside `out` (same filesystem, so the final swap is a rename)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}-staging-", dir=out.parent)).resolve()


def write_files(root: Path, files: Iterable[tuple[str, str]], theme: dict[str, bytes]) -> int:
    """Write rendered text files and verbatim theme files under `root`; return the number of pages."""
    pages = 0
    for rel, text in files:
        pages += rel.endswith(".md")
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for rel, data in theme.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return pages


def copy_files(root: Path, files: dict[str, Path]) -> None:
    """Copy content files (blank forms, samples) into the build as they are."""
    for rel, source in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)


def publish(built: Path, out: Path) -> None:
    """Replace `out` with `built` by two renames; the old site is removed only after."""
    old = out.with_name(f".{out.name}-old-{os.getpid()}")
    if out.exists():
        out.rename(old)
    try:
        built.rename(out)
    except OSError:
        if old.exists():
            old.rename(out)  # put the published site back before reporting
        raise
    shutil.rmtree(old, ignore_errors=True)


def discard(staging: Path) -> None:
    """Remove a staging folder after success or failure."""
    shutil.rmtree(staging, ignore_errors=True)
