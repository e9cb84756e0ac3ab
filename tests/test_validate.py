"""Each checking rule, with a broken copy of the shipped content: the message and the line."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from generator import pipeline
from tests.conftest import assert_refused, line_of

SVC = "content/services/jy-shiye-dengji.yml"
NOTICE = "content/notices/2026-linghuo-jiuye-shebao-butie.yml"

# (file, text to replace, replacement, expected message part, text on the reported line)
CASES = [
    (SVC, "change_note:", "chnage_note:", "未知的键 chnage_note，是不是想写 change_note？", "chnage_note"),
    (SVC, "name: 失业登记", "事项名称: 失业登记", "未知的键 事项名称，是不是想写 name？", "事项名称"),
    (SVC, "visits: 1", "visits: 1\nvisits: 2", "键「visits」重复（第", "visits: 2"),
    (SVC, "kind: 即办件", "kind: 即时件", "kind（办件类型） 应为以下之一：「即办件」、「承诺件」", "kind:"),
    (
        SVC,
        "updated: 2026-11-02",
        "updated: 2026/11/02",
        "updated（更新日期） 日期应写成 2026-01-31 的形式",
        "updated:",
    ),
    (SVC, "visits: 1", "visits: 一次", "visits（到现场次数） 应为整数", "visits:"),
    (
        SVC,
        "      statutory: 即办\n      promised: 即办",
        "      statutory: 5个工作日\n      promised: 10个工作日",
        "承诺时限（10个工作日）不能长于法定时限（5个工作日）",
        "promised: 10个工作日",
    ),
    (
        SVC,
        "      statutory: 即办\n      promised: 即办",
        "      statutory: 5个工作日\n      promised: 3个工作日",
        "即办件每个阶段的承诺时限都应为「即办」",
        "code: JY-001",
    ),
    (
        SVC,
        "online: https://",
        "online: javascript:alert(1)//",
        "链接「javascript:alert(1)//rsj.qingxi",
        "online:",
    ),
    (SVC, "name: 失业登记", "name: <b>失业登记</b>", "不能包含 HTML 标签（发现 <b>）", "name: <b>"),
    (
        SVC,
        "    notes: 核验后当场退还",
        "    notes: 核验后<script>alert(1)</script>",
        "发现 <script>",
        "notes: 核验后<script>",
    ),
    (
        SVC,
        "  - office: chengguan-suo",
        "  - office: nowhere",
        "办理场所「nowhere」在 offices.yml 中不存在",
        "office: nowhere",
    ),
    (SVC, 'windows: ["1", "2"]', 'windows: ["1", "99"]', "没有 99 号窗口", 'windows: ["1", "99"]'),
    (SVC, "category: jiuye", "category: yanglao", "事项类别「yanglao」不存在", "category: yanglao"),
    (
        SVC,
        "    condition: 曾与用人单位建立劳动关系的\n",
        "",
        "请用 condition 写明在什么情形下需要提供",
        "与原用人单位解除或终止劳动关系的证明",
    ),
    (
        SVC,
        "conditions:\n",
        "conditions: []\nx_conditions:\n",
        "conditions（受理条件） 至少要写 1 项",
        "conditions: []",
    ),
    (SVC, "fee:\n  standard: 不收费\n", "fee:\n", "缺少必填项 standard（收费标准）", "fee:"),
    (
        SVC,
        "audience: 法定劳动年龄内",
        "x_audience: 法定劳动年龄内",
        "缺少必填项 audience（服务对象）",
        "code: JY-001",
    ),
    (
        "content/posts.yml",
        "    a: QX0101",
        "    a: QX9999",
        "A 角工号「QX9999」不在 staff 名单中",
        "a: QX9999",
    ),
    (
        "content/posts.yml",
        "    b: QX0102",
        "    b: QX0101",
        "A 角和 B 角不能是同一人（QX0101）",
        ("b: QX0101", 1),
    ),
    (
        "content/posts.yml",
        "  - number: QX0101\n    name: 陈晓燕",
        "  - number: QX0101\n    name: 陈晓燕\n    phone: 13812345678",
        "工作人员信息不得包含电话号码或身份证号（键 phone）",
        "phone:",
    ),
    (
        "content/posts.yml",
        "    name: 陈晓燕",
        "    name: 陈晓燕 330123199001011234",
        "工作人员信息中出现了像电话号码或身份证号的数字",
        "330123199001011234",
    ),
    (
        "content/posts.yml",
        "    name: 周志强",
        "    name: 周志强 13900001111",
        "像电话号码或身份证号",
        "13900001111",
    ),
    (
        "content/posts.yml",
        "  - number: QX0102",
        "  - number: QX0101",
        "工号「QX0101」重复",
        ("number: QX0101", 2),
    ),
    (
        NOTICE,
        "valid_until: 2027-01-31",
        "valid_until: 2026-10-01",
        "有效期止（2026-10-01）早于有效期起（2026-11-01）",
        "valid_until:",
    ),
    (
        "content/rules.yml",
        "  - id: badge",
        "  - id: badges",
        "id（制度标识） 应为以下之一：「first-inquiry」",
        "id: badges",
    ),
    (
        "content/offices.yml",
        "id: chengguan-suo",
        "id: Chengguan_Suo",
        "id（办公场所标识） 格式不对",
        "Chengguan_Suo",
    ),
    ("site_config.yml", "  - JY-001", "  - JY-999", "常用事项「JY-999」不存在", "JY-999"),
    (
        "site_config.yml",
        "disclosure_days: 5",
        "disclosure_day: 5",
        "未知的键 disclosure_day，是不是想写 disclosure_days？",
        "disclosure_day:",
    ),
    (
        "site_config.yml",
        "site_url: http://127.0.0.1:8000/",
        "site_url: /portal/",
        "须以 http:// 或 https:// 开头",
        "site_url:",
    ),
    (
        "site_config.yml",
        "timezone: Asia/Shanghai",
        "timezone: Asia/Beijing",
        "时区「Asia/Beijing」不存在",
        "timezone:",
    ),
    (
        "content/complaint_channels.yml",
        "  - name: 意见反映类",
        "  - name: 立案处理类",
        "缺少：意见反映类",
        "categories:",
    ),
    (
        "content/holidays.yml",
        "years: []",
        "years:\n  - year: 2029\n    source: 测试通知\n"
        "    holidays: [{name: 元旦, start: 2029-01-01, end: 2029-01-01}]\n"
        "    workdays:\n      - 2029-02-17\n      - 2029-02-07\n",
        "调休上班日 2029-02-07 是星期三，应为周六或周日",
        "- year: 2029",
    ),
    (
        "content/holidays.yml",
        "years: []",
        "years:\n  - {year: 2029, source: 测试通知, holidays: [{name: 元旦, start: 2029-01-01, end: 2029-01-01}],\n"
        "     workdays: [2028-12-30]}\n",
        "调休上班日 2028-12-30 不在 2029 年内",
        "- {year: 2029",
    ),
    (
        "content/holidays.yml",
        "years: []",
        "years:\n  - year: 2029\n    source: 测试通知\n"
        "    holidays: [{name: 元旦, start: 2028-12-31, end: 2029-01-01}]\n"
        "    workdays: [2029-02-07]\n",
        "「元旦」（2028-12-31 至 2029-01-01）不在 2029 年内；调休上班日 2029-02-07 是星期三",
        "- year: 2029",
    ),
    (
        "content/holidays.yml",
        "years: []",
        "years:  # 两个 2029 年\n"
        "  - {year: 2029, source: 一, holidays: [{name: 元旦, start: 2029-01-01, end: 2029-01-01}]}\n"
        "  - {year: 2029, source: 二, holidays: [{name: 元旦, start: 2029-01-01, end: 2029-01-01}]}\n",
        "年份 2029 写了不止一个年度条目，每年只写一个",
        "years:  # 两个 2029 年",
    ),
]


@pytest.mark.parametrize(("rel", "old", "new", "message", "needle"), CASES, ids=[c[3][:24] for c in CASES])
def test_each_rule_names_file_line_and_problem(
    project: Path, edit: Callable[..., Path], check: Callable[[], pipeline.CheckResult],
    rel: str, old: str, new: str, message: str, needle: str | tuple[str, int],
) -> None:  # fmt: skip
    path = edit(rel, old, new)
    assert_refused(check(), path, message, needle)


def test_shipped_content_has_no_errors(check: Callable[..., object]) -> None:
    result = check()
    assert result.errors == []
    assert result.catalogue is not None


def test_all_errors_reported_at_once(edit: Callable[..., Path], check: Callable[..., object]) -> None:
    edit(SVC, "kind: 即办件", "kind: 即时件")
    edit("content/posts.yml", "    a: QX0101", "    a: QX9999")
    edit(NOTICE, "valid_until: 2027-01-31", "valid_until: 2026-10-01")
    result = check()
    files = {p.path.name for p in result.errors}
    assert {"jy-shiye-dengji.yml", "posts.yml", "2026-linghuo-jiuye-shebao-butie.yml"} <= files


def test_duplicate_service_code_across_files(project: Path, check: Callable[..., object]) -> None:
    shutil.copy(project / SVC, project / "content/services/zz-copy.yml")
    result = check()
    dupes = [p for p in result.errors if "事项编码「JY-001」重复" in p.message]
    assert len(dupes) == 1
    assert dupes[0].path.name == "zz-copy.yml"
    assert "jy-shiye-dengji.yml 第 2 行已使用" in dupes[0].message
    assert dupes[0].line == line_of(project / "content/services/zz-copy.yml", "code: JY-001")


def test_missing_rule_is_named(edit: Callable[..., Path], check: Callable[..., object]) -> None:
    edit("content/rules.yml", "  - id: badge", "  - id: courtesy")
    messages = [p.message for p in check().errors]
    assert any("制度重复：courtesy" in m for m in messages)


# (the 别名 written, a part of the message, text on the reported line: the item's own where it has one)
KEYWORD_CASES = [
    ("keywords: [失业证, 失业了, 失业证]", "别名「失业证」重复，请删去一个", "keywords:"),
    ("keywords:\n  - 失业证\n  - 失业了\n  - 失业证\n", "别名「失业证」重复，请删去一个", ("- 失业证", 2)),
    (
        "keywords:\n  - 失业证\n  - 我的工作单位倒闭了以后怎样去办理失业登记手续\n",
        "别名「我的工作单位倒闭了以后怎样去办理失业登记手续」有 22 个字，最多 20 个字",
        "- 我的工作单位",
    ),
    ("keywords: [失业证, '']", "keywords（别名（搜索关键词）） 不能为空", "keywords:"),
    ("keywords: 失业证", "keywords（别名（搜索关键词）） 应为列表", "keywords:"),
]


@pytest.mark.parametrize(("line", "message", "needle"), KEYWORD_CASES, ids=[c[0][:14] for c in KEYWORD_CASES])
def test_keywords_are_distinct_and_short(
    edit: Callable[..., Path], check: Callable[..., object], line: str, message: str, needle: str | tuple[str, int]
) -> None:
    path = edit(
        SVC, "keywords: [失业证, 办失业证, 登记失业, 失业人员登记, 失业了, 没工作了, 就业失业登记证]\n", line + "\n"
    )
    errors = check().errors
    hits = [p for p in errors if message in p.message]
    assert hits, "\n".join(p.format() for p in errors)
    text, nth = (needle, 1) if isinstance(needle, str) else needle
    assert hits[0].line == line_of(path, text, nth)


def test_keywords_are_optional(edit: Callable[..., Path], check: Callable[..., object]) -> None:
    edit(SVC, "keywords: [失业证, 办失业证, 登记失业, 失业人员登记, 失业了, 没工作了, 就业失业登记证]\n", "")
    result = check()
    assert result.errors == []
    assert next(s for s in result.catalogue.services if s.code == "JY-001").keywords == []
