"""Warnings: 公开时限 for unpublished changes of every kind, expired notices and guides, missing holiday data."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from generator import audit, pipeline
from tests.conftest import line_of

SVC = "content/services/jy-shiye-dengji.yml"


def _warnings(project: Path, today: date, ledger: dict[str, str] | None = None) -> list[str]:
    (project / "site").mkdir(exist_ok=True)
    data = {"services": ledger if ledger is not None else {}}
    (project / "site/publication.json").write_text(json.dumps(data), encoding="utf-8")
    result = pipeline.check(project / "content", project / "site_config.yml", today, project / "site")
    assert result.errors == []
    return [p.format(project) for p in result.warnings]


def _late(warnings: list[str]) -> list[str]:
    return [w for w in warnings if "至今未发布" in w]


def test_change_older_than_the_limit_and_unpublished_is_warned(project: Path) -> None:
    # JY-001 was updated 2026-11-02; five working days later is 2026-11-09.
    line = line_of(project / SVC, "updated:")
    on_time = _late(_warnings(project, date(2026, 11, 9)))
    assert not any("JY-001" in w or "失业登记" in w for w in on_time)
    late = [w for w in _late(_warnings(project, date(2026, 11, 10))) if "「失业登记」" in w]
    assert late == [
        f"content/services/jy-shiye-dengji.yml:{line}: 警告：办事指南「失业登记」于 2026-11-02 更新，"
        "公开时限为 5 个工作日（应于 2026-11-09 前公开），至今未发布，请尽快发布"
    ]


def test_published_version_is_not_warned(project: Path, edit: Callable[..., Path]) -> None:
    ledger = {"JY-001": "2026-11-02"}
    assert not any("「失业登记」" in w for w in _late(_warnings(project, date(2026, 11, 23), ledger)))
    edit(SVC, "updated: 2026-11-02", "updated: 2026-11-03")  # a newer, unpublished change
    assert any("「失业登记」" in w for w in _late(_warnings(project, date(2026, 11, 23), ledger)))


# Every kind the 公开时限 covers: the file, the item's first line, the new date, and how the warning names it.
KINDS = [
    ("content/posts.yml", "  - id: shebaoka\n    updated: 2026-09-01", "岗位「社保卡服务岗」及其 A、B 角"),
    (
        "content/offices.yml",
        "  - id: chengguan-suo\n    updated: 2026-11-20",
        "办公场所「城关街道人力资源和社会保障所」",
    ),
    ("content/promises.yml", "  - title: 零收费\n    updated: 2026-11-20", "服务承诺「零收费」"),
    ("content/rules.yml", "  - id: badge\n    updated: 2026-11-20", "制度「挂牌上岗制」"),
]


@pytest.mark.parametrize(("rel", "item", "label"), KINDS, ids=[k[0] for k in KINDS])
def test_every_kind_of_change_must_be_public_in_time(
    project: Path, edit: Callable[..., Path], rel: str, item: str, label: str
) -> None:
    published = pipeline.check(project / "content", project / "site_config.yml", date(2026, 12, 1), project / "x")
    assert published.catalogue is not None
    ledger = json.loads(audit.ledger(published.catalogue, date(2026, 12, 1)))["items"]
    assert _late(_warnings(project, date(2026, 12, 14), ledger)) == []  # everything as published
    edit(rel, item, item.rsplit(": ", 1)[0] + ": 2026-12-01")  # a change on 1 December, not yet published
    line = line_of(project / rel, item.split("\n")[0]) + 1
    assert _late(_warnings(project, date(2026, 12, 8), ledger)) == []  # five working days: 2 … 8 December
    assert _late(_warnings(project, date(2026, 12, 9), ledger)) == [
        f"{rel}:{line}: 警告：{label}于 2026-12-01 更新，公开时限为 5 个工作日"
        "（应于 2026-12-08 前公开），至今未发布，请尽快发布"
    ]


def test_a_notice_must_be_public_within_the_limit_of_its_date(project: Path) -> None:
    notice = "content/notices/2026-linghuo-jiuye-shebao-butie.yml"
    late = [w for w in _late(_warnings(project, date(2026, 12, 31))) if w.startswith(notice)]
    assert len(late) == 1 and "公告「" in late[0] and f":{line_of(project / notice, 'published:')}:" in late[0]


def test_a_ledger_from_before_every_kind_was_tracked_still_counts_its_services(project: Path) -> None:
    # publication.json of an older site: {"services": {code: date}}; the guides it lists are not reported again.
    assert not any("「失业登记」" in w for w in _late(_warnings(project, date(2026, 12, 31), {"JY-001": "2026-11-02"})))


def test_an_expired_guide_is_archived_with_a_warning(project: Path, edit: Callable[..., Path]) -> None:
    edit(SVC, "change_note:", "valid_until: 2026-11-30\nchange_note:")
    expired = [w for w in _warnings(project, date(2026, 12, 1)) if "已移入已停止办理的事项" in w]
    assert expired == [
        f"{SVC}:{line_of(project / SVC, 'valid_until:')}: "
        "警告：办事指南「失业登记」已于 2026-11-30 到期，已移入已停止办理的事项"
    ]
    assert not any("已移入已停止办理" in w for w in _warnings(project, date(2026, 11, 30)))  # its last day


def test_a_guide_resting_on_an_expired_policy_is_warned(project: Path, edit: Callable[..., Path]) -> None:
    edit(SVC, "    article: 第三十五条、第五十二条", "    article: 第三十五条、第五十二条\n    valid_until: 2026-06-30")
    found = [w for w in _warnings(project, date(2026, 11, 23)) if "失效" in w and "失业登记" in w]
    assert found == [
        f"{SVC}:{line_of(project / SVC, 'basis:', 2)}: "
        "警告：「失业登记」的政策依据《中华人民共和国就业促进法》已于 2026-06-30 失效，"
        "请改为现行依据，或给事项写上有效期（valid_until）"
    ]


def test_never_published_site_gives_one_warning(project: Path) -> None:
    result = pipeline.check(project / "content", project / "site_config.yml", date(2026, 11, 23), project / "none")
    notes = [p.message for p in result.warnings if "发布记录" in p.message]
    assert len(notes) == 1 and not _late([p.message for p in result.warnings])


def test_expired_notice_is_warned(project: Path) -> None:
    warnings = _warnings(project, date(2026, 11, 23))
    expired = [w for w in warnings if "已于 2026-08-31 到期" in w]
    assert len(expired) == 1 and "2026-gaoxiao-biyesheng-jianxi-gangwei-zhengji.yml" in expired[0]


def test_missing_next_year_holidays_is_warned_until_added(project: Path) -> None:
    assert any("没有 2027 年的节假日安排" in w for w in _warnings(project, date(2026, 11, 23)))
    (project / "content/holidays.yml").write_text(
        "years:\n  - year: 2027\n    source: 国务院办公厅通知（测试）\n    holidays:\n"
        "      - name: 元旦\n        start: 2027-01-01\n        end: 2027-01-01\n",
        encoding="utf-8",
    )
    assert not any("节假日安排" in w for w in _warnings(project, date(2026, 11, 23)))


def test_current_year_without_holidays_is_warned_too(project: Path) -> None:
    holiday_warnings = [w for w in _warnings(project, date(2027, 1, 4)) if "节假日安排" in w]
    assert holiday_warnings == [
        f"content/holidays.yml:1: 警告：没有 {year} 年的节假日安排（日历库和 holidays.yml 都没有），"
        f"{year} 年的工作日暂按周一至周五并扣除法定节假日计算，调休上班日和调休放假日未知；"
        "国务院办公厅发布后请补充到 holidays.yml"
        for year in (2027, 2028)
    ]
    (project / "content/holidays.yml").write_text(
        "years:\n  - year: 2027\n    source: 国务院办公厅通知（测试）\n    holidays:\n"
        "      - name: 元旦\n        start: 2027-01-01\n        end: 2027-01-01\n",
        encoding="utf-8",
    )
    remaining = [w for w in _warnings(project, date(2027, 1, 4)) if "节假日安排" in w]
    assert len(remaining) == 1 and "没有 2028 年" in remaining[0]


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("http://127.0.0.1:8000/", "本机地址"),
        ("http://127.1.2.3/", "本机地址"),
        ("http://localhost:8000/", "本机地址"),
        ("http://portal.localhost/", "本机地址"),
        ("http://[::1]:8000/", "本机地址"),
        ("http://0.0.0.0/", "本机地址"),
        ("https://example.com/", "示例地址"),
        ("https://www.example.org/rsj/", "示例地址"),
        ("https://rsj.qingxi.example.gov.cn/", "示例地址"),
        ("https://rsj.qingxi.example/", "示例地址"),
        ("https://portal.test/", "示例地址"),
        ("https://portal.invalid/", "示例地址"),
        ("https://rsj.qingxi.gov.cn/", None),
        ("http://10.0.0.5/", None),  # an intranet address: the hall's kiosks may reach it
        ("https://examples.gov.cn/", None),
    ],
)
def test_site_url_no_phone_can_open_is_warned(
    project: Path, edit: Callable[..., Path], url: str, what: str | None
) -> None:
    path = edit("site_config.yml", "site_url: http://127.0.0.1:8000/", f"site_url: {url}")
    found = [w for w in _warnings(project, date(2026, 11, 23)) if "site_url" in w]
    if what is None:
        assert found == []
    else:
        assert found == [
            f"site_config.yml:{line_of(path, 'site_url:')}: 警告：网站地址 site_url「{url}」是{what}，"
            "一次性告知单和窗口评价卡上的二维码都指向它，群众扫码打不开；发布前请改成网站对外的真实地址"
        ]
