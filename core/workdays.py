"""Chinese working days: chinese_calendar where it has data, holidays.yml beyond, Mon–Fri as a last resort."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import chinese_calendar

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
        return day.weekday() < 5

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


def _library_covers(year: int) -> bool:
    """Whether chinese_calendar ships data for `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True
