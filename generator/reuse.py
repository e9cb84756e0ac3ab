"""Incremental builds: what the published site was built from, so that the next build reuses every page and
search bundle whose inputs did not change.

The record (`manifest.json` in the build cache) names, for each page of the published site, the key it was built
under — a SHA-256 of its Markdown and of everything all pages share (mkdocs.yml, the theme, the navigation's
titles, the versions of mkdocs and its extensions) — and what checking it needs: the anchors it has, the anchors
it links to, and what each of its links resolved to. A page whose key is the same and whose links resolve as
before is hard-linked from the published site instead of being built; a search bundle whose pages all kept their
keys is linked too. A key names its inputs, so nothing stale can match. The record is tied to the published
folder (its inode): a site published by anything else, or a build that stopped between publishing and recording,
is not trusted, and everything is built again."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = "manifest.json"
SCHEMA = 2


@dataclass
class PageRecord:
    """One published page: its key, where its HTML is, and what checking links to and from it needs."""

    key: str
    dest: str  # the HTML file, relative to the site
    size: int  # with mtime: a file changed by hand since is built again
    mtime: int  # nanoseconds; hard links share it, so it stays the same from build to build
    anchors: list[str] = field(default_factory=list)  # ids the page has
    links: dict[str, dict[str, str]] = field(default_factory=dict)  # target page → {anchor: as written}
    lookups: dict[str, str | None] = field(default_factory=dict)  # link target → its URL then (None: no such file)


@dataclass
class Record:
    """What a published site was built from; empty when there is nothing to trust."""

    site: Path | None = None
    pages: dict[str, PageRecord] = field(default_factory=dict)
    shards: dict[str, str] = field(default_factory=dict)  # search bundle folder under pagefind/ → key


def digest(*parts: str | bytes) -> str:
    """SHA-256 of the parts, each delimited (so that two lists of parts never hash alike)."""
    hashed = hashlib.sha256(str(SCHEMA).encode())
    for part in parts:
        hashed.update(b"\0" + (part.encode("utf-8") if isinstance(part, str) else part))
    return hashed.hexdigest()


def load(cache_dir: Path, out: Path) -> Record:
    """The record of the site published at `out`, or an empty one."""
    try:
        data = json.loads((cache_dir / MANIFEST).read_text(encoding="utf-8"))
        if data.get("schema") != SCHEMA or data.get("inode") != out.stat().st_ino:
            return Record()
        pages = {uri: PageRecord(**page) for uri, page in data["pages"].items()}
        return Record(out, pages, dict(data["shards"]))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return Record()  # no record, or one this version cannot read: a full build


def write_aside(cache_dir: Path, record: Record, site: Path) -> Path:
    """Write the record of the site staged at `site` beside the current one; `commit` it once published."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "schema": SCHEMA,
        "inode": site.stat().st_ino,  # a rename keeps it: the published folder is the staged one
        "pages": {uri: vars(page) for uri, page in record.pages.items()},  # flat: asdict's deep copy took seconds
        "shards": record.shards,
    }
    aside = cache_dir / f"{MANIFEST}.new"
    aside.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return aside


def commit(aside: Path) -> None:
    """The staged site is published: its record becomes the one the next build reads."""
    os.replace(aside, aside.with_name(MANIFEST))


def link(source: Path, target: Path, made: set[Path] | None = None) -> None:
    """Reuse a published file: a hard link (new content is always written to a new file, never into a link).
    `made`: folders known to exist already."""
    if made is None or target.parent not in made:
        target.parent.mkdir(parents=True, exist_ok=True)
        if made is not None:
            made.add(target.parent)
    os.link(source, target)


def link_tree(source: Path, target: Path, skip: tuple[str, ...] = ()) -> None:
    """Hard-link every file under `source` to the same place under `target`, but for top-level names starting
    with one of `skip`."""
    made: set[Path] = set()
    for folder, _, names in os.walk(source):
        rel = Path(folder).relative_to(source)
        if rel.parts and rel.parts[0].startswith(skip):
            continue
        for name in names:
            if rel.parts or not name.startswith(skip):
                link(Path(folder, name), target / rel / name, made)
