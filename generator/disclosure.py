"""八公开 and 九公开: which items each guide really publishes, computed from its fields (政务公开 page)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core import model as m
from generator.fragments import Fragments, piece

PUBLISHED, MISSING, NOT_APPLICABLE = "✓", "—", "不涉及"
Test = Callable[[m.Service], bool | None]  # None: the item does not apply to this service


@dataclass(frozen=True)
class Item:
    """One disclosure item: its name, the guide section that publishes it, and how to tell."""

    name: str
    anchor: str
    test: Test


def _permit(s: m.Service) -> bool | None:
    """行政许可 applies to permits only: their conditions, materials, limits and basis must all be public."""
    return bool(s.conditions and s.materials and s.basis) if s.type == "行政许可" else None


ITEMS: dict[str, Item] = {
    item.name: item
    for item in (
        Item("服务项目", "info", lambda s: bool(s.name and s.type and s.audience and s.conditions)),
        Item("办理程序", "steps", lambda s: bool(s.steps and s.handling)),
        Item("申报材料", "materials", lambda s: bool(s.materials)),
        Item("收费标准", "fee", lambda s: bool(s.fee.standard)),
        Item("办结时限", "time-limit", lambda s: bool(s.time_limit.stages)),  # every stage has its promised limit
        Item("政策依据", "basis", lambda s: bool(s.basis)),
        Item("行政许可", "info", _permit),
        Item("承办人员", "posts", lambda s: bool(s.posts)),
        Item("审批单位", "info", lambda s: bool(s.implementer.name)),
        Item("审批结果", "result", lambda s: bool(s.result.name and s.result.delivery)),
        Item("收费依据", "fee", lambda s: bool(s.fee.basis)),
    )
}
# The seeds' 八公开, and 九公开 as the later rule words it: 审批单位、审批结果 and 收费依据 published too.
EIGHT = ("服务项目", "办理程序", "申报材料", "收费标准", "办结时限", "政策依据", "行政许可", "承办人员")
NINE = ("服务项目", "办理程序", "申报材料", "审批单位", "收费依据", "收费标准", "办结时限", "审批结果", "承办人员")


@dataclass(frozen=True)
class Cell:
    """One guide × item: ✓, — or 不涉及, and where on the guide page it is."""

    mark: str
    anchor: str


@dataclass(frozen=True)
class Matrix:
    """A services × items table with a count of the guides that publish each item."""

    title: str
    items: tuple[str, ...]
    rows: tuple[tuple[m.Service, tuple[Cell, ...]], ...]

    def published(self, column: int) -> tuple[int, int]:
        """How many guides publish item `column`, out of those it applies to."""
        marks = [cells[column].mark for _, cells in self.rows]
        return marks.count(PUBLISHED), len(marks) - marks.count(NOT_APPLICABLE)


def cell(service: m.Service, name: str) -> Cell:
    """Whether `service` publishes item `name`."""
    item = ITEMS[name]
    found = item.test(service)
    return Cell(NOT_APPLICABLE if found is None else PUBLISHED if found else MISSING, item.anchor)


def matrix(
    title: str, items: tuple[str, ...], services: Sequence[m.Service], fragments: Fragments | None = None
) -> Matrix:
    """The table for one rule (八公开 or 九公开); `fragments` keeps each guide's cells in a preview."""

    def cells(s: m.Service) -> tuple[Cell, ...]:
        return piece(fragments, f"cells:{title}", s, lambda: tuple(cell(s, name) for name in items))

    return Matrix(title, items, tuple((s, cells(s)) for s in services))


def matrices(services: Sequence[m.Service], fragments: Fragments | None = None) -> tuple[Matrix, Matrix]:
    """Both tables, for the guides in force."""
    return matrix("八公开", EIGHT, services, fragments), matrix("九公开", NINE, services, fragments)
