"""A guide's time limits as the law writes them: stages (受理, 决定, 送达 …), each with a statutory and a promised
limit in 工作日, 日 (calendar days) or 即办; and the check that a promise never ends after the law's limit when the
two count differently, whatever the start date in the years the working-day calendar knows."""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from core.errors import Problem
from core.fields import Model, Text

if TYPE_CHECKING:
    from core.load import Document
    from core.model import Holidays, Service
    from core.workdays import WorkCalendar

Unit = Literal["工作日", "日", "即办"]
SPAN_PATTERN = r"^\s*(?:\d{1,3}\s*(?:个\s*)?(?:工作日|日)|即办)\s*$"
SPAN = re.compile(SPAN_PATTERN)
NUMBER = re.compile(r"\d+")
HOW = "请写成「60日」（自然日，含节假日）、「30个工作日」或「即办」"


def _span_schema(schema: dict[str, Any]) -> None:
    """Editors write a limit as text (「60日」): the JSON Schema takes that beside the long form."""
    schema["type"], schema["pattern"] = ["string", "object"], SPAN_PATTERN  # pattern binds strings only


class Span(Model):
    """One limit: a number of 工作日 or 日 (calendar days), or 即办; written 「60日」「30个工作日」「即办」."""

    model_config = ConfigDict(json_schema_extra=_span_schema)

    value: int = Field(0, ge=0, le=365, title="天数")
    unit: Unit = Field(title="计算方式")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, str | int):
            return data
        if isinstance(data, int):
            raise ValueError(f"时限「{data}」没有写单位：{HOW}")
        if not SPAN.match(data):
            raise ValueError(f"时限「{data}」写法不对：{HOW}")
        if "即办" in data:
            return {"unit": "即办"}
        return {"value": int(NUMBER.findall(data)[0]), "unit": "工作日" if "工作日" in data else "日"}

    @model_validator(mode="after")
    def _zero_is_instant(self) -> Span:
        if self.unit == "即办" and self.value:
            raise ValueError(f"即办不写天数（写了 {self.value}）")
        if self.unit != "即办" and not self.value:
            raise ValueError(f"时限为 0 {self.unit}的请写「即办」")
        return self

    def text(self) -> str:
        """As the law writes it: 即办, 60日, 30个工作日."""
        return {"即办": "即办", "日": f"{self.value}日"}.get(self.unit, f"{self.value}个工作日")

    def length(self) -> float:
        """Rough calendar days, only to pick the longest stage for lists (5 工作日 ≈ 7 日)."""
        return {"即办": 0.0, "日": float(self.value)}.get(self.unit, self.value * 7 / 5)


def longer(promised: Span, statutory: Span) -> bool:
    """Whether `promised` is surely longer without a calendar: 即办 fits anything, like units compare values."""
    if promised.unit == "即办":
        return False
    return statutory.unit == "即办" or (promised.unit == statutory.unit and promised.value > statutory.value)


class Stage(Model):
    """One stage of a service (受理, 审查, 决定, 送达 …): the law's limit, its extension, and the hall's promise."""

    name: Text = Field(title="阶段")
    statutory: Span = Field(title="法定时限")
    extension: Span | None = Field(None, title="法定可延长")
    promised: Span = Field(title="承诺时限")
    note: Text | None = Field(None, title="阶段说明")

    @field_validator("extension")
    @classmethod
    def _extension_takes_time(cls, extension: Span | None) -> Span | None:
        if extension is not None and extension.unit == "即办":
            raise ValueError("法定可延长的时限应写天数，如「15日」「30个工作日」")
        return extension

    @field_validator("promised")
    @classmethod
    def _within_statutory(cls, promised: Span, info: ValidationInfo) -> Span:
        statutory = info.data.get("statutory")
        if statutory is not None and longer(promised, statutory):
            raise ValueError(f"承诺时限（{promised.text()}）不能长于法定时限（{statutory.text()}）")
        return promised

    @property
    def instant(self) -> bool:
        """Both limits are 即办."""
        return self.statutory.unit == self.promised.unit == "即办"

    def statutory_text(self) -> str:
        """The law's limit with its extension: 45日（可延长15日）."""
        return self.statutory.text() + (f"（可延长{self.extension.text()}）" if self.extension else "")

    def text(self) -> str:
        """One line for tables and the printed notice: 受理：法定5日，承诺3日."""
        if self.instant:
            return f"{self.name}：即办"
        return f"{self.name}：法定{self.statutory_text()}，承诺{self.promised.text()}"


def _old_days(value: Any) -> Any:
    """A number in the first form counted 工作日, and 0 meant 即办; text such as 「60日」 is a limit already."""
    if isinstance(value, int) and not isinstance(value, bool):
        return "即办" if value == 0 else f"{value}个工作日"
    return value


class TimeLimit(Model):
    """A guide's time limits: one or more stages, what the limits do not count, and the explanation."""

    stages: list[Stage] = Field(min_length=1, title="办理阶段")
    excluded: list[Text] = Field(default_factory=list, title="不计入时限的情形")
    explanation: Text = Field(title="时限说明")

    @model_validator(mode="before")
    @classmethod
    def _first_form(cls, data: Any) -> Any:
        """{statutory: 5, promised: 3, explanation}: one 办结 stage in 工作日 (0 is 即办); kept for old files."""
        if not isinstance(data, dict) or "stages" in data or not {"statutory", "promised"} & set(data):
            return data
        stage = {"name": "办结", **{k: _old_days(data[k]) for k in ("statutory", "promised") if k in data}}
        return {"stages": [stage], **{k: v for k, v in data.items() if k not in ("statutory", "promised")}}

    @field_validator("stages")
    @classmethod
    def _distinct_names(cls, stages: list[Stage]) -> list[Stage]:
        names = [s.name for s in stages]
        if repeated := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"阶段「{'、'.join(repeated)}」写了不止一次，每个阶段只写一次")
        return stages

    @property
    def instant(self) -> bool:
        """Every stage is promised 即办: the guide is a 即办件."""
        return all(s.promised.unit == "即办" for s in self.stages)

    @property
    def headline(self) -> Stage:
        """The stage lists show: the longest promise (the later one of equals)."""
        return max(reversed(self.stages), key=lambda s: s.promised.length())

    def text(self) -> str:
        """Every stage exactly, and what is not counted, on one line."""
        if len(self.stages) == 1 and self.stages[0].instant:
            shown = "当场办结"
        else:
            shown = "；".join(s.text() for s in self.stages)
        return shown + (f"。不计入时限：{'；'.join(self.excluded)}" if self.excluded else "")


# ------------------------------------------------------------ the calendar check (core/validate.py calls it)
MARGIN = timedelta(days=800)  # 365 工作日 with every holiday in the way still end within this


class LateLimits:
    """Finds a start date on which a promise in 工作日 ends after a statutory limit in 日, or the reverse. Each
    distinct pair is worked out once, over every start date of the years the calendar knows: 10,000 guides share
    a handful of pairs, and guides with like units never build the calendar at all."""

    def __init__(self, holidays: Holidays | None = None) -> None:
        self._years = holidays.years if holidays else ()
        self._found: dict[tuple[Span, Span], tuple[date, date, date] | None] = {}
        self._days: _Days | None = None

    def late(self, promised: Span, statutory: Span) -> tuple[date, date, date] | None:
        """(start, promised end, statutory end) for a start on which the promise ends later, or None: the worst
        overrun of the latest year that has one, an example an editor recognises."""
        if promised.unit == statutory.unit or "即办" in (promised.unit, statutory.unit):
            return None
        if (promised, statutory) not in self._found:
            days = self._days = self._days or _days(tuple(year.model_dump_json() for year in self._years))
            overruns = ((days.end(promised, i) - days.end(statutory, i), i) for i in days.starts)
            late = [(days.day(i).year, over, i) for over, i in overruns if over > 0]
            found = None
            if late:
                *_, i = max(late)
                found = (days.day(i), days.day(days.end(promised, i)), days.day(days.end(statutory, i)))
            self._found[promised, statutory] = found
        return self._found[promised, statutory]

    def problems(self, service: Service, doc: Document) -> list[Problem]:
        """One problem per stage whose promise can end after the law's limit, at the stage's `promised` line."""
        found = []
        for i, stage in enumerate(service.time_limit.stages):
            if late := self.late(stage.promised, stage.statutory):
                start, promised_end, statutory_end = late
                message = (
                    f"「{stage.name}」的承诺时限（{stage.promised.text()}）在 {start} 受理时晚于法定时限"
                    f"（{stage.statutory.text()}）届满（{promised_end} 晚于 {statutory_end}）；"
                    "请缩短承诺时限，或与法定时限用同样的计算方式"
                )
                found.append(Problem(doc.path, doc.line_of(("time_limit", "stages", i, "promised")), message))
        return found


class _Days:
    """Every day from the first year the calendar knows to past its last, as positions: where the n-th working
    day after a day falls, and which days may start a limit (those of the known years)."""

    def __init__(self, calendar: WorkCalendar) -> None:
        known = [y for y in range(2000, 2101) if calendar.covers(y)] or [date.today().year]
        self.first = date(known[0], 1, 1)
        span = (date(known[-1], 12, 31) + MARGIN - self.first).days
        flags = [calendar.is_workday(self.day(i)) for i in range(span)]
        self.workdays = [i for i, flag in enumerate(flags) if flag]
        self.counts = list(accumulate(flags))  # working days up to and including each day
        self.starts = [i for y in known for i in range(self._at(date(y, 1, 1)), self._at(date(y, 12, 31)) + 1)]

    def _at(self, day: date) -> int:
        return (day - self.first).days

    def day(self, i: int) -> date:
        return self.first + timedelta(i)

    def end(self, span: Span, i: int) -> int:
        """Where `span` counted from day `i` (that day not counted) ends."""
        return i + span.value if span.unit == "日" else self.workdays[self.counts[i] + span.value - 1]


@cache
def _days(years: tuple[str, ...]) -> _Days:
    """The table for holidays.yml's years (as JSON), once a process: the calendar library is slow day by day."""
    # Imported here: core.workdays imports core.model, which imports this module.
    from core.model import HolidayYear
    from core.workdays import WorkCalendar

    return _Days(WorkCalendar(HolidayYear.model_validate_json(year) for year in years))
