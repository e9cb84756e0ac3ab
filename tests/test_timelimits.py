"""Time limits as the law writes them: units and stages, the first form, the check of a promise in 工作日 against
a law in 日 across long holidays, the messages with their lines, and what the pages print."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.catalogue import Catalogue
from core.model import Holidays, HolidayYear
from core.timelimits import LateLimits, Span, TimeLimit
from core.workdays import WorkCalendar
from generator import render
from tests.conftest import TODAY, line_of

RENDING = "content/services/sb-gongshang-rending.yml"  # 工伤认定
ARBITRATION = "content/services/ld-zhengyi-zhongcai-shenqing.yml"  # 劳动人事争议仲裁
BENEFIT = "content/services/sb-shiye-baoxianjin-shenling.yml"  # 失业保险金
REGISTRATION = "content/services/jy-shiye-dengji.yml"  # 失业登记, 即办件
LATE = re.compile(r"在 (\d{4}-\d\d-\d\d) 受理时晚于法定时限（(\d+)日）届满（(\S+) 晚于 (\S+)）")


# ------------------------------------------------------------------ units
@pytest.mark.parametrize(
    ("written", "value", "unit", "shown"),
    [
        ("60日", 60, "日", "60日"),
        ("30个工作日", 30, "工作日", "30个工作日"),
        ("30 个工作日", 30, "工作日", "30个工作日"),
        ("5工作日", 5, "工作日", "5个工作日"),
        ("即办", 0, "即办", "即办"),
        ({"value": 15, "unit": "日"}, 15, "日", "15日"),
        ({"unit": "即办"}, 0, "即办", "即办"),
    ],
)
def test_a_limit_keeps_its_unit(written: object, value: int, unit: str, shown: str) -> None:
    span = Span.model_validate(written)
    assert (span.value, span.unit, span.text()) == (value, unit, shown)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("60天", "时限「60天」写法不对：请写成「60日」（自然日，含节假日）、「30个工作日」或「即办」"),
        (60, "时限「60」没有写单位"),
        ("0日", "时限为 0 日的请写「即办」"),
        ({"value": 3, "unit": "即办"}, "即办不写天数（写了 3）"),
        ("366日", "less than or equal to 365"),
    ],
)
def test_a_limit_without_a_unit_is_refused(written: object, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        Span.model_validate(written)


# ------------------------------------------------------------------ stages
def test_stages_compare_like_with_like() -> None:
    limit = TimeLimit.model_validate(
        {
            "stages": [
                {"name": "受理决定", "statutory": "5日", "promised": "3日"},
                {"name": "仲裁审理", "statutory": "45日", "extension": "15日", "promised": "45日"},
            ],
            "excluded": ["鉴定期间"],
            "explanation": "说明",
        }
    )
    assert [s.statutory_text() for s in limit.stages] == ["5日", "45日（可延长15日）"]
    assert limit.headline.name == "仲裁审理" and not limit.instant
    assert (
        limit.text() == "受理决定：法定5日，承诺3日；仲裁审理：法定45日（可延长15日），承诺45日。不计入时限：鉴定期间"
    )
    for statutory, promised, message in (("45日", "46日", "承诺时限（46日）不能长于法定时限（45日）"),
                                         ("即办", "1日", "承诺时限（1日）不能长于法定时限（即办）")):  # fmt: skip
        with pytest.raises(ValidationError, match=re.escape(message)):
            stage = {"name": "审理", "statutory": statutory, "promised": promised}
            TimeLimit.model_validate({"stages": [stage], "explanation": "x"})


def test_the_first_form_is_still_read_as_one_stage_in_working_days() -> None:
    old = TimeLimit.model_validate({"statutory": 20, "promised": 15, "explanation": "说明"})
    assert [(s.name, s.statutory.text(), s.promised.text()) for s in old.stages] == [
        ("办结", "20个工作日", "15个工作日")
    ]
    instant = TimeLimit.model_validate({"statutory": 0, "promised": 0, "explanation": "当场办结。"})
    assert instant.instant and instant.text() == "当场办结"
    mixed = TimeLimit.model_validate({"statutory": "15日", "promised": 0, "explanation": "说明"})
    assert mixed.stages[0].text() == "办结：法定15日，承诺即办" and mixed.instant


def test_a_shipped_guide_in_the_first_form_still_passes(
    edit: Callable[..., Path], check: Callable[..., object]
) -> None:
    path = edit(
        "content/services/jy-jiuye-kunnan-rending.yml",
        "  stages:\n    - name: 认定\n      statutory: 15个工作日\n      promised: 10个工作日\n",
        "  statutory: 15\n  promised: 10\n",
    )
    result = check()
    assert result.errors == [], "\n".join(p.format() for p in result.errors)  # type: ignore[attr-defined]
    service = next(s for s in result.catalogue.services if s.code == "JY-002")  # type: ignore[attr-defined]
    assert service.time_limit.stages[0].promised.text() == "10个工作日"
    assert "statutory: 15" in path.read_text(encoding="utf-8")


# ------------------------------------------------------------------ across a long holiday
def _ends(start: date, promised: int, statutory: int) -> tuple[date, date]:
    """Promised end in working days, statutory end in calendar days, counted by the calendar itself."""
    return WorkCalendar().add(start, promised), start + timedelta(days=statutory)


def test_fifteen_working_days_end_after_fifteen_days_across_national_day() -> None:
    promised_end, statutory_end = _ends(date(2026, 9, 28), 15, 15)  # 国庆节、中秋节 10月1日至8日
    assert promised_end == date(2026, 10, 23) and statutory_end == date(2026, 10, 13)
    found = LateLimits().late(Span.model_validate("15个工作日"), Span.model_validate("15日"))
    assert found is not None
    start, late_promised, late_statutory = found
    assert late_promised > late_statutory and (late_promised, late_statutory) == _ends(start, 15, 15)
    assert start.year == 2026  # the latest year the calendar knows, where editors recognise the holiday


@pytest.mark.parametrize(
    ("promised", "statutory", "late"),
    [
        ("10个工作日", "30日", False),
        ("30个工作日", "60日", False),  # 工伤认定, 一般案件
        ("3日", "5日", False),
        ("3个工作日", "5日", True),  # 仲裁受理 as it was shipped: Spring Festival 2026 is 9 days
        ("3个工作日", "10日", True),  # 失业保险金 as it was shipped
        ("10个工作日", "15日", True),  # 工伤认定, 事实清楚的, as it was shipped
        ("10日", "15个工作日", False),
        ("21日", "15个工作日", True),  # 15 working days may end in 20 days when a weekend is worked
        ("即办", "15日", False),
    ],
)
def test_promises_in_another_unit_are_checked_on_every_start_date(promised: str, statutory: str, late: bool) -> None:
    found = LateLimits().late(Span.model_validate(promised), Span.model_validate(statutory))
    assert (found is not None) == late
    if found:
        assert found[1] > found[2]


def test_the_check_knows_the_years_of_holidays_yml() -> None:
    long_holiday = HolidayYear(
        year=2031,
        source="测试通知",
        holidays=[{"name": "长假", "start": date(2031, 5, 1), "end": date(2031, 5, 25)}],  # type: ignore[list-item]
    )
    ten, thirty = Span.model_validate("10个工作日"), Span.model_validate("30日")
    assert LateLimits().late(ten, thirty) is None
    found = LateLimits(Holidays(years=[long_holiday])).late(ten, thirty)
    assert found is not None and found[0].year == 2031 and found[1] > found[2]


def test_each_pair_is_worked_out_once(catalogue: Catalogue) -> None:
    checker = LateLimits()
    rending = next(s for s in catalogue.services if s.code == "SB-007")
    checker.problems(rending, catalogue.sources["SB-007"])  # builds the calendar table
    began = time.perf_counter()
    for _ in range(10_000):
        assert checker.problems(rending, catalogue.sources["SB-007"]) == []
    assert time.perf_counter() - began < 2.0


# ------------------------------------------------------------------ messages and lines
# (file, text to replace, replacement, expected message part, text on the reported line)
CASES = [
    (RENDING, "      statutory: 60日", "      statutory: 60天", "时限「60天」写法不对", "statutory: 60天"),
    (RENDING, "      statutory: 60日", "      statutory: 60", "时限「60」没有写单位", "statutory: 60"),
    (
        ARBITRATION,
        "      promised: 3日",
        "      promised: 6日",
        "承诺时限（6日）不能长于法定时限（5日）",
        "promised: 6日",
    ),
    (ARBITRATION, "      extension: 15日", "      extension: 即办", "法定可延长的时限应写天数", "extension: 即办"),
    (RENDING, "    - name: 送达", "    - name: 受理", "阶段「受理」写了不止一次", "  stages:"),
    (
        BENEFIT,
        "      promised: 3日",
        "      promised: 即办",
        "承诺件至少要有一个阶段的承诺时限不是「即办」",
        "code: SB-006",
    ),
    (
        REGISTRATION,
        "      promised: 即办",
        "      promised: 1个工作日",
        "承诺时限（1个工作日）不能长于法定时限（即办）",
        "promised: 1个",
    ),
    (
        REGISTRATION,
        "  stages:\n    - name: 办结\n      statutory: 即办\n      promised: 即办\n",
        "  statutory: 5\n  promised: 10\n",
        "承诺时限（10个工作日）不能长于法定时限（5个工作日）",
        "time_limit:",  # the first form has no stage line to point at
    ),
    (
        ARBITRATION,
        "      promised: 3日",
        "      promised: 3个工作日",
        "「受理决定」的承诺时限（3个工作日）在 ",
        "promised: 3个工作日",
    ),
    (
        RENDING,
        "      promised: 10日",
        "      promised: 10个工作日",
        "「认定决定（事实清楚、权利义务明确的）」的承诺时限（10个工作日）在 ",
        "promised: 10个工作日",
    ),
]


@pytest.mark.parametrize(("rel", "old", "new", "message", "needle"), CASES, ids=[c[3][:20] for c in CASES])
def test_each_time_limit_rule_names_file_line_and_problem(
    edit: Callable[..., Path], check: Callable[..., object], rel: str, old: str, new: str, message: str, needle: str
) -> None:
    path = edit(rel, old, new)
    result = check()
    assert result.catalogue is None  # type: ignore[attr-defined]
    hits = [p for p in result.errors if message in p.message]  # type: ignore[attr-defined]
    assert hits, "\n".join(p.format() for p in result.errors)  # type: ignore[attr-defined]
    assert hits[0].path.name == path.name and hits[0].line == line_of(path, needle)


def test_the_late_promise_names_a_start_date_that_proves_it(
    edit: Callable[..., Path], check: Callable[..., object]
) -> None:
    edit(BENEFIT, "      promised: 3日", "      promised: 3个工作日")
    [problem] = [p for p in check().errors if "受理时晚于法定时限" in p.message]  # type: ignore[attr-defined]
    found = LATE.search(problem.message)
    assert found, problem.message
    start = date.fromisoformat(found[1])
    promised_end, statutory_end = _ends(start, 3, int(found[2]))
    assert (str(promised_end), str(statutory_end)) == (found[3], found[4]) and promised_end > statutory_end
    assert problem.message.startswith("「资格审核认定」的承诺时限（3个工作日）在 ")


# ------------------------------------------------------------------ what citizens read
@pytest.fixture(scope="module")
def pages(catalogue: Catalogue) -> dict[str, str]:
    return dict(render.iter_site(catalogue, TODAY))


def test_the_guides_read_as_the_law_states_them(pages: dict[str, str]) -> None:
    rending = pages["docs/services/SB-007.md"]
    assert "| 认定决定（一般案件） | 60日 | 30个工作日 | 自受理之日起 |" in rending
    assert "| 认定决定（事实清楚、权利义务明确的） | 15日 | 10日 | 自受理之日起 |" in rending
    assert "| 受理 | 15日 | 15日 |" in rending and "60个工作日" not in rending
    assert "- 需要以司法机关或者有关行政主管部门的结论为依据的" in rending  # 不计入办理时限: 中止
    arbitration = pages["docs/services/LD-001.md"]
    assert "| 受理决定 | 5日 | 3日 |" in arbitration
    assert "| 仲裁审理 | 45日（可延长15日） | 45日 |" in arbitration
    benefit = pages["docs/services/SB-006.md"]
    assert "| 资格审核认定 | 10日 | 3日 |" in benefit and "10个工作日" not in benefit
    assert "| 审核 | 15日 | 即办（当场办结） |" in pages["docs/services/SB-001.md"]  # 社会保险法第五十七条


def test_the_printed_notice_and_the_time_limits_table_print_every_stage(pages: dict[str, str]) -> None:
    sheet = pages["docs/services/LD-001.md"].split('id="rs-sheet"')[1]
    assert "办理时限：受理决定：法定5日，承诺3日；仲裁审理：法定45日（可延长15日），承诺45日　" in sheet
    assert (
        "认定决定（一般案件）：法定60日，承诺30个工作日" in pages["docs/services/SB-007.md"].split('id="rs-sheet"')[1]
    )
    table = pages["docs/time-limits.md"]
    rows = (
        "受理决定：法定5日，承诺3日；仲裁审理：法定45日（可延长15日），承诺45日",
        "资格审核认定：法定10日，承诺3日",
        "认定决定（一般案件）：法定60日，承诺30个工作日",
        "审核：法定15日，承诺即办",
    )
    for row in rows:
        assert row in table, row
    assert "| 承诺件 | 30个工作日 |" in pages["docs/categories/shebao.md"]  # lists show the longest promise


def test_structured_data_carries_the_units(pages: dict[str, str]) -> None:
    page = pages["docs/services/LD-001.md"]
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', page).group(1)  # type: ignore[union-attr]
    stages = json.loads(raw)["timeLimit"]["stages"]
    assert stages[1] == {
        "name": "仲裁审理",
        "statutory": {"value": 45, "unit": "日"},
        "extension": {"value": 15, "unit": "日"},
        "promised": {"value": 45, "unit": "日"},
        "note": stages[1]["note"],
    }
    services = json.loads(pages["docs/catalogue.json"])["services"]
    rending = next(s for s in services if s["code"] == "SB-007")
    assert rending["time_limit"]["stages"][1]["statutory"] == {"value": 60, "unit": "日"}
