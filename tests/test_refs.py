"""Cross-checks of a guide against the rest of the content (core/refs.py): posts and the files it links."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core import refs
from core.catalogue import Catalogue
from generator import pipeline
from tests.conftest import assert_refused, line_of

SVC = "content/services/jy-shiye-dengji.yml"

CASES = [
    ("posts: [jiuye-dengji", "posts: [jiuye-dengjj", "承办岗位「jiuye-dengjj」在 posts.yml 中不存在", "posts:"),
    (
        "posts: [jiuye-dengji",
        "posts: [shebaoka",
        "承办岗位「社保卡服务岗」所在的窗口不在本事项的办理地点和窗口（handling）中",
        "posts:",
    ),
    (
        "blank_form: downloads/shiye-dengji-shenqingbiao.docx",
        "blank_form: downloads/shiye-dengji-shenqingbiao.pdf",
        "文件 content/downloads/shiye-dengji-shenqingbiao.pdf 不存在，请把文件放到 content/downloads/ 下或改正文件名",
        "blank_form:",
    ),
    (
        "sample: downloads/shiye-dengji-shenqingbiao-yangli.docx",
        "sample: downloads/yangli.docx",
        "文件 content/downloads/yangli.docx 不存在",
        "sample:",
    ),
]


@pytest.mark.parametrize(("old", "new", "message", "needle"), CASES, ids=[c[2][:20] for c in CASES])
def test_a_guide_names_only_what_exists(
    edit: Callable[..., Path], check: Callable[[], pipeline.CheckResult], old: str, new: str, message: str, needle: str
) -> None:
    path = edit(SVC, old, new)
    assert_refused(check(), path, message, needle)


def test_a_deleted_form_is_refused_where_every_guide_links_it(
    project: Path, check: Callable[[], pipeline.CheckResult]
) -> None:
    (project / "content/downloads/shiye-dengji-shenqingbiao.docx").unlink()
    errors = check().errors
    assert [(p.path.name, p.line) for p in errors] == [
        ("jy-shiye-dengji.yml", line_of(project / SVC, "blank_form: downloads/shiye-dengji-shenqingbiao.docx"))
    ]


def test_attachments_lists_every_linked_file(catalogue: Catalogue) -> None:
    service = next(s for s in catalogue.services if s.code == "JY-001")
    found = dict(refs.attachments(service))
    assert set(found.values()) == {
        "downloads/shiye-dengji-shenqingbiao.docx",
        "downloads/shiye-dengji-shenqingbiao-yangli.docx",
    }
    assert catalogue.files["downloads/shiye-dengji-shenqingbiao.docx"].is_file()
