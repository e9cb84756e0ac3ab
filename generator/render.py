"""Stage 4 — render: Jinja2 (autoescape on) turns the context into Markdown pages and mkdocs.yml."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import quote

import segno
import yaml
from jinja2 import BytecodeCache, Environment, FileSystemLoader, StrictUndefined
from jinja2.bccache import Bucket
from markupsafe import Markup, escape

from core.catalogue import Catalogue
from core.guide import Service
from core.stats import Stats
from core.vocab import LEVELS
from generator import cache, reuse
from generator import context as ctx
from generator.cache import Cache
from generator.charts import bars, percent
from generator.disclosure import Matrix
from generator.fragments import Fragments, piece

TEMPLATES = Path(__file__).parent / "templates"
THEME = Path(__file__).parent / "theme"
# Characters Python-Markdown (with tables) treats as syntax; HTML specials are left to autoescape.
MD_SPECIAL = "\\`*_{}[]()#+-.!|"
URL_SAFE = ":/?#@!$&'*+,;=%-._~"  # characters a validated link keeps unquoted in a URL
# Python-Markdown's placeholders are delimited by STX and ETX: in an editor's text they would pull in stashed HTML.
PLACEHOLDER_MARKS = "\x02\x03"
# One pass of str.translate (a million values at 10,000 services: a regular expression's substitution took seconds).
MD_ESCAPES = str.maketrans({**{c: "\\" + c for c in MD_SPECIAL}, **dict.fromkeys(PLACEHOLDER_MARKS)})
NAV: tuple[tuple[str, str], ...] = (
    ("首页", "index.md"),
    ("办事指南", "services/index.md"),
    ("表格下载", "downloads.md"),
    ("限时办结", "time-limits.md"),
    ("服务承诺", "promises.md"),
    ("窗口与人员", "windows.md"),
    ("办公场所", "offices/index.md"),
    ("工作制度", "rules.md"),
    ("投诉渠道", "complaints.md"),
    ("通知公告", "notices/index.md"),
    ("政务公开", "disclosure.md"),
    ("服务评价公示", "ratings.md"),
    ("单位概况", "about.md"),
    ("搜索", "search.md"),
)
# Footer keys of site_config.yml besides 主办单位 (which falls back to the agency's name).
GOV_KEYS = ("undertaker", "site_code", "icp", "police_record", "gov_badge", "gov_badge_link")


def md_escape(value: str) -> str:
    """Backslash-escape Markdown syntax so editors' text is always shown as text."""
    return value.translate(MD_ESCAPES)


def _finalize(value: Any) -> Any:
    """Every `{{ }}` is plain text on one line unless a filter said otherwise."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return md_escape(" ".join(value.split()))


def _html(value: Any) -> Markup:
    """For values inside raw HTML blocks, which Markdown leaves alone: HTML-escape only."""
    return escape(str(value))


def _para(value: str) -> Markup:
    """Multi-line text as Markdown paragraphs, each escaped."""
    blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", value) if b.strip()]
    return Markup("\n\n".join(str(escape(md_escape(b))) for b in blocks))


def _url(value: str) -> Markup:
    """A validated link made safe for a Markdown link target; "&" as "&amp;", since Python-Markdown passes
    character references ("&#106;") through to the page, where the browser would decode them."""
    return Markup(quote(value, safe=URL_SAFE).replace("&", "&amp;"))


QR_KEY = ("error=m mask=4 micro=False", "scale=2 border=2 omitsize=False", version("segno"))  # as _qr makes them


def _qr_key(value: str) -> str:
    """The cache key of a QR code."""
    return cache.key("qr", value, *QR_KEY)


def _qr(value: str, store: Cache | None = None) -> Markup:
    """An offline QR code of `value` as inline SVG (half the render stage at scale: kept in the build cache)."""
    name = _qr_key(value)
    found = store.get(name) if store is not None else None
    if found is not None:
        return Markup(found.decode("utf-8"))
    # A fixed mask skips segno's search for the best of eight; every mask is valid and scans fine at this size.
    svg = segno.make(value, error="m", mask=4, micro=False).svg_inline(scale=2, border=2, omitsize=False)
    if store is not None:
        store.put(name, svg.encode("utf-8"))
    return Markup(svg)


class Compiled(BytecodeCache):
    """Templates compiled once per process, by name and a hash of their source: a preview's rebuild compiled all 51
    again (a third of a second). Every environment using one has the same options, which shape the code."""

    def __init__(self) -> None:
        self._code: dict[str, tuple[str, object]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        found = self._code.get(bucket.key)
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]  # type: ignore[assignment]  # the code object compile() made

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = (bucket.checksum, bucket.code)


COMPILED = Compiled()


def _environment(store: Cache | None = None) -> Environment:
    """The Jinja environment: autoescape on, Markdown-escape on every expression."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        bytecode_cache=COMPILED,
        autoescape=True,
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        percent=lambda r: Markup(escape(percent(r))),
        h=_html,
        para=_para,
        url=_url,
        qr=lambda value: _qr(value, store),
        file=lambda value, prefix="../": _url(ctx.file_href(value, prefix)),
    )
    return env


def mkdocs_config(catalogue: Catalogue) -> str:
    """mkdocs.yml, dumped from data so no editor text can break its YAML. The theme prints values unescaped:
    theme/hooks.py escapes the texts, and the address is quoted (the theme puts it in canonical links)."""
    config = catalogue.config
    data = {
        "site_name": config.site_name,
        "site_url": quote(config.site_url, safe=URL_SAFE),
        "site_description": config.description or config.site_name,
        "copyright": config.copyright or catalogue.agency.name,
        "docs_dir": "docs",
        "use_directory_urls": True,
        "theme": {
            "name": "material",
            "custom_dir": "overrides",
            "language": "zh",
            "font": False,  # no request to a font CDN: the site must work on an intranet kiosk
            "palette": {"primary": "custom", "accent": "custom"},  # colours with AA contrast: theme portal.css
            "features": ["navigation.top"],
        },
        "plugins": [],  # no lunr search: Pagefind Extended indexes the built site instead
        "hooks": ["hooks.py"],
        "markdown_extensions": [
            "tables",
            "attr_list",
            "md_in_html",
            "admonition",
            {"toc": {"permalink": False}},
        ],
        "extra_css": ["assets/portal.css"],
        "extra_javascript": ["assets/portal.js"],
        "extra": {"generator": False, "forms": config.forms.model_dump(), "gov": gov_footer(catalogue)},
        "nav": [{title: path} for title, path in NAV],
        "validation": {
            "nav": {"omitted_files": "ignore", "absolute_links": "ignore"},
            "links": {"absolute_links": "ignore", "unrecognized_links": "warn", "anchors": "warn"},
        },
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def gov_footer(catalogue: Catalogue) -> dict[str, str | None]:
    """What every page's footer carries (主办单位, 网站标识码, 备案号 …): theme/overrides/partials/copyright.html."""
    return {
        "organizer": catalogue.config.organizer or catalogue.agency.name,
        **catalogue.config.model_dump(include=set(GOV_KEYS)),
    }


def ratings_charts(stats: Stats) -> dict[str, Markup]:
    """The 服务评价公示 charts for the newest month and the last twelve."""
    if not stats.months:
        return {}
    latest, recent = stats.months[0], list(reversed(stats.months[:12]))
    given = {str(k): n for k, n in latest.evaluations.levels.items()}
    counts = {level: given.get(str(level), 0) for level in LEVELS}
    levels = [(LEVELS[level], float(count), str(count)) for level, count in counts.items()]
    windows = [(w.label, w.rate or 0.0, f"{percent(w.rate)}（{w.total} 条）") for w in latest.windows]
    volume = [(m.month, float(sum(m.cases.values())), str(sum(m.cases.values()))) for m in recent]
    on_time = [(m.month, m.on_time.rate or 0.0, percent(m.on_time.rate)) for m in recent]
    return {
        "levels": bars(f"{latest.month} 评价等级分布（条）", levels),
        "windows": bars(f"{latest.month} 各窗口满意率", windows, 1.0),
        "volume": bars("近 12 个月投诉、意见建议和差评整改（件）", volume),
        "on_time": bars("近 12 个月督办按时办结率", on_time, 1.0),
    }


def iter_site(
    catalogue: Catalogue,
    today: date,
    store: Cache | None = None,
    fresh: Callable[[str], bool] = lambda _: False,
    fragments: Fragments | None = None,
) -> Iterator[tuple[str, str]]:
    """The generated files one at a time, so a 10,000-service build never holds them all; `store` keeps
    what is costly to make (QR codes) between builds, a service page that is `fresh` (by code) in the build
    folder is not made again, and `fragments` keeps each guide's pieces of the summary pages in a preview."""
    env = _environment(store)
    site = ctx.build_context(catalogue, today, fragments)
    env.globals.update(site)

    macros: dict[str, Callable[..., str]] = {}

    def macro(name: str) -> Callable[..., str]:
        """The `row` macro of `rows/<name>.md.j2`: a third of the cost of rendering a template per row (60,000
        rows at 10,000 guides)."""
        if name not in macros:
            macros[name] = env.get_template(f"rows/{name}.md.j2").module.row  # type: ignore[attr-defined]
        return macros[name]

    def row(name: str, s: Service, variant: str = "", **values: Any) -> Markup:
        """`rows/<name>.md.j2` for one guide: its piece of a summary page (`variant` names what else shapes it)."""
        return piece(fragments, f"{name}:{variant}:{today}", s, lambda: Markup(macro(name)(s, variant, **values)))

    def rows(name: str, services: list[Service], variant: str = "", sep: str = "\n") -> Markup:
        """`row` for each guide of a list, joined by `sep`: a summary page's list (the template gets `variant`)."""
        return Markup(sep).join(row(name, s, variant) for s in services)

    def matrix_rows(mx: Matrix) -> Markup:
        """A 政务公开 table's rows, one per guide (the loop in Python: 40,000 rows at 10,000 guides)."""
        return Markup("\n").join(row("disclosure", s, mx.title, cells=cells, items=mx.items) for s, cells in mx.rows)

    env.globals.update(row=row, rows=rows, matrix_rows=matrix_rows)
    yield "mkdocs.yml", mkdocs_config(catalogue)

    def page(target: str, template: str, **extra: Any) -> tuple[str, str]:
        return f"docs/{target}", env.get_template(template).render(**extra)

    for name in (
        "index",
        "time-limits",
        "promises",
        "windows",
        "rules",
        "complaints",
        "disclosure",
        "about",
        "search",
        "downloads",
        "contact",
        "privacy",
    ):
        yield page(f"{name}.md", f"{name}.md.j2")
    yield page("sitemap.md", "sitemap.md.j2", nav=NAV)
    # From the first build: an honest empty state until `portal stats export` has written the figures.
    charts = ratings_charts(catalogue.stats) if catalogue.stats is not None else {}
    yield page("ratings.md", "ratings.md.j2", stats=catalogue.stats, charts=charts)
    yield page("services/index.md", "catalogue.md.j2")
    yield page("offices/index.md", "offices.md.j2")
    yield page("notices/index.md", "notices.md.j2", archive=False)
    yield page("notices/archive.md", "notices.md.j2", archive=True)
    for category in catalogue.config.categories:
        yield page(f"categories/{category.id}.md", "category.md.j2", category=category)
    for office in catalogue.offices:
        yield page(f"offices/{office.id}.md", "office.md.j2", office=office)
    for notice in catalogue.notices:
        yield page(f"notices/{notice.id}.md", "notice.md.j2", notice=notice)
    service_template = env.get_template("service.md.j2")
    for service in catalogue.services:
        if fresh(service.code):
            if store is not None:  # its QR code stays cached for when the page is made again
                store.keep(_qr_key(ctx.service_url(catalogue, service)))
            continue
        view = ctx.service_view(catalogue, service, today)
        jsonld = Markup(ctx.json_ld(catalogue, view))
        yield f"docs/services/{service.code}.md", service_template.render(v=view, s=service, jsonld=jsonld)
    yield "docs/catalogue.json", ctx.catalogue_json(catalogue, today, fragments)


def code_digest() -> str:
    """What the generator is made of (its code, templates and theme, and the content model): part of every key of
    a rendered page, so a new version never reuses an old version's output."""
    root = Path(__file__).parent.parent
    files = sorted([*root.joinpath("generator").rglob("*"), *root.joinpath("core").glob("*.py")])
    files = [p for p in files if p.is_file() and "__pycache__" not in p.parts]
    return reuse.digest(*(part for p in files for part in (p.relative_to(root).as_posix(), p.read_bytes())))


def theme_files() -> dict[str, bytes]:
    """Static theme files copied verbatim: template overrides and assets."""
    files = {}
    for path in sorted(THEME.rglob("*")):
        if path.is_file():
            files[str(path.relative_to(THEME))] = path.read_bytes()
    return files
