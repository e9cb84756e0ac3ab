"""Working days: statutory holidays, adjusted workdays, year ends, holidays.yml, fallback."""

from __future__ import annotations

from datetime import date

import pytest

from core.model import HolidayRange, HolidayYear
from core.workdays import WorkCalendar

YEAR_2030 = HolidayYear(
    year=2030,
    source="国务院办公厅关于2030年部分节假日安排的通知（测试数据）",
    holidays=[HolidayRange(name="元旦", start=date(2030, 1, 1), end=date(2030, 1, 1)),
              HolidayRange(name="春节", start=date(2030, 2, 2), end=date(2030, 2, 8))],
    workdays=[date(2030, 1, 26), date(2030, 2, 9)],
)  # fmt: skip


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 11, 20), 1, date(2026, 11, 23)),  # Friday + 1 → Monday
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # National Day: 1–7 October off
        (date(2026, 10, 9), 1, date(2026, 10, 10)),  # Saturday 10 October is an adjusted workday
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Saturday before Spring Festival worked
        (date(2026, 2, 14), 1, date(2026, 2, 24)),  # Spring Festival 15–23 February off
        (date(2025, 12, 31), 1, date(2026, 1, 4)),  # New Year across the year end; Sunday 4 Jan worked
        (date(2026, 12, 31), 1, date(2027, 1, 1)),  # 2027: no data → Monday–Friday fallback
        (date(2026, 11, 23), 0, date(2026, 11, 23)),
    ],
)
def test_add_working_days(start: date, days: int, expected: date) -> None:
    assert WorkCalendar().add(start, days) == expected


def test_holidays_yml_years_beyond_the_library() -> None:
    cal = WorkCalendar([YEAR_2030])
    assert cal.covers(2030) and not WorkCalendar().covers(2030)
    assert not cal.is_workday(date(2030, 1, 1))
    assert cal.is_workday(date(2030, 1, 26))  # adjusted Saturday
    assert cal.add(date(2030, 2, 1), 1) == date(2030, 2, 9)  # holiday week skipped, Saturday worked
    assert WorkCalendar().add(date(2030, 2, 1), 1) == date(2030, 2, 4)  # fallback: plain Monday


def test_between_counts_working_days_after_start() -> None:
    cal = WorkCalendar()
    assert cal.between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert cal.between(date(2026, 11, 16), date(2026, 11, 23)) == 5
    assert cal.between(date(2026, 11, 23), date(2026, 11, 16)) == 0


def test_library_years_are_covered() -> None:
    assert WorkCalendar().covers(2026)
    assert not WorkCalendar().covers(2027)
