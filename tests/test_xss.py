"""An XSS corpus kept as proof: every payload of tests/data/xss_payloads.txt goes through every text field of the
content into a built site, and through every form field, staff action and the JSON API into every backend page
that shows it. A page parsed with the stdlib HTML parser may show each payload only as text (or the field refuses
it with a message); no payload may ever produce executable output. `pytest -s` prints the counts."""

from __future__ import annotations

import copy
import html
import json
import math
import re
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin
from urllib.parse import quote

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from sqlalchemy import select
from wtforms.validators import Length

from core import model as m
from core.fields import CJK_GAP, CODE_PATTERN, HTML_TAG, SLUG_PATTERN, Link, Text
from core.guide import Attachment
from core.load import Document, load_file
from core.procedure import fill_all
from core.validate import SINGLE_MODELS, parse
from forms_api.complaints import ComplaintForm, SuggestionForm
from forms_api.evaluations import EvaluationForm
from forms_api.intake import RegisterForm
from forms_api.models import Case
from forms_api.staff import ActionForm, LoginForm
from forms_api.tracking import ActForm, TrackForm
from generator import pipeline
from generator.render import URL_SAFE
from tests.conftest import TODAY, login
from tests.factories import PROCEDURE, make_case

PAYLOAD_FILE = Path(__file__).parent / "data" / "xss_payloads.txt"
STATS = Path(__file__).parent / "data" / "stats.json"


def load_payloads() -> list[str]:
    """The corpus: one payload a line; `%% ` lines are comments, `%%esc ` lines are written with Python escapes."""
    payloads = []
    for line in PAYLOAD_FILE.read_text(encoding="utf-8").split("\n"):
        if not line or line.startswith("%% "):
            continue
        if line.startswith("%%esc "):
            line = line.removeprefix("%%esc ").encode("latin-1", "backslashreplace").decode("unicode_escape")
        payloads.append(line)
    return payloads


PAYLOADS = load_payloads()
CORPUS = [*PAYLOADS, "示例文字"]  # the backend's first run, with the benign last item, records benign pages


INVISIBLE = str.maketrans("", "", "\x02\x03")  # control characters the generator may drop (Markdown's own marks)


def norm(text: str) -> str:
    """Whitespace collapsed the way both the generator and HTML rendering collapse it."""
    return " ".join(text.translate(INVISIBLE).split())


# ------------------------------------------------------------ what counts as executable output
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "background", "poster"}
BAD_URL = re.compile(r"^(javascript:|vbscript:|data:text/html)", re.IGNORECASE)
FRAMES = {"iframe", "frame", "frameset", "object", "embed", "applet", "base"}
DATA_SCRIPTS = {"application/json", "application/ld+json"}


def _squash(value: str) -> str:
    """A URL as a browser reads its scheme: control characters and whitespace do not count."""
    return re.sub(r"[\x00-\x20\x7f-\x9f]+", "", value)


class Scan(HTMLParser):
    """One page: its script elements, dangerous attributes and elements, visible text and attribute values.
    <title> and <textarea> hold text only, as in browsers (the stdlib parser would read tags in them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[str, ...]] = []
        self.dangers: list[str] = []  # on* attributes, javascript: URLs, expression() — never allowed
        self.elements: list[str] = []  # frames, objects, base, meta refresh — allowed only if the benign page has them
        self.text: list[str] = []
        self.values: list[str] = []
        self.errors: dict[str, str] = {}  # form field → its message (the element with id="<field>-error")
        self.names: set[str] = set()  # form fields on the page
        self._script: dict[str, Any] | None = None
        self._style = False
        self._rcdata = False
        self._error: list[Any] | None = None  # [field, tag, depth] while inside the element id="<field>-error"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            self.values.append(value)
            if name.startswith("on"):
                self.dangers.append(f"<{tag} {name}={value[:60]!r}>")
            if name in URL_ATTRS and BAD_URL.match(_squash(value)):
                self.dangers.append(f"<{tag} {name}={value[:60]!r}>")
            if name == "style" and "expression(" in re.sub(r"/\*.*?\*/|[\s\\]", "", value).lower():
                self.dangers.append(f"<{tag} style={value[:60]!r}>")
        if tag in ("input", "textarea", "select") and "name" in values:
            self.names.add(values["name"])
        if tag in FRAMES or (tag == "meta" and values.get("http-equiv", "").lower() == "refresh"):
            self.elements.append(tag)
        if tag == "script":
            self._script = {"type": values.get("type", "").lower(), "src": values.get("src", ""), "text": []}
        if tag == "style":
            self._style = True
        if tag in ("title", "textarea"):
            self.set_cdata_mode(tag)
            self._rcdata = True
        if self._error is not None and tag == self._error[1]:
            self._error[2] += 1
        elif self._error is None and values.get("id", "").endswith("-error"):  # a form field's message
            self._error = [values["id"].removesuffix("-error"), tag, 1]

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            script, self._script = self._script, None
            if script["src"]:  # the page's own assets, whatever the site's path: the part from assets/ on
                self.scripts.append(("src", re.sub(r"^.*?(?=assets/)|^(\.\./|\./)+", "", script["src"])))
            elif script["type"] in DATA_SCRIPTS:
                self.scripts.append(("data", script["type"]))
            else:
                # the page's own base URL, relative (../..) or from the site's address (404.html): a JSON string
                body = re.sub(r'new URL\("(?:[^"\\]|\\.)*"', 'new URL(""', "".join(script["text"]))
                self.scripts.append(("inline", script["type"], body))
        if tag == "style":
            self._style = False
        if tag in ("title", "textarea"):
            self._rcdata = False
        if self._error is not None and tag == self._error[1]:
            self._error[2] -= 1
            if not self._error[2]:
                self._error = None

    def handle_data(self, data: str) -> None:
        if self._rcdata:
            data = html.unescape(data)
        if self._script is not None:
            self._script["text"].append(data)
        elif not self._style:
            self.text.append(data)
            if self._error is not None:
                self.errors[self._error[0]] = self.errors.get(self._error[0], "") + data

    def strings(self) -> str:
        """What a reader can see: the text, then every attribute value, whitespace collapsed."""
        return norm("".join(self.text)) + "\n" + "\n".join(norm(v) for v in self.values)


def scan(page: str) -> Scan:
    """Parse one page."""
    parser = Scan()
    parser.feed(page)
    parser.close()
    return parser


def executable(page: Scan, benign: Scan) -> list[str]:
    """Executable output on `page` that the same page rendered with benign values does not have."""
    found = list(page.dangers)
    extra_scripts = Counter(page.scripts) - Counter(benign.scripts)
    found += [f"<script {s[:2]}>" for s in extra_scripts.elements()]
    found += [f"<{e}>" for e in (Counter(page.elements) - Counter(benign.elements)).elements()]
    return found


@dataclass
class Tally:
    """Counts for the summary line."""

    payloads: int = len(PAYLOADS)
    fields: set[str] = field(default_factory=set)
    pages: int = 0
    cells: int = 0
    shown: int = 0
    refused: int = 0
    unpublished: int = 0
    executable: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def check(self) -> None:
        """Fail on any executable output, then on any payload neither shown nor refused (grouped, first 40)."""
        for what, found in (("executable outputs", self.executable), ("payloads not shown as text", self.missing)):
            groups = Counter(re.sub(r"^round \d+ \S+: ", "", x) for x in found)
            report = "\n".join(f"{n:5} × {x}" for x, n in groups.most_common(40))
            assert not found, f"{len(found)} {what}, e.g. {found[0]}:\n{report}"

    def line(self, side: str, seconds: float) -> str:
        """The summary printed with `pytest -s`."""
        return (
            f"\nXSS {side}: {self.payloads} payloads × {len(self.fields)} fields × {self.pages} pages checked → "
            f"{self.cells} cells ({self.shown} shown as text, {self.refused} refused with a message"
            + (f", {self.unpublished} built into no HTML page" if self.unpublished else "")
            + f"), {len(self.executable)} executable outputs, {time.perf_counter() - seconds:.1f} s"
        )


# ================================================================== the site
# Content fields are found from the models: Text and Link fields carry payloads, Code and Slug fields are
# identifiers (every payload is refused there). Single-instance fields (agency.yml, site_config.yml …) get
# several payloads joined with SEP, since a build has only one of them; everything else gets one payload a slot.
TEXT_CHECK, LINK_CHECK, FILE_CHECK = get_args(Text)[-1], get_args(Link)[-1], get_args(Attachment)[-1]
SEP = " ¦ "
BENIGN = {"text": "示例文字", "link": "https://xss.example.gov.cn/benign/"}  # a link a file field accepts too
BIG_ROUNDS = 2  # builds with extra entries; more rounds are added when single fields need them
PER_SLOT = {"notices": 4, "offices": 4, "categories": 4}  # payloads per new entry for kinds with a page each
NOT_FILLED = {("Material", "condition")}  # optional, but only with required: false


def model_of(rel: str) -> type[BaseModel]:
    """The model of one content file."""
    if rel == "site_config.yml":
        return m.SiteConfig
    if rel.startswith("content/services/"):
        return m.Service
    if rel.startswith("content/notices/"):
        return m.Notice
    return SINGLE_MODELS[Path(rel).stem]


def classify(info: FieldInfo) -> tuple[str | None, bool, type[BaseModel] | None]:
    """A field's kind (text, link, code or None), whether it is a list, and its nested model."""
    marks: list[Any] = list(info.metadata)
    found: dict[str, Any] = {"list": False, "model": None}

    def visit(tp: Any) -> None:
        if get_origin(tp) is Annotated:
            base, *meta = get_args(tp)
            for item in meta:
                marks.extend(item.metadata if isinstance(item, FieldInfo) else [item])
            visit(base)
            return
        if get_origin(tp) is list:
            found["list"] = True
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            found["model"] = tp
        for arg in get_args(tp):
            visit(arg)

    visit(info.annotation)
    kind = None
    if any(mark == TEXT_CHECK for mark in marks):
        kind = "text"
    elif any(mark in (LINK_CHECK, FILE_CHECK) for mark in marks):  # a file on another site is a link
        kind = "link"
    elif any(getattr(mark, "pattern", None) in (CODE_PATTERN, SLUG_PATTERN) for mark in marks):
        kind = "code"
    return kind, found["list"], found["model"]


def walk(model: type[BaseModel], data: dict[str, Any], loc: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """(loc, field id, kind) of every text, link and code value; absent optional ones are filled in first."""
    for name, info in model.model_fields.items():
        kind, is_list, sub = classify(info)
        here = (*loc, name)
        value = data.get(name)
        if sub is not None:
            items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
            for i, item in enumerate(items):
                yield from walk(sub, item, (*here, i) if isinstance(value, list) else here)
            continue
        if kind is None:
            continue
        if value is None:
            if kind == "code" or info.is_required() or (model.__name__, name) in NOT_FILLED:
                continue
            data[name] = value = [BENIGN[kind]] if is_list else BENIGN[kind]
        ident = f"{model.__name__}.{name}"
        for i in range(len(value)) if is_list else [None]:
            yield ((*here, i) if i is not None else here), ident, kind


def home(rel: str, loc: tuple[Any, ...], data: dict[str, Any]) -> str | None:
    """The page that shows a value ("*": every page; None: no HTML page, e.g. holiday data)."""
    pages = {"posts": "windows/index.html", "promises": "promises/index.html", "rules": "rules/index.html",
             "complaint_channels": "complaints/index.html", "agency": "about/index.html"}  # fmt: skip
    stem = Path(rel).stem
    if rel.startswith("content/services/"):
        return f"services/{data['code']}/index.html"
    if rel.startswith("content/notices/"):
        return f"notices/{data['id']}/index.html"
    if stem == "offices":
        return f"offices/{data['offices'][loc[1]]['id']}/index.html"
    if rel == "site_config.yml":
        if loc[0] == "categories":
            return f"categories/{data['categories'][loc[1]]['id']}/index.html"
        return {"timezone": None, "site_name": "*", "copyright": "*", "forms": "*"}.get(loc[0], "index.html")
    if stem == "agency" and loc[0] == "short_name":
        return None  # published in catalogue.json only
    return pages.get(stem)


def get_at(data: Any, loc: tuple[Any, ...]) -> Any:
    """The value at a key path."""
    for key in loc:
        data = data[key]
    return data


def set_at(data: Any, loc: tuple[Any, ...], value: Any) -> None:
    """Replace (or add) the value at a key path."""
    get_at(data, loc[:-1])[loc[-1]] = value


class Dumper(yaml.SafeDumper):
    """YAML as an editor would write it, with every odd character escaped and no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """A string with control characters or line breaks in double quotes, where YAML escapes them."""
    odd = any(not c.isprintable() or c in "\t\r\n" for c in value)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"' if odd else None)


Dumper.add_representer(str, _str)


def write_yaml(path: Path, data: Any) -> None:
    """One content file, on one line a value however long."""
    path.write_text(yaml.dump(data, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=10**6), "utf-8")


def pristine(project: Path) -> dict[str, Any]:
    """Every content file of the project copy as data, keyed by its path relative to the project."""
    files = ["site_config.yml", *(str(p.relative_to(project)) for p in sorted((project / "content").rglob("*.yml")))]
    return {rel: yaml.safe_load((project / rel).read_text(encoding="utf-8")) for rel in files}


def expand(docs: dict[str, Any], r: int, n: int) -> None:
    """Round `r`'s extra entries: enough services, notices, offices, posts … for `n` payloads a field."""
    each = math.ceil(n / BIG_ROUNDS)
    new = {kind: math.ceil(each / PER_SLOT.get(kind, 1)) for kind in ("services", "notices", "offices", "categories")}
    template = docs["content/services/jy-shiye-dengji.yml"]
    for i in range(new["services"]):
        service = copy.deepcopy(template) | {"code": f"XSS-{r}{i:03d}", "complaint_phone": "0575-8612 3499"}
        for material in service["materials"]:
            material.update(
                notes="备注", blank_form="https://xss.example.gov.cn/f.pdf", sample="https://xss.example.gov.cn/s.pdf"
            )
        docs[f"content/services/xss-{r}-{i:03d}.yml"] = service
    notice = docs["content/notices/2026-linghuo-jiuye-shebao-butie.yml"]
    for i in range(new["notices"]):
        docs[f"content/notices/xss-{r}-{i:03d}.yml"] = copy.deepcopy(notice) | {"id": f"xss-{r}-{i:03d}"}
    office = docs["content/offices.yml"]["offices"][0]
    windows = [{"number": str(k), "name": "窗口", "scope": "范围"} for k in range(1, 5)]
    docs["content/offices.yml"]["offices"] += [
        copy.deepcopy(office) | {"id": f"xss-{r}-{i:03d}", "holiday_note": "说明", "windows": copy.deepcopy(windows)}
        for i in range(new["offices"])
    ]
    docs["site_config.yml"]["categories"] += [
        {"id": f"xss-{r}-{i:03d}", "name": "类别", "description": "说明"} for i in range(new["categories"])
    ]
    posts = docs["content/posts.yml"]
    for i in range(each):
        a, b = f"X{r}{i:03d}A", f"X{r}{i:03d}B"
        posts["staff"] += [{"number": a, "name": "甲"}, {"number": b, "name": "乙"}]
        posts["posts"].append({"id": f"xss-{r}-{i:03d}", "name": "岗位", "office": "county-hall", "windows": ["1"],
                               "duties": ["职责"], "a": a, "b": b, "updated": date(2026, 9, 1)})  # fmt: skip
    promise = {"title": "承诺", "content": "内容", "supervision": "监督", "updated": date(2026, 9, 1)}
    docs["content/promises.yml"]["promises"] += [dict(promise) for _ in range(each)]
    channel = {"kind": "网上", "name": "渠道", "detail": "详情", "hours": "时间", "link": "/xss/", "notes": "说明"}
    docs["content/complaint_channels.yml"]["channels"] += [dict(channel) for _ in range(each)]
    docs["content/agency.yml"]["responsibilities"] += ["职责"] * each
    for rule in docs["content/rules.yml"]["rules"]:
        rule["articles"] += ["条文"] * math.ceil(each / 9)
    per_year = math.ceil(each / 11)
    docs["content/holidays.yml"]["years"] = [
        {"year": y, "source": "通知", "workdays": [],
         "holidays": [{"name": "节日", "start": date(y, 1, d), "end": date(y, 1, d)} for d in range(1, per_year + 1)]}
        for y in range(2090, 2101)
    ]  # fmt: skip


@dataclass
class Placement:
    """Payloads put into one value of one content file."""

    round: int
    rel: str
    loc: tuple[Any, ...]
    ident: str
    kind: str
    page: str | None
    payloads: list[int] = field(default_factory=list)

    def value(self) -> str:
        """The text put in the content file."""
        return SEP.join(PAYLOADS[i] for i in self.payloads)


MISSING = object()


class Verdicts:
    """Whether a field's validator accepts a value: `core.validate.parse` on the shipped document holding it."""

    def __init__(self, docs: dict[str, Any], project: Path) -> None:
        self.docs, self.project = docs, project
        self.cache: dict[tuple[Any, ...], str | None] = {}

    def probe(self, rel: str, loc: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
        """A shipped file and location standing for `loc` (list indices moved to an item that has the key)."""
        if rel.startswith("content/services/"):
            # 失业登记 stands for every guide; a list it lacks (不计入时限的情形) is tried in a guide that has one
            guides = ["content/services/jy-shiye-dengji.yml", *sorted(r for r in self.docs if "/services/" in r)]
            rel = next(r for r in guides if self._mapped(self.docs[r], loc[:-1]) is not None)
        elif rel.startswith("content/notices/"):
            rel = "content/notices/2026-linghuo-jiuye-shebao-butie.yml"
        return rel, self._mapped(self.docs[rel], loc, strict=False) or ()

    @staticmethod
    def _mapped(data: Any, loc: tuple[Any, ...], strict: bool = True) -> tuple[Any, ...] | None:
        """`loc` with list indices moved to an item that has the next key; None if `strict` and a key is absent."""
        mapped: list[Any] = []
        for n, key in enumerate(loc):
            if isinstance(key, int):
                nxt = loc[n + 1] if n + 1 < len(loc) else None
                key = next((i for i, item in enumerate(data) if isinstance(item, dict) and nxt in item), 0)
            elif strict and not (isinstance(data, dict) and key in data):
                return None
            mapped.append(key)
            data = data[key] if isinstance(data, list) or key in data else {}
        return tuple(mapped)

    def message(self, rel: str, loc: tuple[Any, ...], value: str) -> str | None:
        """None if the validator accepts `value` at `loc`, else its message."""
        rel, loc = self.probe(rel, loc)
        key = (rel, tuple(k for k in loc if not isinstance(k, int)), value)
        if key not in self.cache:
            parent = get_at(self.docs[rel], loc[:-1])
            old = parent.get(loc[-1], MISSING) if isinstance(parent, dict) else parent[loc[-1]]
            parent[loc[-1]] = value
            try:
                doc = Document(self.project / rel, copy.deepcopy(self.docs[rel]))
                problems = fill_all({Path(rel).stem: doc}, PROCEDURE)  # procedure.yml's placeholders come first
                problems = problems or parse(doc, model_of(rel))[1]
            finally:
                if old is MISSING:
                    del parent[loc[-1]]
                else:
                    parent[loc[-1]] = old
            self.cache[key] = problems[0].message if problems else None
        return self.cache[key]


def _order(i: int) -> tuple[int, int]:
    """Joined values must not form a tag across payloads: plain ones first, "…><tag" ones, then "<tag" ones."""
    opens = re.search(r"<\s*/?\s*[A-Za-z!]", PAYLOADS[i]) is not None
    return (2 if opens and ">" not in PAYLOADS[i] else 1 if opens else 0), i


def pack(places: list[Placement], accepted: list[int], verdicts: Verdicts) -> None:
    """Share the accepted payloads among too few values, each joined value still accepted; for links the first
    payload of each value is one with a scheme or an entity, since only the start of a URL names its scheme."""
    if places[0].kind == "link":
        order = sorted(accepted, key=lambda i: (":" not in PAYLOADS[i] and "&" not in PAYLOADS[i], i))
    else:
        order = sorted(accepted, key=_order)
    for n, i in enumerate(order):
        for k in range(len(places)):
            place = places[(n + k) % len(places)]
            joined = SEP.join([*(PAYLOADS[j] for j in place.payloads), PAYLOADS[i]])
            if verdicts.message(place.rel, place.loc, joined) is None:
                place.payloads.append(i)
                break
        else:
            raise AssertionError(f"{places[0].ident}: no value can take payload {PAYLOADS[i]!r}; add rounds")


def plan(project: Path, tally: Tally) -> tuple[list[dict[str, Any]], list[Placement]]:
    """Every round's documents with payloads in place, and the placements; refusals are counted in `tally`."""
    base = pristine(project)
    base["content/holidays.yml"] = {"years": [{"year": 2090, "source": "通知", "holidays": [
        {"name": "节日", "start": date(2090, 1, 1), "end": date(2090, 1, 1)}]}]}  # fmt: skip
    verdicts = Verdicts(base, project)
    # A value holds at most one accepted "…><tag" payload (two would make a tag across them), so a field with
    # one value a build needs as many builds as there are such payloads.
    crossing = sum(1 for p in PAYLOADS if not HTML_TAG.search(p) and re.search(r">.*<\s*/?\s*[A-Za-z!]", p, re.S))
    rounds, slots = [], {}
    for r in range(max(BIG_ROUNDS, crossing)):
        docs = pristine(project)
        if r < BIG_ROUNDS:
            expand(docs, r, len(PAYLOADS))
        for rel, data in docs.items():
            for loc, ident, kind in walk(model_of(rel), data):
                slots.setdefault(ident, []).append(Placement(r, rel, loc, ident, kind, home(rel, loc, data)))
        rounds.append(docs)
    for ident, places in slots.items():
        tally.fields.add(ident)
        accepted = []
        for i, payload in enumerate(PAYLOADS):
            if verdicts.message(places[0].rel, places[0].loc, payload) is None:
                accepted.append(i)
            else:
                tally.refused += 1
        if places[0].kind == "code":  # identifiers: whatever passes is letters, digits, - and _
            assert all(re.fullmatch(r"[A-Za-z0-9_-]+", PAYLOADS[i]) for i in accepted), ident
            continue
        if len(places) >= len(accepted):
            for place, i in zip(places, accepted, strict=False):
                place.payloads = [i]
        else:
            pack(places, accepted, verdicts)
        for place in places:
            if place.payloads:
                set_at(rounds[place.round][place.rel], place.loc, place.value())
    placed = [p for places in slots.values() for p in places if p.payloads]
    # content/stats.json comes from `portal stats export`: window labels (the content's window names) are charted.
    stats = json.loads(STATS.read_text(encoding="utf-8"))
    stats["months"][0]["windows"] = [{"window": f"x:{i}", "label": p, "total": 10, "satisfied": 9, "rate": 0.9}
                                     for i, p in enumerate(PAYLOADS)]  # fmt: skip
    rounds[0]["content/stats.json"] = stats
    placed += [Placement(0, "content/stats.json", ("months", 0, "windows", i, "label"), "WindowFigure.label", "plain",
                         "ratings/index.html", [i]) for i in range(len(PAYLOADS))]  # fmt: skip
    tally.fields.add("WindowFigure.label")
    return rounds, placed


def refusals_by_check(root: Path, docs: dict[str, Any], placed: list[Placement], tally: Tally) -> None:
    """The whole check (cross-file rules such as personal data in posts.yml) may refuse placed values too:
    count each as refused with its message and put a benign value back."""
    for _attempt in range(4):
        for rel, data in docs.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            if rel.endswith(".json"):
                (root / rel).write_text(json.dumps(data), encoding="utf-8")
            else:
                write_yaml(root / rel, data)
        result = pipeline.check(root / "content", root / "site_config.yml", TODAY, root / "site")
        if not result.errors:
            return
        lines = {}
        for place in (p for p in placed if p.rel.endswith(".yml")):
            doc, _ = load_file(root / place.rel)
            assert doc is not None, place.rel
            lines[(root / place.rel, doc.line_of(place.loc))] = place
        for problem in result.errors:
            place = lines.get((problem.path, problem.line))
            assert place is not None and len(place.payloads) == 1, f"unexpected: {problem.format(root)}"
            if place in placed:  # one value may break two rules (a placeholder and a spelled-out limit)
                set_at(docs[place.rel], place.loc, BENIGN[place.kind])
                placed.remove(place)
                tally.refused += 1
    raise AssertionError("content still refused after four rounds of corrections")


def expected(place: Placement, i: int) -> list[str]:
    """How payload `i` of `place` reads on its page: as text, or as a link (as written or quoted)."""
    payload = PAYLOADS[i].strip()
    if place.kind == "link":
        return [norm(payload), norm(quote(payload, safe=URL_SAFE))]
    return [norm(CJK_GAP.sub("", payload) if place.kind == "text" else payload)]


BASELINES = {"services": "services/JY-001/index.html", "notices": "notices/2026-linghuo-jiuye-shebao-butie/index.html",
             "offices": "offices/county-hall/index.html", "categories": "categories/jiuye/index.html",
             "ratings": "promises/index.html"}  # fmt: skip  # the shipped content has no statistics


def test_site_shows_every_payload_as_text(project: Path, built_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started = time.perf_counter()
    tally = Tally()
    monkeypatch.setattr(pipeline, "run_pagefind", lambda *_, **__: {})  # Pagefind reads the pages, never writes them
    benign: dict[str, Scan] = {}

    def baseline(page: str) -> Scan:
        """The same page built from the shipped content (a new entry: a shipped one of its kind)."""
        kind = page.split("/")[0]
        if not (built_site / page).is_file() and kind in BASELINES:
            page = BASELINES[kind]
        if page not in benign:
            benign[page] = scan((built_site / page).read_text(encoding="utf-8"))
        return benign[page]

    rounds, placements = plan(project, tally)
    for r, docs in enumerate(rounds):
        root = project / f"round{r}"
        placed = [p for p in placements if p.round == r]
        shutil.copytree(project / "content/downloads", root / "content/downloads")  # the forms the guides link
        refusals_by_check(root, docs, placed, tally)
        pipeline.build(root / "content", root / "site_config.yml", root / "site", TODAY)
        strings = {}
        for path in sorted((root / "site").rglob("*.html")):
            page = str(path.relative_to(root / "site"))
            found = scan(path.read_text(encoding="utf-8"))
            tally.executable += [f"round {r} {page}: {x}" for x in executable(found, baseline(page))]
            strings[page] = found.strings()
        tally.pages += len(strings)
        for place in placed:
            targets = list(strings) if place.page == "*" else [place.page] if place.page else []
            for i in place.payloads:
                tally.unpublished += not targets
                for page in targets:
                    tally.cells += 1
                    if any(form in strings[page] for form in expected(place, i)):
                        tally.shown += 1
                    else:
                        tally.missing.append(f"round {r} {place.ident} {page}: {PAYLOADS[i]!r}")
        shutil.rmtree(root)
    tally.cells += tally.refused + tally.unpublished
    print(tally.line("site", started))
    tally.check()


# ================================================================== the backend
# Echo: every form is posted invalid, with several payloads joined in each field, and must show them back as text
# (a field says why it refuses a value too long for it; a request the input gate refuses is split until one
# payload is left, which is then refused for every field with the gate's message). Stored: every payload a field
# accepts is submitted (joined up to the field's length), then every page showing that field is fetched as every
# role that sees it: the case page, the printed 登记表 and 督办单, the staff queue and the citizen's tracking page.
API_KEY = "xss-key"
STAFF = {"intake": "clerk", "supervisor": "boss", "window-lead": "lead1", "auditor": "audit"}
PHONE, WINDOW, TARGET = "13812345678", "county-hall:1", "window:county-hall:1"
ECHO_PACK = 12  # payloads a field per echo request
# A field no echoed action uses, too long for it: the action form is refused and shown back with every value.
INVALID_ACTION = {"version": "0", "verification": "长" * 2001}
# Where each stored field shows: case page, 登记表 (register), 督办单 (order), tracking page (status), staff queue.
SHOWN_ON = {
    "complaint.target_text": ("case", "register", "status", "queue"),
    "complaint.matter": ("case", "register"), "complaint.demand": ("case", "register"),
    "complaint.name": ("case", "register"), "register.matter": ("case", "register", "order"),
    "register.demand": ("case", "register"), "register.name": ("case", "register"),
    "suggestion.content": ("case", "register"),
    "suggestion.name": ("case", "register"), "evaluation.reason": ("case", "register"),
    "action.reason": ("case", "register", "status"), "action.referral": ("case", "status"), "action.note": ("case",),
    "action.opinion": ("case", "order"), "action.handling": ("case", "order"),
    "action.rectification": ("case", "order"), "action.reply": ("case", "register", "status"),
    "track.reason": ("case", "status"),
}  # fmt: skip
UNMASKED = ("intake", "supervisor")  # the complainant's name: masked for auditors, hidden from window leads


@pytest.fixture
def app_overrides() -> dict[str, str]:
    """An API key, and limits out of the way of a few thousand requests from one address."""
    many = "100000 per minute"
    return {"PORTAL_API_KEYS": f"xss:{API_KEY}", "PORTAL_RATELIMIT_PUBLIC": many, "PORTAL_RATELIMIT_LOGIN": many,
            "PORTAL_RATELIMIT_LOGIN_ACCOUNT": many, "PORTAL_RATELIMIT_API": many}  # fmt: skip


def limit(form: type, name: str) -> int:
    """The field's maximum length, from its own Length validator."""
    validators = getattr(form, name).kwargs.get("validators", [])
    return min((v.max for v in validators if isinstance(v, Length) and v.max >= 0), default=10**6)


def chunks(items: list[int], size: int) -> list[list[int]]:
    """`items` in runs of `size`."""
    return [items[k : k + size] for k in range(0, len(items), size)]


def bins(items: list[int], most: int) -> list[list[int]]:
    """Payloads joined with newlines, each value within `most` characters (first fit, longest first)."""
    packed: list[list[int]] = []
    for i in sorted(items, key=lambda i: -len(CORPUS[i])):
        for group in packed:
            if len(joined([*group, i])) <= most:
                group.append(i)
                break
        else:
            packed.append([i])
    return packed


def joined(group: list[int]) -> str:
    """Payloads as one field's value."""
    return "\n".join(CORPUS[i] for i in group).strip()


@dataclass
class Stored:
    """A case made by one submission, the payloads each of its fields carries, and who may see it."""

    id: int
    no: str
    code: str
    at_window: bool  # at county-hall:1, where the window lead works
    carried: dict[str, list[int]] = field(default_factory=dict)
    orders: int = 0


class Backend:
    """The app, a logged-in browser per staff role and a citizen's, and the pages seen so far."""

    def __init__(self, app: Flask, make_user: Callable[..., str], tally: Tally) -> None:
        self.app, self.tally = app, tally
        self.benign: dict[str, Scan] = {}
        self.recording = True  # the first run, with a benign value, records each kind of page
        self.clients: dict[str, FlaskClient] = {}
        self.csrf: dict[str, str] = {}
        for role, name in STAFF.items():
            make_user(name, role, [WINDOW] if role == "window-lead" else None)
            client = app.test_client()
            assert login(client, name).status_code == 302
            self.clients[role] = client
        self.clients["citizen"] = app.test_client()
        for role, client in self.clients.items():
            page = "/forms/complaint/" if role == "citizen" else "/staff/register" if role == "intake" else "/staff/"
            html = client.get(page).get_data(as_text=True)
            found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
            assert found, role
            self.csrf[role] = found.group(1)
        self.gate: dict[int, str] = {}  # payloads the input gate refuses, with its message

    def look(self, kind: str, response: Any) -> Scan:
        """Parse a page, compare it with its benign twin, count it."""
        assert response.mimetype == "text/html", (kind, response.status_code)
        page = scan(response.get_data(as_text=True))
        if self.recording:
            self.benign.setdefault(kind, page)
            return page
        self.tally.pages += 1
        self.tally.executable += [f"{kind}: {x}" for x in executable(page, self.benign[kind])]
        return page

    def queue(self, role: str) -> Scan:
        """Every page of a role's queue, finished cases included, read as one."""
        merged: Scan | None = None
        for number in range(1, 1000):
            response = self.clients[role].get(f"/staff/?all=1&page={number}")
            page = self.look(f"queue {role}", response)
            if merged is None:
                merged = page
            else:
                merged.text += page.text
                merged.values += page.values
            if 'rel="next"' not in response.get_data(as_text=True):
                break
        assert merged is not None
        return merged

    def shows(self, page: Scan, ident: str, where: str, payloads: list[int]) -> None:
        """Each payload of a field must read as text on the page."""
        self.tally.fields.add(ident)
        if self.recording:
            return
        strings = page.strings()
        for i in payloads:
            self.tally.cells += 1
            if norm(CORPUS[i].strip()) in strings:
                self.tally.shown += 1
            else:
                self.tally.missing.append(f"{ident} on {where}: {CORPUS[i]!r}")

    def refuse(self, ident: str, i: int, message: str) -> None:
        """A field refused payload `i`: it must have said why."""
        self.tally.fields.add(ident)
        if not self.recording:
            assert message.strip(), (ident, CORPUS[i])
            self.tally.refused += 1
            self.tally.cells += 1

    def post(self, role: str, url: str, data: dict[str, str]) -> Any:
        """A form post from the browser of `role`, with its CSRF token."""
        return self.clients[role].post(url, data={"csrf_token": self.csrf[role], **data})

    def api(self, path: str, body: dict[str, Any]) -> Any:
        """A JSON API call; the answer is JSON, never a page a browser would render."""
        response = self.clients["citizen"].post(path, json=body, headers={"X-API-Key": API_KEY})
        assert response.mimetype == "application/json", (path, response.status_code)  # never HTML
        self.tally.pages += not self.recording
        return response

    def case(self, **where: Any) -> Stored:
        """The case just made, found by its submission token, receipt number or id."""
        with self.app.extensions["sessions"]() as session:
            column = {"token": Case.submission_token, "no": Case.receipt_no, "id": Case.id}
            ((key, value),) = where.items()
            case = session.scalars(select(Case).where(column[key] == value)).one()
            code = self.app.extensions["vault"].open(case.query_code_enc)
            return Stored(case.id, case.receipt_no, code, f"{case.office}:{case.window}" == WINDOW)

    # ------------------------------------------------------------------ echo
    def echo(self, ident: str, role: str, url: str, form: type, fields: list[str], extra: dict[str, str],
             kind: str, payloads: list[int]) -> None:  # fmt: skip
        """Post `payloads` in every field at once; split a request the gate refuses down to single payloads."""
        response = self.post(role, url, {**extra, **{f: joined(payloads) for f in fields}})
        page = self.look(kind, response)
        if response.status_code == 400 and not any(f in page.names for f in fields):
            message = norm("".join(page.text))
            assert message, (ident, response.status_code)
            if len(payloads) > 1:
                for half in chunks(payloads, math.ceil(len(payloads) / 2)):
                    self.echo(ident, role, url, form, fields, extra, kind, half)
                return
            self.gate[payloads[0]] = message
            for f in fields:
                self.refuse(f"{ident}.{f}", payloads[0], message)
            return
        for f in fields:
            self.shows(page, f"{ident}.{f}", f"{ident} form", payloads)
            over = [i for i in payloads if len(CORPUS[i].strip()) > limit(form, f)]
            for i in over:
                self.refuse(f"{ident}.{f}", i, page.errors.get(f, ""))

    def probe(self, ident: str, path: str, form: type, fields: list[str], extra: dict[str, Any],
              payloads: list[int]) -> None:  # fmt: skip
        """The API says why it refuses a value (422 per field, 400 from the gate); it never echoes one."""
        response = self.api(path, {**extra, **{f: joined(payloads) for f in fields}})
        body = response.get_json()
        if response.status_code == 400:
            if len(payloads) > 1:
                for half in chunks(payloads, math.ceil(len(payloads) / 2)):
                    self.probe(ident, path, form, fields, extra, half)
                return
            for f in fields:
                self.refuse(f"{ident}.{f}", payloads[0], body["error"])
            return
        assert response.status_code == 422, body
        for f in fields:
            for i in payloads:
                if len(CORPUS[i].strip()) > limit(form, f):
                    self.refuse(f"{ident}.{f}", i, " ".join(body["fields"].get(f, [])))

    def echoes(self, echo_cases: dict[str, int], group: list[int]) -> None:
        """Every form, and every staff action's inputs, shown back after a refused submission."""
        forms = [
            ("complaint", "citizen", "/forms/complaint/", ComplaintForm,
             ["target_text", "matter", "demand", "name", "phone", "id_number"], {"target": "other"}),
            ("suggestion", "citizen", "/forms/suggestion/", SuggestionForm, ["content", "name", "phone"], {}),
            ("evaluation", "citizen", "/forms/evaluation/", EvaluationForm, ["reason"], {"level": "1"}),
            ("register", "intake", "/staff/register", RegisterForm,
             ["matter", "demand", "name", "phone", "id_number"], {"channel": "phone", "first_receiver": "QX0117"}),
            ("login", "citizen", "/staff/login", LoginForm, ["username"], {"password": "wrong-password"}),
            ("track", "citizen", "/forms/track/", TrackForm, ["receipt_no", "query_code"], {}),
            ("action", "intake", f"/staff/case/{echo_cases['received']}/refuse", ActionForm,
             ["reason", "referral", "reply", "note"], INVALID_ACTION),
            ("action", "supervisor", f"/staff/case/{echo_cases['filed']}/issue_order", ActionForm,
             ["opinion", "note"], INVALID_ACTION),
            ("action", "window-lead", f"/staff/case/{echo_cases['supervising']}/record_handling", ActionForm,
             ["handling", "rectification", "note"], INVALID_ACTION),
        ]  # fmt: skip
        for ident, role, url, form, fields, extra in forms:
            kind = f"echo {ident} {role}"
            for pack in chunks(group, ECHO_PACK):
                self.echo(ident, role, url, form, fields, extra, kind, pack)
        complaint = {"target": "other", "phone": PHONE, "consent": False}
        for pack in chunks(group, ECHO_PACK):
            self.probe("api", "/api/v1/complaints", ComplaintForm, ["target_text", "matter", "demand", "name"],
                       complaint, pack)  # fmt: skip
            self.probe("api-evaluation", "/api/v1/evaluations", EvaluationForm, ["reason"], {"target": "", "level": 1},
                       pack)  # fmt: skip

    # ------------------------------------------------------------------ stored
    def accepted(self, form: type, name: str, group: list[int]) -> list[int]:
        """The payloads a field stores: within its length, not refused by the input gate."""
        return [i for i in group if i not in self.gate and len(CORPUS[i].strip()) <= limit(form, name)]

    def packs(self, form: type, names: list[str], group: list[int]) -> dict[str, list[list[int]]]:
        return {name: bins(self.accepted(form, name, group), limit(form, name)) for name in names}

    def submit(self, group: list[int]) -> list[Stored]:
        """Every channel's submissions, then every staff action and the citizen's own, with payloads."""
        made: list[Stored] = []

        def each(packs: dict[str, list[list[int]]], ident: str) -> Iterator[tuple[dict[str, str], dict[str, Any]]]:
            for k in range(max(len(p) for p in packs.values())):
                values = {f: joined(p[k]) if k < len(p) else "示例" for f, p in packs.items()}
                yield values, {f"{ident}.{f}": p[k] for f, p in packs.items() if k < len(p)}

        fields = ["target_text", "matter", "demand", "name"]
        complaints = []
        for values, carried in each(self.packs(ComplaintForm, fields, group), "complaint"):
            token = uuid.uuid4().hex
            data = {"target": "other", "phone": PHONE, "consent": "y", "token": token, **values}
            assert self.post("citizen", "/forms/complaint/", data).status_code == 303
            complaints.append(self.case(token=token))
            complaints[-1].carried = carried
        for values, carried in each(self.packs(ComplaintForm, fields, group), "api"):
            response = self.api("/api/v1/complaints", {"target": "other", "phone": PHONE, "consent": True, **values})
            assert response.status_code == 201, response.get_json()
            made.append(self.case(no=response.get_json()["receipt_no"]))
            made[-1].carried = carried
        fields = ["matter", "demand", "name"]
        registered = []
        for values, carried in each(self.packs(RegisterForm, fields, group), "register"):
            data = {"channel": "phone", "target": TARGET, "phone": PHONE, "first_receiver": "QX0117", **values}
            response = self.post("intake", "/staff/register", data)
            self.look("receipt intake", response)
            found = re.search(r"/staff/case/(\d+)", response.get_data(as_text=True))
            assert response.status_code == 200 and found, response.status_code
            registered.append(self.case(id=int(found.group(1))))
            registered[-1].carried = carried
        for values, carried in each(self.packs(SuggestionForm, ["content", "name"], group), "suggestion"):
            token = uuid.uuid4().hex
            data = {"target": "", "phone": PHONE, "consent": "y", "token": token, **values}
            assert self.post("citizen", "/forms/suggestion/", data).status_code == 303
            made.append(self.case(token=token))
            made[-1].carried = carried
        for values, carried in each(self.packs(EvaluationForm, ["reason"], group), "evaluation"):
            data = {"target": TARGET, "level": "1", "token": uuid.uuid4().hex, **values}
            response = self.post("citizen", "/forms/evaluation/", data)
            found = re.search(r"<dd>([A-Z]{2}\d+)</dd>", response.get_data(as_text=True))
            assert response.status_code == 200 and found, response.status_code
            made.append(self.case(no=found.group(1)))
            made[-1].carried = carried
        for values, carried in each(self.packs(EvaluationForm, ["reason"], group), "api-evaluation"):
            response = self.api("/api/v1/evaluations", {"target": TARGET, "level": 1, **values})
            assert response.status_code == 201, response.get_json()
            made.append(self.case(no=response.get_json()["rectification"]["no"]))
            made[-1].carried = carried
        # 不予受理 on the citizens' complaints; the whole round of supervision on the registered ones
        refusal = self.packs(ActionForm, ["reason", "referral", "note"], group)
        for case, (values, carried) in zip(complaints, each(refusal, "action"), strict=False):
            assert self.post("intake", f"/staff/case/{case.id}/refuse", {"version": "0", **values}).status_code == 303
            case.carried |= carried
        flow = self.packs(ActionForm, ["opinion", "handling", "rectification", "reply", "note"], group)
        flow |= {"citizen_reason": bins(self.accepted(ActForm, "reason", group), limit(ActForm, "reason"))}
        assert len(registered) >= max(len(p) for p in flow.values()) and len(complaints) >= len(refusal["note"])
        for case, (values, carried) in zip(registered, each(flow, "action"), strict=False):
            moves = [
                ("intake", "file", {}),
                ("supervisor", "issue_order", {"opinion": values["opinion"], "window": WINDOW}),
                ("window-lead", "record_handling", {k: values[k] for k in ("handling", "rectification")}),
                ("supervisor", "reply", {"reply": values["reply"]}),
            ]
            for version, (role, name, data) in enumerate(moves):
                data |= {"version": str(version), "note": values["note"]}
                assert self.post(role, f"/staff/case/{case.id}/{name}", data).status_code == 303, name
            data = {"receipt_no": case.no, "query_code": case.code, "action": "unsatisfied",
                    "reason": values["citizen_reason"]}  # fmt: skip
            self.look("status citizen", self.post("citizen", "/forms/track/act", data))
            case.carried |= {k.replace("action.citizen_reason", "track.reason"): v for k, v in carried.items()}
            case.orders, case.at_window = 1, True
        return [*complaints, *registered, *made]

    # ------------------------------------------------------------------ pages
    def display(self, cases: list[Stored]) -> None:
        """Every page that shows a stored payload, as every role that sees it; then each role's queue."""
        fetch = {
            "case": lambda role, c: self.clients[role].get(f"/staff/case/{c.id}"),
            "register": lambda role, c: self.clients[role].get(f"/staff/case/{c.id}/print/register"),
            "order": lambda role, c: self.clients[role].get(f"/staff/case/{c.id}/print/order/1"),
            "status": lambda role, c: self.post(role, "/forms/track/", {"receipt_no": c.no, "query_code": c.code}),
        }
        for case in cases:
            needed: dict[tuple[str, str], list[str]] = {}
            for ident in case.carried:
                shown_on = SHOWN_ON[ident.replace("api-evaluation.", "evaluation.").replace("api.", "complaint.")]
                for kind in shown_on:
                    if kind == "queue" or (kind == "order" and not case.orders):
                        continue
                    roles = [r for r in STAFF if r != "window-lead" or case.at_window]
                    if kind == "status":
                        roles = ["citizen"]
                    if ident.endswith(".name"):  # shown alike to both roles that see it: one of them, case by case
                        roles = [UNMASKED[case.id % 2]]
                    for role in roles:
                        needed.setdefault((kind, role), []).append(ident)
            for (kind, role), idents in needed.items():
                response = fetch[kind](role, case)
                assert response.status_code == 200, (kind, role, response.status_code)
                page = self.look(f"{kind} {role}", response)
                for ident in idents:
                    self.shows(page, ident, f"{kind} page as {role}", case.carried[ident])
        for role in STAFF:
            page = self.queue(role)
            for case in cases:
                for ident in ("complaint.target_text", "api.target_text"):
                    if ident in case.carried and (role != "window-lead" or case.at_window):
                        self.shows(page, ident, f"queue as {role}", case.carried[ident])


def test_backend_shows_every_payload_as_text(app: Flask, make_user: Callable[..., str]) -> None:
    started = time.perf_counter()
    tally = Tally()
    backend = Backend(app, make_user, tally)
    sessions, vault = app.extensions["sessions"], app.extensions["vault"]
    echo_cases = {state: make_case(sessions, vault, state, WINDOW).case.id
                  for state in ("received", "filed", "supervising")}  # fmt: skip
    for group in ([len(PAYLOADS)], list(range(len(PAYLOADS)))):  # benign first: it records each page's own markup
        backend.echoes(echo_cases, group)
        backend.display(backend.submit(group))
        backend.recording = False
    print(tally.line("backend", started))
    tally.check()
