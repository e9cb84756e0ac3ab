"""The service guide's own rules (core/guide.py): new fields, files, periods, remedies and validity, each with its
message and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from generator import pipeline
from tests.conftest import assert_refused

SVC = "content/services/jy-shiye-dengji.yml"  # 公共服务, no remedies, a blank form and a sample
ACT = "content/services/sb-gongshang-rending.yml"  # 行政确认, with remedies

# (file, text to replace, replacement, expected message part, text on the reported line)
CASES = [
    (SVC, "type: 公共服务", "type: 行政服务", "type（事项类型） 应为以下之一：「行政许可」", "type:"),
    (SVC, "  nature: 法定机关", "  nature: 事业单位", "nature（实施主体性质） 应为以下之一", "nature:"),
    (SVC, "type: 公共服务", "type: 行政给付", "事项类型为行政给付，请用 remedies 写明救济途径", "code: JY-001"),
    (ACT, "    limit: 60日", "    limit: 60天", "期限「60天」应写成“60日”“15个工作日”“6个月”或“1年”", "limit: 60天"),
    (ACT, "    limit: 60日", "    limit: 0日", "期限「0日」应写成", "limit: 0日"),
    (ACT, "  - kind: 行政复议", "  - kind: 信访", "kind（途径） 应为以下之一：「行政复议」", "kind: 信访"),
    (SVC, "  delivery: [", "  delivery: [当面告知, ", "delivery（送达方式） 应为以下之一", "delivery:"),
    (
        SVC,
        "blank_form: downloads/",
        "blank_form: //evil.example/",
        "应写成 downloads/文件名（文件名只用字母、数字、连字符、下划线和点），文件放在 content/downloads/ 下",
        "blank_form:",
    ),
    (
        SVC,
        "blank_form: downloads/",
        "blank_form: downloads/../../",
        "应写成 downloads/文件名",
        "blank_form:",
    ),
    (
        SVC,
        "blank_form: downloads/shiye-dengji-shenqingbiao.docx",
        "blank_form: downloads/shiye-dengji-shenqingbiao.exe",
        "的类型不能下载；可用的类型：.pdf、.doc、.docx",
        "blank_form:",
    ),
    (
        SVC,
        "change_note:",
        "valid_from: 2027-01-01\nvalid_until: 2026-12-31\nchange_note:",
        "有效期止（2026-12-31）早于有效期起（2027-01-01）",
        "code: JY-001",
    ),
]


@pytest.mark.parametrize(("rel", "old", "new", "message", "needle"), CASES, ids=[c[3][:24] for c in CASES])
def test_each_guide_rule_names_file_line_and_problem(
    project: Path, edit: Callable[..., Path], check: Callable[[], pipeline.CheckResult],
    rel: str, old: str, new: str, message: str, needle: str,
) -> None:  # fmt: skip
    path = edit(rel, old, new)
    assert_refused(check(), path, message, needle)


def test_a_public_service_needs_no_remedies_but_may_have_them(
    edit: Callable[..., Path], check: Callable[[], pipeline.CheckResult]
) -> None:
    edit(SVC, "posts:", "remedies:\n  - kind: 申请复核\n    body: 青溪县就业管理服务中心\n    limit: 15日\nposts:")
    assert check().errors == []


def test_a_file_on_another_site_is_a_full_address(
    edit: Callable[..., Path], check: Callable[[], pipeline.CheckResult]
) -> None:
    edit(SVC, "blank_form: downloads/shiye-dengji-shenqingbiao.docx", "blank_form: https://zwfw.example.gov.cn/a.pdf")
    assert check().errors == []
