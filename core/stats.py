"""The statistics contract: the file `portal stats export` writes and `portal build` reads (content/stats.json).

Counts and rates only; the backend builds this model, so what it exports is checked against it."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.vocab import SATISFIED_FROM


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OnTime(_Strict):
    due: int = Field(ge=0)
    on_time: int = Field(ge=0)
    rate: float | None = Field(None, ge=0, le=1)
    overdue: int = Field(0, ge=0)  # cases of the month still open past the deadline of the step they are at


class Evaluations(_Strict):
    total: int = Field(ge=0)
    levels: dict[Literal["1", "2", "3", "4", "5"], int]


class WindowFigure(_Strict):
    window: str
    label: str
    total: int = Field(ge=0)
    satisfied: int = Field(ge=0)
    rate: float | None = Field(None, ge=0, le=1)


class Rectification(_Strict):
    opened: int = Field(ge=0)
    closed: int = Field(ge=0)
    rate: float | None = Field(None, ge=0, le=1)


class Month(_Strict):
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    cases: dict[str, int]
    categories: dict[str, int]
    outcomes: dict[str, int]
    on_time: OnTime
    evaluations: Evaluations
    windows: list[WindowFigure]
    rectification: Rectification

    @property
    def satisfaction(self) -> float | None:
        """Share of ratings at 基本满意 or better."""
        good = sum(n for level, n in self.evaluations.levels.items() if int(level) >= SATISFIED_FROM)
        return good / self.evaluations.total if self.evaluations.total else None


class Stats(_Strict):
    generated: date
    months: list[Month]
