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

from core.load import Stat, file_stat, settled

MANIFEST = "manifest.json"
SCHEMA = 3


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
    statics: list[str] = field(default_factory=list)  # every other file mkdocs wrote (theme assets, 404.html …)
    templates: str = ""  # the key the theme's static templates were made under (mkdocs_build._Site)

    def describes(self, site: Path) -> bool:
        """The record is of the folder `site` itself: a preview's folder, updated in place."""
        return self.site is not None and self.site.resolve() == site.resolve()

    def files(self) -> set[str]:
        """Every file of the site but the search bundles', relative to it."""
        return {page.dest for page in self.pages.values()} | set(self.statics)

    def html(self) -> list[str]:
        """Every HTML file of the site but the search bundles': what Pagefind indexes."""
        return [page.dest for page in self.pages.values()] + [rel for rel in self.statics if rel.endswith(".html")]


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
        return Record(out, pages, dict(data["shards"]), list(data["statics"]), str(data["templates"]))
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
        "statics": record.statics,
        "templates": record.templates,
    }
    aside = cache_dir / f"{MANIFEST}.new"
    aside.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return aside


def commit(aside: Path) -> None:
    """The staged site is published: its record becomes the one the next build reads."""
    os.replace(aside, aside.with_name(MANIFEST))


class Digests:
    """SHA-256 of files, hashed again only when a file's `file_stat` changed: for a long-running preview, whose
    Markdown folder only builds write (reading and hashing 10,000 pages took half a second a rebuild)."""

    def __init__(self) -> None:
        self._known: dict[Path, tuple[Stat, str]] = {}

    def __call__(self, path: Path) -> str:
        now = file_stat(path)  # before reading: an edit after it changes the stat, and is hashed next time
        found = self._known.get(path)
        if found is not None and found[0] == now:
            return found[1]
        value = file_digest(path)
        if settled(now):
            self._known[path] = (now, value)
        return value


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def replace(path: Path, data: bytes, compare: bool = True) -> None:
    """Write a file of a folder updated in place, unless it holds `data` already (`compare`). Written aside and
    renamed: never into the old file, which may be a hard link to the published site's, and a request meanwhile
    gets the old file or the new, never half of one."""
    try:
        if compare and path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.new")
    aside.write_bytes(data)
    os.replace(aside, path)


def remove(site: Path, rels: set[str]) -> None:
    """Delete these files of a folder updated in place, and the folders they leave empty."""
    for rel in sorted(rels):
        path = site / rel
        path.unlink(missing_ok=True)
        for parent in path.parents:
            if parent == site or not parent.is_relative_to(site) or not parent.is_dir() or any(parent.iterdir()):
                break
            parent.rmdir()


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
