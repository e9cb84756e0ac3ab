"""Stage 2 — validate: check every document against the model, collect all errors, then abort once."""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from core import model as m
from core.catalogue import Catalogue
from core.errors import ContentError, Problem
from core.load import Content, Document, Loc, load_content, load_file
from core.memo import Memo
from core.procedure import Procedure, fill_all
from core.refs import attachments, service_refs
from core.stats import Stats
from core.timelimits import LateLimits

M = TypeVar("M", bound=BaseModel)
SITE_DOC = "@site_config"  # site_config.yml's document in Catalogue.sources (no code or notice: key starts with @)
SINGLE_MODELS: dict[str, type[BaseModel]] = {
    "agency": m.Agency,
    "offices": m.Offices,
    "posts": m.Posts,
    "promises": m.Promises,
    "rules": m.Rules,
    "complaint_channels": m.Complaints,
    "holidays": m.Holidays,
    "procedure": Procedure,
}
PERSONAL_KEYS = {
    "phone", "mobile", "tel", "telephone", "id", "id_number", "id_card", "idcard",
    "电话", "手机", "手机号", "身份证", "身份证号",
}  # fmt: skip
# Keys that moved to another file: the message says where they live now.
MOVED = {
    "resupervision_limit": "：复督次数已移到 content/procedure.yml 的 resupervision_rounds",
    "rectification_days": "：差评整改期限已移到 content/procedure.yml 的 verify 和 rectify",
}
PHONE_OR_ID = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}[- ]?\d{7,8}|\d{17}[\dXx]|\d{15})(?!\d)")


# ------------------------------------------------------------ error messages
def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The model class inside list[...] / Optional[...] annotations, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found:
            return found
    return None


def _walk(cls: type[BaseModel], loc: Loc) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model owning the last key of `loc`, and that key's field."""
    owner: type[BaseModel] | None = cls
    info: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int):
            continue
        if owner is None or part not in owner.model_fields:
            return owner, None
        info = owner.model_fields[part]
        if part == loc[-1]:
            return owner, info
        owner = _inner_model(info.annotation)
    return owner, info


def _suggest(key: str, owner: type[BaseModel] | None) -> str:
    """A did-you-mean for an unknown key, by spelling or by the Chinese title."""
    if owner is None:
        return ""
    names = list(owner.model_fields)
    for name, info in owner.model_fields.items():
        if info.title and key in (info.title, info.title.split("（")[0]):
            return f"，是不是想写 {name}？"
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    if close:
        return f"，是不是想写 {close[0]}？"
    return f"；这里可以写的键有：{'、'.join(names)}"


def _expected(ctx: dict[str, Any]) -> str:
    """Pydantic's "'a' or 'b'" turned into 「a」、「b」."""
    words = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
    return "、".join(f"「{w}」" for w in words) or str(ctx.get("expected", ""))


def _message(error: dict[str, Any], cls: type[BaseModel]) -> str:
    """A Chinese message for one pydantic error, naming the key and what it means."""
    loc: Loc = tuple(error["loc"])
    kind, ctx = error["type"], error.get("ctx", {})
    keys = [p for p in loc if isinstance(p, str)]
    key = keys[-1] if keys else ""
    owner, info = _walk(cls, loc)
    label = f"{key}（{info.title}）" if info and info.title else key
    texts = {
        "missing": f"缺少必填项 {label}",
        "extra_forbidden": f"未知的键 {key}" + MOVED.get(str(key), _suggest(str(key), owner)),
        "string_type": f"{label} 应为文字",
        "string_too_short": f"{label} 不能为空",
        "string_too_long": f"{label} 最多 {ctx.get('max_length')} 个字",
        "too_short": f"{label} 至少要写 {ctx.get('min_length')} 项",
        "too_long": f"{label} 最多写 {ctx.get('max_length')} 项",
        "string_pattern_mismatch": f"{label} 格式不对：只能用字母、数字、连字符（标识须小写）",
        "int_parsing": f"{label} 应为整数",
        "int_type": f"{label} 应为整数",
        "int_from_float": f"{label} 应为整数",
        "greater_than_equal": f"{label} 不能小于 {ctx.get('ge')}",
        "less_than_equal": f"{label} 不能大于 {ctx.get('le')}",
        "bool_parsing": f"{label} 应为 true 或 false",
        "bool_type": f"{label} 应为 true 或 false",
        "date_from_datetime_parsing": f"{label} 日期应写成 2026-01-31 的形式",
        "date_from_datetime_inexact": f"{label} 只写日期，不写时间",
        "date_parsing": f"{label} 日期应写成 2026-01-31 的形式",
        "date_type": f"{label} 日期应写成 2026-01-31 的形式",
        "literal_error": f"{label} 应为以下之一：{_expected(ctx)}",
        "list_type": f"{label} 应为列表（每项另起一行，以「- 」开头）",
        "model_type": f"{label or '此处'} 应为「键: 值」形式的内容",
        "dict_type": f"{label or '此处'} 应为「键: 值」形式的内容",
        "model_attributes_type": f"{label or '此处'} 应为「键: 值」形式的内容",
    }
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return texts.get(kind, f"{label}：{error['msg']}")


def _problems(doc: Document, cls: type[BaseModel], exc: ValidationError) -> list[Problem]:
    """Every pydantic error of one document as located problems."""
    found = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        found.append(Problem(doc.path, doc.line_of(loc), _message(dict(error), cls)))
    return found


def parse(doc: Document, cls: type[M]) -> tuple[M | None, list[Problem]]:
    """Validate one document against one model."""
    try:
        return cls.model_validate(doc.data), []
    except ValidationError as exc:
        return None, _problems(doc, cls, exc)


# ----------------------------------------------------------------- privacy
def _personal_data(doc: Document) -> tuple[list[Problem], set[Loc]]:
    """Phone and ID numbers must never reach the public staff directory."""
    problems: list[Problem] = []
    locs: set[Loc] = set()
    data = doc.data if isinstance(doc.data, dict) else {}
    for list_key in ("staff", "posts"):
        items = data.get(list_key)
        for i, item in enumerate(items if isinstance(items, list) else []):
            for key, value in (item if isinstance(item, dict) else {}).items():
                loc = (list_key, i, key)
                if str(key).lower() in PERSONAL_KEYS - {"id"} or (list_key == "staff" and str(key).lower() == "id"):
                    locs.add(loc)
                    message = f"工作人员信息不得包含电话号码或身份证号（键 {key}），公开网站只列姓名和工号"
                    problems.append(Problem(doc.path, doc.line_of(loc), message))
                elif isinstance(value, str | int) and PHONE_OR_ID.search(str(value)):
                    message = "工作人员信息中出现了像电话号码或身份证号的数字，公开网站只列姓名和工号"
                    problems.append(Problem(doc.path, doc.line_of(loc), message))
    return problems, locs


def _parse_posts(doc: Document) -> tuple[m.Posts | None, list[Problem]]:
    """posts.yml, with personal data reported once and clearly rather than as unknown keys."""
    personal, locs = _personal_data(doc)
    try:
        return (None if personal else m.Posts.model_validate(doc.data)), personal
    except ValidationError as exc:
        kept = [e for e in exc.errors(include_url=False) if tuple(e["loc"]) not in locs]
        found = [Problem(doc.path, doc.line_of(tuple(e["loc"])), _message(dict(e), m.Posts)) for e in kept]
        return None, personal + found


# ------------------------------------------------------------ cross-checks
def _duplicates(items: Iterable[tuple[str, Document, Loc]], what: str) -> list[Problem]:
    """Report every repeat of a value that must be unique."""
    first: dict[str, tuple[Document, Loc]] = {}
    problems = []
    for value, doc, loc in items:
        if value in first:
            other, other_loc = first[value]
            where = f"{other.path.name} 第 {other.line_of(other_loc)} 行"
            problems.append(Problem(doc.path, doc.line_of(loc), f"{what}「{value}」重复（{where}已使用）"))
        else:
            first[value] = (doc, loc)
    return problems


def _post_refs(posts: m.Posts, doc: Document, offices: dict[str, m.Office]) -> list[Problem]:
    """A post must sit at known windows and name known A and B staff."""
    problems = _duplicates(((s.number, doc, ("staff", i, "number")) for i, s in enumerate(posts.staff)), "工号")
    problems += _duplicates(((p.id, doc, ("posts", i, "id")) for i, p in enumerate(posts.posts)), "岗位标识")
    numbers = {s.number for s in posts.staff}
    if posts.head not in numbers:
        problems.append(Problem(doc.path, doc.line_of(("head",)), f"单位负责人工号「{posts.head}」不在 staff 名单中"))
    for i, post in enumerate(posts.posts):
        office = offices.get(post.office)
        if offices and office is None:
            message = f"办公场所「{post.office}」在 offices.yml 中不存在"
            problems.append(Problem(doc.path, doc.line_of(("posts", i, "office")), message))
        elif office is not None:
            known = {w.number for w in office.windows}
            problems += [
                Problem(doc.path, doc.line_of(("posts", i, "windows", j)), f"「{office.name}」没有 {number} 号窗口")
                for j, number in enumerate(post.windows)
                if number not in known
            ]
        for role in ("a", "b"):
            number = getattr(post, role)
            if number not in numbers:
                message = f"{role.upper()} 角工号「{number}」不在 staff 名单中"
                problems.append(Problem(doc.path, doc.line_of(("posts", i, role)), message))
    return problems


def _service_order(config: m.SiteConfig) -> Any:
    """Sort key: category order from site_config, then code."""
    order = {c.id: i for i, c in enumerate(config.categories)}
    return lambda s: (order.get(s.category, len(order)), s.code)


def load_config(path: Path) -> tuple[m.SiteConfig | None, Document | None, list[Problem]]:
    """Load and validate site_config.yml; its document is kept for the lines of later messages."""
    if not path.exists():
        return None, None, [Problem(path, 1, "站点设置文件不存在")]
    doc, problems = load_file(path)
    if doc is None:
        return None, None, problems
    config, found = parse(doc, m.SiteConfig)
    return config, doc, problems + found


def load_catalogue(content: Path, config: Path, memo: Memo | None = None) -> Catalogue:
    """Catalogue loading, the one composition both sides use: load every file, validate, cross-check; `memo`
    skips guides that passed before unchanged (a long-running preview).

    Raises ContentError listing every problem; nothing half-valid is ever returned."""
    if memo is not None:
        memo.begin(content, config)
    return validate(load_content(content, memo.document if memo else None), config, memo)


def _singles(content: Content) -> tuple[dict[str, Any], list[Problem]]:
    """agency.yml, offices.yml, posts.yml …: each parsed, with offices and posts cross-checked."""
    parsed: dict[str, Any] = {}
    problems: list[Problem] = _procedure(content, parsed)
    for name, doc in content.singles.items():
        if name == "procedure":
            continue
        value: BaseModel | None
        value, found = _parse_posts(doc) if name == "posts" else parse(doc, SINGLE_MODELS[name])
        parsed[name] = value
        problems += found
    offices_doc = content.singles.get("offices")
    if parsed.get("offices") and offices_doc:
        items = ((o.id, offices_doc, ("offices", i, "id")) for i, o in enumerate(parsed["offices"].offices))
        problems += _duplicates(items, "办公场所标识")
    if parsed.get("posts"):
        problems += _post_refs(parsed["posts"], content.singles["posts"], _offices(parsed))
    return parsed, problems


def _procedure(content: Content, parsed: dict[str, Any]) -> list[Problem]:
    """procedure.yml first: its numbers replace the placeholders in the rules and the channels page."""
    doc = content.singles.get("procedure")
    if doc is None:
        return []
    parsed["procedure"], problems = parse(doc, Procedure)
    return problems + (fill_all(content.singles, parsed["procedure"]) if parsed["procedure"] else [])


def _offices(parsed: dict[str, Any]) -> dict[str, m.Office]:
    """Offices by id, or nothing when offices.yml did not parse (its own errors say why)."""
    return {o.id: o for o in parsed["offices"].offices} if parsed.get("offices") else {}


def _parse_each(docs: list[Document], cls: type[M]) -> tuple[list[tuple[M, Document]], list[Problem]]:
    """Every document of a folder against one model: the valid ones with their documents, and every problem."""
    valid: list[tuple[M, Document]] = []
    problems: list[Problem] = []
    for doc in docs:
        value, found = parse(doc, cls)
        problems += found
        if value is not None:
            valid.append((value, doc))
    return valid, problems


def _services(
    content: Content, parsed: dict[str, Any], config: m.SiteConfig | None, memo: Memo | None = None
) -> tuple[list[tuple[m.Service, Document]], list[Problem]]:
    """Every service guide, checked against the offices, posts, categories, files and (time limits) the calendar."""
    categories = {c.id for c in config.categories} if config else set()
    posts = {p.id: p for p in parsed["posts"].posts} if parsed.get("posts") else None
    late, offices = LateLimits(parsed.get("holidays")), _offices(parsed)
    known = {doc.path: hit for doc in content.services if memo and (hit := memo.recall(doc))}
    services, problems = _parse_each([doc for doc in content.services if doc.path not in known], m.Service)
    for service, doc in services:
        found = service_refs(service, doc, content.root, offices, posts, categories) + late.problems(service, doc)
        _slim(doc)
        problems += found
        if memo and not found:
            memo.keep(doc, service)
    services += [(hit.service, hit.doc) for hit in known.values()]
    problems += _duplicates(((s.code, d, ("code",)) for s, d in services), "事项编码")
    return services, problems


def _notices(content: Content) -> tuple[list[tuple[m.Notice, Document]], list[Problem]]:
    """Every notice, with unique ids."""
    notices, problems = _parse_each(content.notices, m.Notice)
    problems += _duplicates(((n.id, d, ("id",)) for n, d in notices), "公告标识")
    return notices, problems


def _stats(content: Content) -> tuple[Stats | None, list[Problem]]:
    """content/stats.json, written by `portal stats export`, if there is one."""
    if content.stats is None:
        return None, []
    stats, found = parse(content.stats, Stats)
    advice = "请重新运行 portal stats export"
    return stats, [Problem(p.path, p.line, f"统计文件内容有误（{p.message}），{advice}") for p in found]


def _popular(
    config: m.SiteConfig, config_path: Path, config_doc: Document | None, content: Content, services: list[Any]
) -> list[Problem]:
    """常用事项 must name existing services; codes of files that failed to parse still count (one mistake, one
    message)."""
    codes = {s.code for s, _ in services} | {
        str(d.data.get("code")) for d in content.services if isinstance(d.data, dict)
    }
    line = config_doc.line_of if config_doc else (lambda _loc: 1)
    return [
        Problem(config_path, line(("popular", i)), f"常用事项「{code}」不存在")
        for i, code in enumerate(config.popular)
        if code not in codes
    ]


def validate(content: Content, config_path: Path, memo: Memo | None = None) -> Catalogue:
    """Check everything; return the catalogue, or raise ContentError listing every problem."""
    config, config_doc, problems = load_config(config_path)
    parsed, found = _singles(content)
    services, in_services = _services(content, parsed, config, memo)
    notices, in_notices = _notices(content)
    stats, in_stats = _stats(content)
    problems = content.problems + problems + found + in_services + in_notices + in_stats
    if config:
        problems += _popular(config, config_path, config_doc, content, services)
    if problems or config is None or config_doc is None or any(parsed.get(name) is None for name in SINGLE_MODELS):
        raise ContentError(sorted(set(problems)))
    ordered = sorted(services, key=lambda pair: _service_order(config)(pair[0]))
    return Catalogue(
        config=config,
        agency=parsed["agency"],
        offices=tuple(parsed["offices"].offices),
        staff=tuple(parsed["posts"].staff),
        posts=tuple(parsed["posts"].posts),
        head=parsed["posts"].head,
        services=tuple(s for s, _ in ordered),
        promises=tuple(parsed["promises"].promises),
        rules=tuple(parsed["rules"].rules),
        complaints=parsed["complaint_channels"],
        notices=tuple(sorted((n for n, _ in notices), key=lambda n: (n.published, n.id), reverse=True)),
        holidays=tuple(parsed["holidays"].years),
        procedure=parsed["procedure"],
        stats=stats,
        files=_files(content.root, [s for s, _ in services]),
        sources={
            **{s.code: d for s, d in services},
            **{f"notice:{n.id}": d for n, d in notices},
            **{f"@{name}": d for name, d in content.singles.items()},
            SITE_DOC: config_doc,
        },
    )


def _files(root: Path, services: list[m.Service]) -> dict[str, Path]:
    """The files under content/ that guides link, to be copied into the site."""
    found = (value for s in services for _, value in attachments(s) if not value.startswith(("http://", "https://")))
    return {value: root / value for value in sorted(set(found))}


def _slim(doc: Document) -> None:
    """Keep only the lines warnings need: at 10,000 services the full maps cost hundreds of MB."""
    doc.data = {"code": doc.data.get("code")} if isinstance(doc.data, dict) else None
    doc.lines = {loc: line for loc, line in doc.lines.items() if len(loc) == 1}
