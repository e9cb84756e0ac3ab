"""Working days: statutory holidays, adjusted workdays, year ends, holidays.yml, fallback to the law."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from core.model import HolidayRange, HolidayYear
from core.workdays import WorkCalendar, statutory_days

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
        # 2027: no official data yet → Monday–Friday without the law's days off (no 调休 known)
        (date(2026, 12, 31), 1, date(2027, 1, 4)),  # 元旦 Friday 1 January off
        (date(2026, 12, 30), 2, date(2027, 1, 4)),  # a deadline across the year end: 31 Dec, then Monday
        (date(2027, 2, 4), 1, date(2027, 2, 9)),  # 除夕 Fri 5 Feb to 初三 Mon 8 Feb off; no in-lieu Tuesday
        (date(2027, 4, 30), 1, date(2027, 5, 3)),  # 劳动节 1–2 May fall on the weekend; Monday is worked
        (date(2027, 9, 30), 1, date(2027, 10, 4)),  # 国庆 1–3 October; Monday 4 October is worked
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
    # fallback: 除夕 Sat 2 Feb to 初三 Tue 5 Feb 2030 off by law, nothing else
    assert WorkCalendar().add(date(2030, 2, 1), 1) == date(2030, 2, 6)


def test_between_counts_working_days_after_start() -> None:
    cal = WorkCalendar()
    assert cal.between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert cal.between(date(2026, 11, 16), date(2026, 11, 23)) == 5
    assert cal.between(date(2026, 11, 23), date(2026, 11, 16)) == 0


def test_library_years_are_covered() -> None:
    assert WorkCalendar().covers(2026)
    assert not WorkCalendar().covers(2027)


# The law (《全国年节及纪念日放假办法》 as revised for 2025): 元旦 1, 春节 4 (除夕 to 初三), 清明 1, 劳动节 2,
# 端午 1, 中秋 1, 国庆 3 — 13 days. Lunar dates for 2027 from the new moons (Meeus, Astronomical Algorithms
# ch. 49, Beijing time): 6 Feb 23:56 → 正月初一 6 Feb; 5 Jun → 五月初五 9 Jun; 1 Sep → 八月十五 15 Sep; no leap
# month between the winter solstices. 清明 is the solar term of 5 April 2027.
LAW_2027 = {
    date(2027, 1, 1),
    *(date(2027, 2, d) for d in (5, 6, 7, 8)),
    date(2027, 4, 5),
    date(2027, 5, 1),
    date(2027, 5, 2),
    date(2027, 6, 9),
    date(2027, 9, 15),
    *(date(2027, 10, d) for d in (1, 2, 3)),
}
# 2025 from the State Council's notice for 2025 (the law's days only, not its 调休 days off).
LAW_2025 = {
    date(2025, 1, 1),
    *(date(2025, 1, d) for d in (28, 29, 30, 31)),
    date(2025, 4, 4),
    date(2025, 5, 1),
    date(2025, 5, 2),
    date(2025, 5, 31),
    date(2025, 10, 6),
    *(date(2025, 10, d) for d in (1, 2, 3)),
}


def _days(year: int) -> list[date]:
    start = date(year, 1, 1)
    return [start + timedelta(days=n) for n in range((date(year + 1, 1, 1) - start).days)]


def test_year_without_data_skips_exactly_the_statutory_weekdays() -> None:
    cal = WorkCalendar()
    off = {day for day in _days(2027) if day.weekday() < 5 and not cal.is_workday(day)}
    assert off == {day for day in LAW_2027 if day.weekday() < 5}
    assert all(cal.is_workday(day) for day in _days(2027) if day.weekday() < 5 and day not in LAW_2027)
    assert not any(cal.is_workday(day) for day in _days(2027) if day.weekday() >= 5)  # 调休上班 unknown


@pytest.mark.parametrize(("year", "count"), [(2025, 13), (2026, 13), (2027, 13), (2028, 12), (2030, 13)])
def test_statutory_days_are_the_laws_thirteen(year: int, count: int) -> None:
    assert len(statutory_days(year)) == count  # 2028: 中秋 (new moon 19 Sep → 3 Oct) falls on 国庆


def test_statutory_days_match_the_law_and_the_official_calendar() -> None:
    assert statutory_days(2025) == LAW_2025
    assert statutory_days(2027) == LAW_2027
    # Years with official data: every statutory day is a day off there, and none is an announced swap.
    for year in (2025, 2026):
        assert not any(chinese_calendar.is_workday(day) for day in statutory_days(year))
    assert date(2026, 10, 6) not in statutory_days(2026)  # 调休 day off of 2026, not statutory
