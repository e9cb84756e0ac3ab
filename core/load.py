"""Stage 1 — load: read YAML safely, keeping the line of every key for error messages."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import charset_normalizer
import yaml

from core.errors import Problem

MAX_BYTES = 256 * 1024  # a service guide is a few KB; anything this big is a mistake or an attack
SINGLE_FILES = (
    "agency",
    "offices",
    "posts",
    "promises",
    "rules",
    "complaint_channels",
    "holidays",
    "procedure",
)
FOLDERS = ("services", "notices")
Loc = tuple[str | int, ...]
# libyaml when PyYAML was built with it: ten times faster, same safe semantics.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Document:
    """One parsed YAML file with the line of each key and list item."""

    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    digest: str = ""  # of the file's bytes: what a build's cache keys name (generator/reuse.py)

    def line_of(self, loc: Loc) -> int:
        """Line of the deepest known location along `loc` (the file's first line if none)."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return 1


@dataclass
class Content:
    """Every document of a content folder, by kind, plus the problems met while loading."""

    root: Path
    singles: dict[str, Document] = field(default_factory=dict)
    services: list[Document] = field(default_factory=list)
    notices: list[Document] = field(default_factory=list)
    stats: Document | None = None
    problems: list[Problem] = field(default_factory=list)


def _decode(path: Path, raw: bytes) -> tuple[str | None, list[Problem]]:
    """Decode UTF-8 (with or without BOM); otherwise name the encoding the bytes look like."""
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        best = charset_normalizer.from_bytes(raw).best()
        guess = best.encoding.upper().replace("_", "-") if best else "未知编码"
        message = f"文件不是 UTF-8 编码（看起来是 {guess}），请用 UTF-8 另存后再提交"
        return None, [Problem(path, line, message)]


def _tabs(path: Path, text: str) -> list[Problem]:
    """Report every line indented with a tab (YAML forbids them; its own error is cryptic)."""
    problems: list[Problem] = []
    if "\t" not in text:
        return problems  # the usual case, without a pass over every line
    for number, line in enumerate(text.splitlines(), start=1):
        indent = re.match(r"[ \t]*", line).group(0)  # type: ignore[union-attr]
        if "\t" in indent and line.strip():
            problems.append(Problem(path, number, "缩进中有制表符（Tab），请全部改用空格缩进"))
    return problems


# A value that starts with "{" is a YAML mapping: the usual slip is a placeholder such as {reply} unquoted.
BRACED = re.compile(r"^\s*(?:-\s+)?[^#\s][^:#]*:\s+\{|^\s*-\s+\{")


def _syntax(path: Path, exc: yaml.YAMLError, text: str = "") -> Problem:
    """Turn a YAML parser error into a located problem."""
    context = getattr(exc, "context_mark", None)
    mark = getattr(exc, "problem_mark", None) or context
    line = mark.line + 1 if mark else 1
    detail = getattr(exc, "problem", None) or str(exc)
    lines = text.splitlines()
    first = context or mark
    start = first.line if first is not None else 0
    braced = next((n for n in range(start, min(line, len(lines))) if BRACED.match(lines[n])), None)
    if braced is not None:
        message = '以 { 开头的值要加引号，如 time_limit: "{reply}内答复"（YAML 把 { 开头的值当作别的格式）'
        return Problem(path, braced + 1, f"YAML 格式错误：{message}")
    return Problem(path, line, f"YAML 格式错误：{detail}（请检查缩进、冒号和引号）")


def _anchors(path: Path, text: str) -> list[Problem]:
    """Refuse anchors and aliases at the event level, so an alias bomb is never expanded."""
    problems: list[Problem] = []
    if "&" not in text and "*" not in text:
        return problems  # no anchor or alias can be written without these characters
    for event in yaml.parse(text, Loader=SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, yaml.AliasEvent):
            problems.append(Problem(path, line, f"不允许使用 YAML 别名（*{event.anchor}），请直接写出内容"))
        elif anchor := getattr(event, "anchor", None):
            problems.append(Problem(path, line, f"不允许使用 YAML 锚点（&{anchor}），请直接写出内容"))
    return problems


class _Builder:
    """Turns a composed node tree into plain data, recording lines and duplicate keys."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[Loc, int] = {}
        self.problems: list[Problem] = []
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        """Build the value of `node`, which sits at `loc`."""
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        try:
            # The constructor table directly: construct_object's bookkeeping costs more than the value.
            make = self.constructor.yaml_constructors.get(node.tag)
            if make is None:
                return self.constructor.construct_object(node, deep=True)  # raises for unknown tags
            return make(self.constructor, node)
        except yaml.YAMLError as exc:
            self.problems.append(_syntax(self.path, exc))
            return None

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                self.problems.append(Problem(self.path, line, "键必须是简单的文字"))
                continue
            make = self.constructor.yaml_constructors.get(key_node.tag)
            key = make(self.constructor, key_node) if make else self.constructor.construct_object(key_node)
            if key in out:
                first = self.lines[(*loc, key)]
                message = f"键「{key}」重复（第 {first} 行已经写过），请删除或合并其中一处"
                self.problems.append(Problem(self.path, line, message))
                continue
            self.lines[(*loc, key)] = line
            out[key] = self.build(value_node, (*loc, key))
            self.lines[(*loc, key)] = line  # the key's line, not its value's
        return out


Stat = tuple[int, int, int, int]  # size, mtime and ctime in nanoseconds, inode


def file_stat(path: Path) -> Stat:
    """What says a file may have changed since it was read, as make and rsync decide (a long-running preview
    reads again only such files: reading and hashing 10,000 of them took most of a second)."""
    found = path.stat()
    return found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino


RACY_NS = 2_000_000_000  # a file changed this recently may change again within its mtime's granularity


def settled(stat: Stat) -> bool:
    """Whether a file's stat may vouch for its bytes next time: it was changed well before it was read (git's rule
    for racily clean files; a same-size save in the same clock tick would otherwise go unseen)."""
    return time.time_ns() - stat[1] > RACY_NS


def digest(raw: bytes) -> str:
    """The hash naming a file's bytes."""
    return hashlib.sha256(raw).hexdigest()


def load_file(path: Path) -> tuple[Document | None, list[Problem]]:
    """Load one YAML file; return the document, or None and the reasons it was refused."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        limit = MAX_BYTES // 1024
        return None, [Problem(path, 1, f"文件过大（{size // 1024} KB，上限 {limit} KB），请拆分或精简")]
    raw = path.read_bytes()
    text, problems = _decode(path, raw)
    if text is None:
        return None, problems
    problems = _tabs(path, text)
    if problems:
        return None, problems
    try:
        problems = _anchors(path, text)
        if problems:
            return None, problems
        node = yaml.compose(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        return None, [_syntax(path, exc, text)]
    if node is None:
        return None, [Problem(path, 1, "文件是空的")]
    builder = _Builder(path)
    data = builder.build(node, ())
    return Document(path, data, builder.lines, digest(raw)), builder.problems


def _unknown(path: Path, known: list[str]) -> Problem:
    """A file the generator does not know: probably a typo in its name."""
    close = difflib.get_close_matches(path.stem, known, n=1)
    hint = f"，是不是想写 {close[0]}.yml？" if close else f"；可用的文件名：{'、'.join(known)}"
    if path.suffix == ".yaml":
        hint = "，请改用 .yml 扩展名"
    return Problem(path, 1, f"不认识的内容文件 {path.name}{hint}")


def load_stats(path: Path) -> tuple[Document | None, list[Problem]]:
    """content/stats.json, written by `portal stats export` (JSON, not edited by hand)."""
    raw = path.read_bytes()
    if len(raw) > 8 * MAX_BYTES:
        return None, [Problem(path, 1, "统计文件过大，请检查导出")]
    try:
        return Document(path, json.loads(raw.decode("utf-8")), digest=digest(raw)), []
    except UnicodeDecodeError:
        return None, [Problem(path, 1, "统计文件不是 UTF-8 编码，请重新运行 portal stats export")]
    except json.JSONDecodeError as exc:
        return None, [Problem(path, exc.lineno, f"统计文件格式错误：{exc.msg}，请重新运行 portal stats export")]


def load_content(root: Path, reuse: Callable[[Path], Document | None] | None = None) -> Content:
    """Load every file of a content folder; problems are collected, never raised. `reuse` may hand back the
    document of a guide that passed before, its file unchanged (core/memo.py)."""
    content = Content(root)
    if not root.is_dir():
        content.problems.append(Problem(root, 1, "内容目录不存在"))
        return content
    for name in SINGLE_FILES:
        path = root / f"{name}.yml"
        if not path.exists():
            content.problems.append(Problem(path, 1, f"缺少必需的内容文件 {name}.yml"))
            continue
        doc, problems = load_file(path)
        content.problems += problems
        if doc is not None:
            content.singles[name] = doc
    for path in sorted(root.iterdir()):
        if path.is_file() and path.suffix in (".yml", ".yaml") and path.stem not in SINGLE_FILES:
            content.problems.append(_unknown(path, [*SINGLE_FILES]))
    if (root / "stats.json").exists():
        content.stats, problems = load_stats(root / "stats.json")
        content.problems += problems
    for folder in FOLDERS:
        for path in sorted((root / folder).glob("*.y*ml")):
            if path.suffix == ".yaml":
                content.problems.append(_unknown(path, []))
                continue
            doc = reuse(path) if reuse is not None and folder == "services" else None
            if doc is not None:
                content.services.append(doc)
                continue
            doc, problems = load_file(path)
            content.problems += problems
            if doc is not None:
                getattr(content, folder).append(doc)
    return content
