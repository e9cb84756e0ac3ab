"""Chinese working days: chinese_calendar where it has data, holidays.yml beyond, then statutory days off."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache

import chinese_calendar
import holidays

from core.model import HolidayYear


class WorkCalendar:
    """Answers "is this a working day" for any date; a request never fails for want of data."""

    def __init__(self, years: Iterable[HolidayYear] = ()) -> None:
        self._holidays: set[date] = set()
        self._workdays: set[date] = set()
        self._extra_years: set[int] = set()
        for year in years:
            self._extra_years.add(year.year)
            self._workdays.update(year.workdays)
            for holiday in year.holidays:
                day = holiday.start
                while day <= holiday.end:
                    self._holidays.add(day)
                    day += timedelta(days=1)

    def covers(self, year: int) -> bool:
        """Whether official data (library or holidays.yml) exists for `year`."""
        return year in self._extra_years or _library_covers(year)

    def is_workday(self, day: date) -> bool:
        """True on a working day, adjusted workdays (调休上班) included."""
        if day.year in self._extra_years:
            if day in self._workdays:
                return True
            return day.weekday() < 5 and day not in self._holidays
        if _library_covers(day.year):
            return bool(chinese_calendar.is_workday(day))
        # No official arrangement yet: the law's days off are certain, the 调休 swaps are not known.
        return day.weekday() < 5 and day not in statutory_days(day.year)

    def add(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (start itself not counted)."""
        day = start
        while days > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                days -= 1
        return day

    def between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 if end <= start)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_workday(day)
        return count


# 《全国年节及纪念日放假办法》 days off as the holidays package names them in zh_CN (2025 revision: 除夕 and
# 5月2日 included). Its other days are left out: in-lieu days it invents (observed=False drops them), the State
# Council's announced 调休 days off ("休息日（由 … 调休）") and one-off days.
STATUTORY = frozenset({"元旦", "农历除夕", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"})


@cache
def statutory_days(year: int) -> frozenset[date]:
    """The statutory days off of `year` by law, lunar ones included, without any substitute day."""
    found = holidays.country_holidays("CN", years=year, observed=False, language="zh_CN")
    return frozenset(day for day in found if STATUTORY.intersection(found.get_list(day)))


@cache
def _library_covers(year: int) -> bool:
    """Whether chinese_calendar ships data for `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True
