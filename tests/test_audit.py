"""Warnings: 公开时限 for unpublished changes, expired notices, missing holiday data."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from generator import pipeline
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
        f"content/services/jy-shiye-dengji.yml:{line}: 警告：「失业登记」于 2026-11-02 更新，"
        "公开时限为 5 个工作日（应于 2026-11-09 前公开），至今未发布，请尽快发布"
    ]


def test_published_version_is_not_warned(project: Path, edit: Callable[..., Path]) -> None:
    ledger = {"JY-001": "2026-11-02"}
    assert not any("「失业登记」" in w for w in _late(_warnings(project, date(2026, 11, 23), ledger)))
    edit(SVC, "updated: 2026-11-02", "updated: 2026-11-03")  # a newer, unpublished change
    assert any("「失业登记」" in w for w in _late(_warnings(project, date(2026, 11, 23), ledger)))


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
