"""八公开 and 九公开 (generator/disclosure.py): the items the seeds name, each cell computed from the guide."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.catalogue import Catalogue
from core.validate import load_catalogue
from generator import disclosure, render
from tests.conftest import TODAY

SVC = "content/services/jy-shiye-dengji.yml"


def _cells(project: Path, code: str) -> dict[str, str]:
    catalogue = load_catalogue(project / "content", project / "site_config.yml")
    service = next(s for s in catalogue.services if s.code == code)
    return {name: disclosure.cell(service, name).mark for name in disclosure.ITEMS}


def test_the_items_are_the_seeds_own() -> None:
    assert disclosure.EIGHT == (
        "服务项目",
        "办理程序",
        "申报材料",
        "收费标准",
        "办结时限",
        "政策依据",
        "行政许可",
        "承办人员",
    )
    assert {"审批单位", "审批结果", "收费依据"} <= set(disclosure.NINE) and len(disclosure.NINE) == 9


def test_a_shipped_guide_publishes_everything_that_applies(project: Path) -> None:
    cells = _cells(project, "JY-001")
    assert cells.pop("行政许可") == "不涉及"  # 失业登记 is a 公共服务, not a permit
    assert set(cells.values()) == {"✓"}


def test_a_guide_without_posts_shows_a_gap_for_its_staff(project: Path, edit: Callable[..., Path]) -> None:
    edit(SVC, "posts: [jiuye-dengji", "# posts: [jiuye-dengji")
    assert _cells(project, "JY-001")["承办人员"] == "—"


@pytest.mark.parametrize(("kind", "mark"), [("行政许可", "✓"), ("行政确认", "不涉及")])
def test_the_permit_item_applies_to_permits_only(
    project: Path, edit: Callable[..., Path], kind: str, mark: str
) -> None:
    remedy = "remedies:\n  - kind: 行政复议\n    body: 青溪县人民政府\n    limit: 60日\nposts:"
    edit(SVC, "type: 公共服务", f"type: {kind}")
    edit(SVC, "posts:", remedy)
    assert _cells(project, "JY-001")["行政许可"] == mark


def test_the_page_has_both_tables_with_links_and_counts(catalogue: Catalogue) -> None:
    pages = dict(render.iter_site(catalogue, TODAY))
    page = pages["docs/disclosure.md"]
    assert "## 八公开核对表" in page and "## 九公开核对表" in page
    rows = [line for line in page.splitlines() if line.startswith("| [")]
    assert len(rows) == 2 * len(catalogue.services)
    assert all(row.count(" | ") in (8, 9) for row in rows)
    assert "(services/JY\\-001.md#posts " in page  # a ✓ opens its section of the guide
    total = len(catalogue.services)
    assert f"| 已公开 | {total}/{total} |" in page  # 服务项目: every guide
    assert "| 不涉及 |" in page  # 行政许可: no permit among the shipped guides


def test_counts_leave_out_the_guides_an_item_does_not_apply_to(catalogue: Catalogue) -> None:
    eight, _ = disclosure.matrices(catalogue.services)
    permit = eight.items.index("行政许可")
    assert eight.published(permit) == (0, 0)
    assert eight.published(eight.items.index("承办人员")) == (len(catalogue.services), len(catalogue.services))
