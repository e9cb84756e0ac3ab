"""Warnings about valid content: late publication, expired notices, missing holiday data."""

from __future__ import annotations

import ipaddress
import json
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from core.catalogue import Catalogue
from core.errors import Problem
from core.validate import SITE_DOC
from core.workdays import WorkCalendar

LEDGER = "publication.json"


def read_ledger(site: Path) -> dict[str, str] | None:
    """Service code → `updated` date of the version the published site carries; None if never published."""
    try:
        data = json.loads((site / LEDGER).read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.get("services", {}).items()}
    except (OSError, ValueError, AttributeError):
        return None


def _late(catalogue: Catalogue, today: date, ledger: dict[str, str], cal: WorkCalendar) -> list[Problem]:
    """公开时限: a change must be public within N working days of its `updated` date."""
    limit = catalogue.config.disclosure_days
    problems = []
    for service in catalogue.services:
        if ledger.get(service.code) == service.updated.isoformat():
            continue
        if cal.between(service.updated, today) > limit:
            deadline = cal.add(service.updated, limit)
            doc = catalogue.sources[service.code]
            message = (
                f"「{service.name}」于 {service.updated} 更新，公开时限为 {limit} 个工作日"
                f"（应于 {deadline} 前公开），至今未发布，请尽快发布"
            )
            problems.append(Problem(doc.path, doc.line_of(("updated",)), message, "warning"))
    return problems


def _expired(catalogue: Catalogue, today: date) -> list[Problem]:
    """Expired notices are archived; the editor should know."""
    problems = []
    for notice in catalogue.notices:
        if notice.valid_until and notice.valid_until < today:
            doc = catalogue.sources[f"notice:{notice.id}"]
            message = f"公告「{notice.title}」已于 {notice.valid_until} 到期，已移入历史公告"
            problems.append(Problem(doc.path, doc.line_of(("valid_until",)), message, "warning"))
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
