"""procedure.yml: one set of numbers for the rules pages and the case engine; placeholders and their errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from core.catalogue import Catalogue
from core.validate import load_catalogue
from forms_api import workflow
from generator import pipeline
from tests.conftest import line_of
from tests.factories import CONTEXT

SOON = date(2026, 11, 2)


def _built(project: Path) -> Path:
    out = project / "site"
    pipeline.build(project / "content", project / "site_config.yml", out, SOON)
    return out


def test_one_number_changes_the_rules_page_the_channels_page_and_the_engine(
    project: Path, edit: Callable[[str, str, str], Path]
) -> None:
    before = _built(project)
    rules = (before / "rules/index.html").read_text(encoding="utf-8")
    assert "承办单位应当在5个工作日内调查核实" in rules
    assert "5个工作日内答复" in (before / "complaints/index.html").read_text(encoding="utf-8")
    edit("content/procedure.yml", "reply:           # 立案处理类：承办单位调查核实，局办公室答复投诉人\n  days: 5",
         "reply:\n  days: 7")  # fmt: skip
    after = _built(project)
    assert "承办单位应当在7个工作日内调查核实" in (after / "rules/index.html").read_text(encoding="utf-8")
    assert "7个工作日内答复" in (after / "complaints/index.html").read_text(encoding="utf-8")
    hall = load_catalogue(project / "content", project / "site_config.yml")
    ctx = workflow.Context(CONTEXT.calendar, date(2026, 11, 2), hall.procedure)
    assert ctx.due(hall.procedure.reply) == date(2026, 11, 11)  # 7 working days from Monday 2 November


def test_calendar_days_and_same_day_read_as_the_rules_write_them(catalogue: Catalogue) -> None:
    procedure = catalogue.procedure
    assert procedure.onsite.text() == "当日"
    assert procedure.reply.text() == "5个工作日"
    assert procedure.reply.model_copy(update={"unit": "日"}).text() == "5日"
    assert procedure.words()["resupervision_rounds"] == "1"


@pytest.mark.parametrize(
    ("rel", "old", "new", "message"),
    [
        ("content/rules.yml", "承办单位应当在{reply}内", "承办单位应当在{replay}内",
         "占位符「{replay}」不存在；可以写的有：{intake}"),
        ("content/rules.yml", "承办单位应当在{reply}内", "承办单位应当在5个工作日内",
         "投诉处理时限「5个工作日」请写成占位符（如 {reply}），由 procedure.yml 统一规定"),
        ("content/complaint_channels.yml", "复督在{resupervision}内完成", "复督在10 日内完成",
         "投诉处理时限「10 日内」请写成占位符"),
        ("content/rules.yml", "承办单位应当在{reply}内", "承办单位应当在五个工作日内",
         "投诉处理时限「五个工作日」请写成占位符"),
        ("content/complaint_channels.yml", '"{opinion}内说明采纳情况"', "{opinion}内说明采纳情况",
         "以 { 开头的值要加引号"),
        ("content/procedure.yml", "  days: 2\n", "  days: 二\n", "days（天数） 应为整数"),
        ("content/procedure.yml", "  unit: 工作日\n", "  unit: 小时\n", "应为以下之一：「工作日」、「日」"),
        ("content/posts.yml", "head: QX0100", "head: QX0999", "单位负责人工号「QX0999」不在 staff 名单中"),
        ("site_config.yml", "disclosure_days:", "resupervision_limit: 2\ndisclosure_days:",
         "未知的键 resupervision_limit：复督次数已移到 content/procedure.yml 的 resupervision_rounds"),
    ],
)  # fmt: skip
def test_mistakes_are_named_with_their_line(
    project: Path, edit: Callable[[str, str, str], Path], check: Callable[[], pipeline.CheckResult],
    rel: str, old: str, new: str, message: str,
) -> None:  # fmt: skip
    path = edit(rel, old, new)
    result = check()
    expected = line_of(path, new.strip().split("\n")[0])
    found = [p for p in result.errors if message in p.message]
    assert found, [p.message for p in result.errors]
    assert found[0].path == path and found[0].line == expected


def test_other_rules_may_spell_out_days(project: Path, edit: Callable[[str, str, str], Path],
                                        check: Callable[[], pipeline.CheckResult]) -> None:  # fmt: skip
    edit("content/rules.yml", "在变更之日起5个工作日内更新公开", "在变更之日起3个工作日内更新公开")
    assert check().errors == []
