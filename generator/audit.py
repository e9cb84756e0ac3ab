"""Warnings about valid content: late publication, expired notices and guides, missing holiday data."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.catalogue import Catalogue
from core.errors import Problem
from core.load import Loc
from core.validate import SITE_DOC
from core.workdays import WorkCalendar

LEDGER = "publication.json"


@dataclass(frozen=True)
class Public:
    """One thing the 公开时限 applies to: a guide, post, office, promise, rule or notice, and its date."""

    key: str  # in publication.json
    label: str  # as the warning names it
    updated: date
    source: str  # its document in Catalogue.sources
    loc: Loc  # where the date is written


def public_items(catalogue: Catalogue) -> list[Public]:
    """Everything whose change must be public within `disclosure_days` working days."""
    items = [Public(s.code, f"办事指南「{s.name}」", s.updated, s.code, ("updated",)) for s in catalogue.services]
    # (ledger prefix, file and list key, the items, their id and label): each item's date is its `updated`.
    kinds: tuple[tuple[str, str, tuple[Any, ...], Callable[[Any], tuple[str, str]]], ...] = (
        ("post", "posts", catalogue.posts, lambda p: (p.id, f"岗位「{p.name}」及其 A、B 角")),
        ("office", "offices", catalogue.offices, lambda o: (o.id, f"办公场所「{o.name}」")),
        ("promise", "promises", catalogue.promises, lambda p: (p.title, f"服务承诺「{p.title}」")),
        ("rule", "rules", catalogue.rules, lambda r: (r.id, f"制度「{r.name}」")),
    )
    for kind, key, values, name in kinds:
        for i, value in enumerate(values):
            ident, label = name(value)
            items.append(Public(f"{kind}:{ident}", label, value.updated, f"@{key}", (key, i, "updated")))
    items += [
        Public(f"notice:{n.id}", f"公告「{n.title}」", n.published, f"notice:{n.id}", ("published",))
        for n in catalogue.notices
    ]
    return items


def ledger(catalogue: Catalogue, today: date) -> str:
    """publication.json: which version of each public item the published site carries."""
    data = {"published": today.isoformat(), "items": {p.key: p.updated.isoformat() for p in public_items(catalogue)}}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def read_ledger(site: Path) -> dict[str, str] | None:
    """Item key → date of the version the published site carries; None if never published."""
    try:
        data = json.loads((site / LEDGER).read_text(encoding="utf-8"))
        # Sites published before every kind was tracked list only services, by code.
        items = data.get("items", data.get("services", {}))
        return {str(k): str(v) for k, v in items.items()}
    except (OSError, ValueError, AttributeError):
        return None


def _late(catalogue: Catalogue, today: date, ledger: dict[str, str], cal: WorkCalendar) -> list[Problem]:
    """公开时限: a change must be public within N working days of its date."""
    limit = catalogue.config.disclosure_days
    problems = []
    for item in public_items(catalogue):
        if ledger.get(item.key) == item.updated.isoformat() or cal.between(item.updated, today) <= limit:
            continue
        doc = catalogue.sources.get(item.source)
        if doc is None:
            continue
        message = (
            f"{item.label}于 {item.updated} 更新，公开时限为 {limit} 个工作日"
            f"（应于 {cal.add(item.updated, limit)} 前公开），至今未发布，请尽快发布"
        )
        problems.append(Problem(doc.path, doc.line_of(item.loc), message, "warning"))
    return problems


def _expired(catalogue: Catalogue, today: date) -> list[Problem]:
    """Expired notices and guides are archived, and a guide resting on an expired policy is out of date."""
    problems = []
    for notice in catalogue.notices:
        if notice.valid_until and notice.valid_until < today:
            doc = catalogue.sources[f"notice:{notice.id}"]
            message = f"公告「{notice.title}」已于 {notice.valid_until} 到期，已移入历史公告"
            problems.append(Problem(doc.path, doc.line_of(("valid_until",)), message, "warning"))
    for service in catalogue.services:
        doc = catalogue.sources[service.code]
        if service.valid_until and service.valid_until < today:
            message = f"办事指南「{service.name}」已于 {service.valid_until} 到期，已移入已停止办理的事项"
            problems.append(Problem(doc.path, doc.line_of(("valid_until",)), message, "warning"))
            continue
        problems += [
            Problem(
                doc.path,
                doc.line_of(("basis",)),
                f"「{service.name}」的政策依据{b.document}已于 {b.valid_until} 失效，请改为现行依据，"
                "或给事项写上有效期（valid_until）",
                "warning",
            )
            for b in service.basis
            if b.valid_until and b.valid_until < today
        ]
    return problems


def _holiday_gap(today: date, content: Path, cal: WorkCalendar) -> list[Problem]:
    """This year's and next year's arrangements must be known: without them 调休 is guessed."""
    return [
        Problem(
            content / "holidays.yml",
            1,
            f"没有 {year} 年的节假日安排（日历库和 holidays.yml 都没有），{year} 年的工作日暂按周一至周五"
            "并扣除法定节假日计算，调休上班日和调休放假日未知；国务院办公厅发布后请补充到 holidays.yml",
            "warning",
        )
        for year in (today.year, today.year + 1)
        if not cal.covers(year)
    ]


EXAMPLE_LABELS = {"example", "test", "invalid", "localhost"}  # RFC 2606 / 6761 names that reach no real site


def _placeholder_host(url: str) -> str | None:
    """What kind of address `url` is when citizens' phones cannot reach it: 本机地址 or 示例地址."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        labels = host.split(".")
        if labels[-1] == "localhost":
            return "本机地址"
        # example.com/.org/.net, *.example, *.example.gov.cn …, *.test, *.invalid
        return "示例地址" if labels[-1] in EXAMPLE_LABELS or "example" in labels else None
    return "本机地址" if ip.is_loopback or ip.is_unspecified else None


def _site_url(catalogue: Catalogue) -> list[Problem]:
    """site_url goes into QR codes and counter cards: a loopback or example address prints codes nobody can open."""
    url = catalogue.config.site_url
    what = _placeholder_host(url)
    if what is None:
        return []
    doc = catalogue.sources.get(SITE_DOC)
    path, line = (doc.path, doc.line_of(("site_url",))) if doc else (Path("site_config.yml"), 1)
    message = (
        f"网站地址 site_url「{url}」是{what}，一次性告知单和窗口评价卡上的二维码都指向它，"
        "群众扫码打不开；发布前请改成网站对外的真实地址"
    )
    return [Problem(path, line, message, "warning")]


def audit(catalogue: Catalogue, today: date, content: Path, published_site: Path) -> list[Problem]:
    """Every warning for a valid catalogue, sorted by file and line."""
    cal = WorkCalendar(catalogue.holidays)
    ledger = read_ledger(published_site)
    if ledger is None:
        # Nothing published yet: one line, not one per service.
        message = f"没有找到已发布网站的发布记录（{published_site / LEDGER}），首次发布后开始核对公开时限"
        found = [Problem(content, 1, message, "warning")]
    else:
        found = _late(catalogue, today, ledger, cal)
    found += _expired(catalogue, today)
    found += _site_url(catalogue)
    found += _holiday_gap(today, content, cal)
    return sorted(found)
