"""Stage 6 — mkdocs build of the staged Markdown, its pages on every core, then the Pagefind search index.

`mkdocs build` renders one page after another. Here mkdocs' own steps run as it runs them (config, files, nav and
theme once), then the pages are converted and written in forked workers, each with the shared state already in
memory: no page depends on another's rendering (the nav's titles are in mkdocs.yml, and there is no prev/next
footer), so the output is byte for byte what `mkdocs build` writes (tests/test_pipeline.py compares them). Anchor
links are checked afterwards on what the workers report. A page whose Markdown and shared inputs are those of the
published site's copy is linked from there instead (generator/reuse.py); in a preview's folder, updated in place,
it is left where it is and only changed files are written. mkdocs' page steps are private API: pyproject pins
mkdocs below 1.7."""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path, PurePath

from mkdocs import utils
from mkdocs.commands.build import _build_page, _build_theme_template, _populate_page
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import MkDocsException
from mkdocs.structure.files import File, InclusionLevel, get_files, set_exclusions
from mkdocs.structure.nav import get_navigation
from mkdocs.structure.pages import Page

from generator import reuse, write
from generator.errors import BuildError
from generator.render import Compiled
from generator.reuse import PageRecord, Record

JOBS = min(2, os.cpu_count() or 1)  # the budget machine has two cores
PARALLEL_FROM = 400  # pages; below this a fork costs more than it saves
CHUNK = 100  # pages a worker takes at a time
BIG_PAGE = 200_000  # bytes of Markdown: such a page (the 政务公开 tables at scale) goes first, alone
# What shapes every page besides its Markdown, mkdocs.yml, the theme and the navigation.
VERSIONS = tuple(f"{name} {version(name)}" for name in ("mkdocs", "mkdocs-material", "markdown", "pymdown-extensions"))
# A page's anchors (ids it has) and the anchors it links to on other pages: {target page: {anchor: as written}}.
Anchors = tuple[set[str], dict[str, dict[str, str]]]
Lookups = dict[str, str | None]  # each link target the page looked up → its URL (None: no such file)
log = logging.getLogger("mkdocs")


class _Collect(logging.Handler):
    """Keeps mkdocs warnings so a failed strict build can say why."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _Site:
    """What every page shares, made once before any worker starts, as mkdocs.commands.build.build makes it."""

    def __init__(self, config: MkDocsConfig, in_place: bool = False) -> None:
        config = config.plugins.on_config(config)
        config.plugins.on_pre_build(config=config)
        self.in_place = in_place  # updating a preview's folder: only what changed is written, nothing cleaned
        if not in_place:
            utils.clean_directory(config.site_dir)
        files = get_files(config)
        env = config.theme.get_env()
        env.bytecode_cache = THEME_COMPILED  # a preview's rebuild compiled the theme's templates again
        files.add_files_from_theme(env, config)
        files = config.plugins.on_files(files, config=config)
        set_exclusions(files, config)
        nav = get_navigation(files, config)
        nav = config.plugins.on_nav(nav, config=config, files=files)
        self.pages = files.documentation_pages(inclusion=InclusionLevel.is_included)
        for file in self.pages:
            if file.page is None:
                Page(None, file, config)
        for page in nav.pages:  # the nav shows their front matter (icon, status) on every page
            page.read_source(config)
        self.env = config.plugins.on_env(env, config=config, files=files)
        self.config, self.files, self.nav = config, files, nav
        self.by_uri = {f.src_uri: f for f in self.pages}
        self.fingerprint = _fingerprint(config, nav.pages)

    def keys(self, digest: Callable[[Path], str] = reuse.file_digest) -> dict[str, str]:
        """Each page's key: its Markdown's digest and what every page shares."""
        return {
            uri: reuse.digest(self.fingerprint, digest(Path(f.abs_src_path or ""))) for uri, f in self.by_uri.items()
        }

    def reuse(self, previous: Record, keys: dict[str, str]) -> dict[str, PageRecord]:
        """Each page whose key and links are those of its published copy: linked from it, or in place left as it is;
        their records."""
        kept: dict[str, PageRecord] = {}
        if previous.site is None:
            return kept
        urls = {uri: file.url for uri, file in self.files.src_uris.items()}  # lookups are recorded as these keys
        made: set[Path] = set()
        for uri, key in keys.items():
            old = previous.pages.get(uri)
            if old is None or old.key != key or any(urls.get(path) != url for path, url in old.lookups.items()):
                continue  # changed, or a link of it now resolves elsewhere (or no longer, or now does)
            source = previous.site / old.dest
            try:
                found = source.stat()
                if (found.st_size, found.st_mtime_ns) == (old.size, old.mtime):  # not changed by hand since
                    if not self.in_place:
                        reuse.link(source, Path(self.config.site_dir) / old.dest, made)
                    kept[uri] = old
            except OSError:
                continue  # changed or gone under us: build it
        return kept

    @contextmanager
    def _recording(self) -> Iterator[Lookups]:
        """Record which files the page being built looks up for its links (mkdocs' link processor asks Files)."""
        real = self.files.get_file_from_path
        seen: Lookups = {}

        def lookup(path: str) -> File | None:
            file = real(path)
            seen[PurePath(path).as_posix()] = None if file is None else file.url
            return file

        self.files.get_file_from_path = lookup  # type: ignore[method-assign]
        try:
            yield seen
        finally:
            del self.files.get_file_from_path

    def templates_key(self) -> str:
        """What the theme's static templates are made of: what every page shares, the build date (sitemap.xml
        dates every page) and the list of pages."""
        return reuse.digest(self.fingerprint, utils.get_build_date(), *sorted(self.by_uri))

    def write_static(self, previous: Record) -> list[str]:
        """Theme assets and static templates (404.html, sitemap.xml); the files written, relative to the site. In
        place, an asset is written only if it changed, and the templates only if their key did."""
        statics = [f for f in self.files if not f.is_documentation_page() and f.inclusion.is_included()]
        if not self.in_place:
            self.files.copy_static_files(inclusion=InclusionLevel.is_included)
        for file in statics if self.in_place else ():
            reuse.replace(Path(file.abs_dest_path), file.content_bytes)
        site = Path(self.config.site_dir)
        templates = self.config.theme.static_templates
        made = [name for t in templates for name in (t, f"{t}.gz") if name in previous.statics]
        if self.in_place and previous.templates == self.templates_key() and all((site / n).is_file() for n in made):
            return [f.dest_uri for f in statics] + made  # sitemap.xml of 10,000 pages: a third of a second
        for template in templates:
            if self.in_place:  # mkdocs opens the .gz it finds, which may be a hard link: start a new one
                (site / f"{template}.gz").unlink(missing_ok=True)
            with _writing_aside(self.in_place):
                _build_theme_template(template, self.env, self.files, self.config, self.nav)
        written = [name for t in templates for name in (t, f"{t}.gz") if (site / name).is_file()]
        return [f.dest_uri for f in statics] + written

    def build(self, uris: list[str]) -> dict[str, tuple[Anchors, Lookups]]:
        """Convert and write these pages; what anchor checking and the next build need of each."""
        found = {}
        for uri in uris:
            page = self.by_uri[uri].page
            assert page is not None
            with self._recording() as seen, _writing_aside(self.in_place):
                _populate_page(page, self.config, self.files)
                _build_page(page, self.config, self.pages, self.nav, self.env)
            links = {f.src_uri: dict(a) for f, a in (page.links_to_anchors or {}).items()}
            found[uri] = ((set(page.present_anchor_ids or ()), links), seen)
            page.content, page.markdown, page.toc = None, None, []  # type: ignore[assignment]  # memory stays flat
        return found


@contextmanager
def _writing_aside(active: bool) -> Iterator[None]:
    """mkdocs writes a page into the file it finds. In a folder updated in place that file may be a hard link to
    the published site's, and it is being served: write a new file beside it and rename it over (reuse.replace)."""
    if not active:
        yield
        return
    real = utils.write_file

    def write(content: bytes, output_path: str) -> None:
        reuse.replace(Path(output_path), content, compare=False)

    utils.write_file = write
    try:
        yield
    finally:
        utils.write_file = real


def _generated(root: Path, path: Path) -> bool:
    """Files beside the inputs that are not inputs: the render record, Python's bytecode of hooks.py (it holds
    the source's mtime, new each build)."""
    return any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(root).parts)


def _shared(root: Path, docs: Path) -> list[str | bytes]:
    """mkdocs.yml, the theme overrides and hooks: everything beside docs/, by name and bytes."""
    shared = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if Path(folder, name) != docs]  # 10,000 pages: not walked
        shared += [Path(folder, name) for name in names if not _generated(root, Path(folder, name))]
    return [part for p in sorted(shared) for part in (p.relative_to(root).as_posix(), p.read_bytes())]


def _fingerprint(config: MkDocsConfig, nav_pages: list[Page]) -> str:
    """What every page's HTML depends on besides its own Markdown: what is beside docs/, the navigation as pages
    print it, and the versions of what renders them."""
    nav = json.dumps([(p.file.src_uri, p.title, p.meta) for p in nav_pages], ensure_ascii=False, default=str)
    return reuse.digest(*VERSIONS, nav, *_shared(Path(config.config_file_path).parent, Path(config.docs_dir)))


@dataclass
class Kept:
    """What a preview keeps of mkdocs' shared steps (files, pages, navigation, theme) between the builds of its
    folder: a second at 10,000 pages. Made again when anything beside docs/, the list of pages or the date changed;
    each page reads its Markdown when built, as in any build."""

    key: str = ""
    site: _Site | None = None


def _site(build_dir: Path, site_dir: Path, in_place: bool, kept: Kept | None) -> tuple[_Site, str]:
    """mkdocs' shared steps, or what `kept` has of them when their inputs are the same; and their key."""
    key = ""
    if kept is not None and in_place:
        pages = sorted(write.files_under(build_dir / "docs"))
        shared = _shared(build_dir, build_dir / "docs")
        key = reuse.digest(str(site_dir.resolve()), utils.get_build_date(), *shared, *pages)
        site, same = kept.site, kept.key == key
        kept.key, kept.site = "", None  # untrusted until this build succeeds
        if site is not None and same:
            for page in site.nav.pages:  # the navigation's pages print their front matter on every page
                page.read_source(site.config)
            site.fingerprint = _fingerprint(site.config, site.nav.pages)
            return site, key
    config = load_config(config_file=str(build_dir / "mkdocs.yml"), site_dir=str(site_dir), strict=True)
    return _Site(config, in_place), key


_SITE: _Site | None = None  # a forked worker's inherited copy
THEME_COMPILED = Compiled()  # the theme's templates, compiled once a process (their options differ from ours)


def _work(chunk: list[str]) -> tuple[dict[str, tuple[Anchors, Lookups]], list[str]]:
    """In a worker: build a chunk of pages, with the warnings they raised."""
    assert _SITE is not None
    collect = _Collect()
    log.addHandler(collect)
    try:
        return _SITE.build(chunk), collect.messages
    finally:
        log.removeHandler(collect)


def _chunks(site: _Site, uris: list[str]) -> list[list[str]]:
    """Big pages first and alone, the rest in chunks, so both workers finish together."""
    size = {uri: os.path.getsize(site.by_uri[uri].abs_src_path or "") for uri in uris}
    order = sorted(size, key=lambda uri: -size[uri])
    big = [uri for uri in order if size[uri] > BIG_PAGE]
    rest = order[len(big) :]
    return [[uri] for uri in big] + [rest[i : i + CHUNK] for i in range(0, len(rest), CHUNK)]


def _build_pages(site: _Site, uris: list[str], jobs: int) -> tuple[dict[str, tuple[Anchors, Lookups]], list[str]]:
    """These pages, in `jobs` forked workers when there are enough of them."""
    global _SITE
    if jobs <= 1 or len(uris) < PARALLEL_FROM:
        return site.build(uris), []
    built: dict[str, tuple[Anchors, Lookups]] = {}
    messages: list[str] = []
    _SITE = site
    thaw = gc.get_freeze_count() == 0  # a preview keeps its state frozen between builds (pipeline.Warm.settle)
    gc.freeze()  # the shared state stays shared: no copy-on-write from reference counts the collector touches
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for found, said in pool.imap_unordered(_work, _chunks(site, uris)):
                built.update(found)
                messages += said
    finally:
        if thaw:
            gc.unfreeze()
        _SITE = None
    return built, messages


def _check_anchors(records: dict[str, PageRecord], built: set[str], level: int) -> None:
    """mkdocs' Page.validate_anchor_links on what the workers reported, for every link from or to a page built
    now (a link between two reused pages was checked when they were built, and neither changed)."""
    present: dict[str, set[str]] = {}
    for uri, record in sorted(records.items()):
        for target, wanted in record.links.items():
            if target not in records or (uri not in built and target not in built):
                continue
            ids = present.setdefault(target, set(records[target].anchors))
            for anchor, original in wanted.items():
                if anchor not in ids:
                    log.log(level, f"Doc file '{uri}' contains a link '{original}', but '{target}' lacks '#{anchor}'.")


def _records(site: _Site, keys: dict[str, str], built: dict[str, tuple[Anchors, Lookups]]) -> dict[str, PageRecord]:
    """What the next build needs to know of each page built now."""
    records = {}
    for uri, ((present, links), seen) in built.items():
        file = site.by_uri[uri]
        found = os.stat(file.abs_dest_path)
        records[uri] = PageRecord(
            keys[uri], file.dest_uri, found.st_size, found.st_mtime_ns, sorted(present), links, seen
        )
    return records


def run_mkdocs(
    build_dir: Path,
    site_dir: Path,
    jobs: int = JOBS,
    previous: Record | None = None,
    digest: Callable[[Path], str] = reuse.file_digest,
    kept: Kept | None = None,
) -> Record:
    """Build `build_dir/mkdocs.yml` into `site_dir` in strict mode (a warning is a bug of ours), reusing what
    `previous` published unchanged; a record of every page and static file (its shards empty). When `previous` is
    `site_dir` itself (a preview's folder) it is updated in place: only changed files are written, gone ones
    deleted. `digest`: how the Markdown files are hashed; `kept`: a preview's mkdocs state, for an update in
    place."""
    collect = _Collect()
    log.addHandler(collect)
    level = log.level
    log.setLevel(logging.WARNING)
    log.propagate = False
    try:
        previous, site_dir = previous or Record(), site_dir.resolve()  # mkdocs takes a relative one from mkdocs.yml
        in_place = previous.describes(site_dir)
        site, key = _site(build_dir, site_dir, in_place, kept)
        statics = site.write_static(previous)
        keys = site.keys(digest)
        reused = site.reuse(previous, keys)
        built, said = _build_pages(site, [uri for uri in site.by_uri if uri not in reused], jobs)
        collect.messages += said
        records = {**reused, **_records(site, keys, built)}
        _check_anchors(records, set(built), site.config.validation.links.anchors)
        site.config.plugins.on_post_build(config=site.config)
        if collect.messages:
            raise MkDocsException(f"Aborted with {len(collect.messages)} warnings in strict mode!")
        record = Record(pages=records, statics=statics, templates=site.templates_key())
        if in_place:  # pages of deleted content, files no longer in docs/
            reuse.remove(site_dir, previous.files() - record.files())
        if kept is not None and key:
            kept.key, kept.site = key, site
        return record
    except (MkDocsException, SystemExit) as exc:
        detail = "；".join(collect.messages) or str(exc)
        raise BuildError(f"mkdocs 构建失败：{detail}") from exc
    finally:
        log.removeHandler(collect)
        log.setLevel(level)
        log.propagate = True
