"""Stage 5 — write: the only stage that touches the output; build aside, then swap.

The Markdown folder mkdocs reads is kept between builds in the build cache: a page that did not change is not
rendered or written again (its render key says so, `RENDERED`), and a page that is gone is removed."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

RENDERED = ".rendered.json"  # in the Markdown folder: the render key of each page it holds


def make_staging(out: Path) -> Path:
    """A fresh folder beside `out` (same filesystem, so the final swap is a rename)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}-staging-", dir=out.parent)).resolve()


def rendered(root: Path) -> dict[str, str]:
    """The render keys of the pages the folder holds, forgotten until `record_rendered` (a build that stops
    half-way leaves no keys, so the next one writes everything)."""
    path = root / RENDERED
    try:
        keys = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        keys = {}
    path.unlink(missing_ok=True)
    return keys if isinstance(keys, dict) else {}


def record_rendered(root: Path, keys: dict[str, str]) -> None:
    """Every file is written: remember the render keys."""
    (root / RENDERED).write_text(json.dumps(keys), encoding="utf-8")


def write_files(root: Path, files: Iterable[tuple[str, str]], theme: dict[str, bytes]) -> set[str]:
    """Write rendered text files and verbatim theme files under `root`; the paths written."""
    written = set()
    for rel, text in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.add(rel)
    for rel, data in theme.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.add(rel)
    return written


def copy_files(root: Path, files: dict[str, Path]) -> set[str]:
    """Copy content files (blank forms, samples) into the build as they are; the paths written."""
    for rel, source in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
    return set(files)


def files_under(root: Path) -> set[str]:
    """Every file under `root`, as paths relative to it (one walk: 10,000 pages are walked once a build)."""
    found: set[str] = set()
    for folder, _, names in os.walk(root):
        rel = os.path.relpath(folder, root).replace(os.sep, "/")
        found.update(names if rel == "." else (f"{rel}/{name}" for name in names))
    return found


def remove_others(root: Path, keep: set[str], present: set[str]) -> None:
    """Delete every file of `present` (files_under(root) before the build wrote) not in `keep`: pages of deleted
    content."""
    for rel in present - keep:
        (root / rel).unlink(missing_ok=True)


def publish(built: Path, out: Path, background: bool = False) -> None:
    """Replace `out` with `built` by two renames; the old site is removed only after (`background`: by a thread,
    so that a long-running preview shows the new site at once)."""
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))  # unique: a deletion may still run
    existed = out.exists()
    if existed:
        os.replace(out, old)  # onto the empty folder just made
    try:
        built.rename(out)
    except OSError:
        if existed:
            old.rename(out)  # put the published site back before reporting
        else:
            old.rmdir()
        raise
    if background:
        threading.Thread(target=shutil.rmtree, args=(old,), kwargs={"ignore_errors": True}, daemon=True).start()
    else:
        shutil.rmtree(old, ignore_errors=True)


def discard(staging: Path) -> None:
    """Remove a staging folder after success or failure."""
    shutil.rmtree(staging, ignore_errors=True)
