"""Cross-checks of a service guide against the rest of the content: category, places, posts, files."""

from __future__ import annotations

from pathlib import Path

from core import model as m
from core.errors import Problem
from core.guide import DOWNLOADS
from core.load import Document, Loc


def _places(service: m.Service, doc: Document, offices: dict[str, m.Office]) -> list[Problem]:
    """Each handling place must be a known office with those windows."""
    problems = []
    for i, place in enumerate(service.handling):
        office = offices.get(place.office)
        if office is None:
            message = f"办理场所「{place.office}」在 offices.yml 中不存在"
            problems.append(Problem(doc.path, doc.line_of(("handling", i, "office")), message))
            continue
        numbers = {w.number for w in office.windows}
        problems += [
            Problem(doc.path, doc.line_of(("handling", i, "windows", j)), f"「{office.name}」没有 {number} 号窗口")
            for j, number in enumerate(place.windows)
            if number not in numbers
        ]
    return problems


def _posts(service: m.Service, doc: Document, posts: dict[str, m.Post]) -> list[Problem]:
    """承办岗位 must exist and sit at one of the windows the guide sends citizens to."""
    windows = {(h.office, n) for h in service.handling for n in h.windows}
    problems = []
    for i, post_id in enumerate(service.posts):
        post = posts.get(post_id)
        if post is None:
            message = f"承办岗位「{post_id}」在 posts.yml 中不存在"
        elif not windows & {(post.office, n) for n in post.windows}:
            message = f"承办岗位「{post.name}」所在的窗口不在本事项的办理地点和窗口（handling）中"
        else:
            continue
        problems.append(Problem(doc.path, doc.line_of(("posts", i)), message))
    return problems


def attachments(service: m.Service) -> list[tuple[Loc, str]]:
    """Every file a guide links (blank forms, samples, the result's sample) with where it is written."""
    found: list[tuple[Loc, str | None]] = [(("result", "sample"), service.result.sample)]
    for i, item in enumerate(service.materials):
        found += [(("materials", i, "blank_form"), item.blank_form), (("materials", i, "sample"), item.sample)]
    return [(loc, value) for loc, value in found if value]


def _files(service: m.Service, doc: Document, root: Path) -> list[Problem]:
    """A linked file must be there: a citizen clicking 下载 must not meet a 404."""
    advice = f"请把文件放到 content/{DOWNLOADS}/ 下或改正文件名"
    return [
        Problem(doc.path, doc.line_of(loc), f"文件 content/{value} 不存在，{advice}")
        for loc, value in attachments(service)
        if not value.startswith(("http://", "https://")) and not (root / value).is_file()
    ]


def service_refs(
    service: m.Service,
    doc: Document,
    root: Path,
    offices: dict[str, m.Office],
    posts: dict[str, m.Post] | None,
    categories: set[str],
) -> list[Problem]:
    """Everything a guide names must exist: its category, offices and windows, posts and files."""
    problems = _files(service, doc, root)
    if categories and service.category not in categories:
        known = "、".join(sorted(categories))
        message = f"事项类别「{service.category}」不存在；site_config.yml 中的类别有：{known}"
        problems.append(Problem(doc.path, doc.line_of(("category",)), message))
    if offices:
        problems += _places(service, doc, offices)
    if posts is not None:
        problems += _posts(service, doc, posts)
    return problems
