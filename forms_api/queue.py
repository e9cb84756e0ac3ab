"""Data access for the staff queue: its filters, one page of cases and the counts per state, all done in SQL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from core.vocab import CASE_KINDS
from forms_api import states
from forms_api.dao import _at_windows
from forms_api.models import Case, User

PAGE_SIZE = 50
SUMMARY = 40  # characters of the matter shown on its one line
# By deadline, cases without one last: ix_cases_queue_order and, per window, ix_cases_window_queue are in this
# order (migration 0006; SQLite reads NULLS LAST from them by walking twice, dated entries first).
ORDER = (Case.deadline.asc().nulls_last(), Case.created_at, Case.id)


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters, as read from the query string (values outside the vocabularies are dropped)."""

    state: str | None = None
    kind: str | None = None
    window: str | None = None  # "office:window"
    overdue: bool = False
    due_soon: bool = False
    include_final: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> QueueFilters:
        """Filters from request arguments."""
        window = args.get("window") or ""
        return cls(
            state=args.get("state") if args.get("state") in states.STATES else None,
            kind=args.get("kind") if args.get("kind") in CASE_KINDS else None,
            window=window if window.count(":") == 1 and all(window.split(":")) else None,
            overdue=bool(args.get("overdue")),
            due_soon=bool(args.get("soon")),
            include_final=bool(args.get("all")),
        )

    def to_args(self) -> dict[str, str]:
        """The query string that gives these filters back (page links keep them)."""
        args = {"state": self.state, "kind": self.kind, "window": self.window}
        flags = {"overdue": self.overdue, "soon": self.due_soon, "all": self.include_final}
        return {k: v for k, v in args.items() if v} | {k: "1" for k, on in flags.items() if on}


@dataclass(frozen=True)
class QueueRow:
    """What one line of the queue shows about a case."""

    id: int
    receipt_no: str
    kind: str
    category: str | None
    state: str
    target: str  # what the complaint names: a window, a post, a staff member, a service, or the citizen's words
    matter: str  # its first words on one line, "…" when cut
    office: str | None
    window: str | None
    assignee: str | None
    deadline: date | None

    def urgency(self, today: date, soon: date) -> Literal["overdue", "due_soon"] | None:
        """Overdue, or due soon (by `soon`), or neither: decided as the filters of those names decide it."""
        if self.deadline is None or self.state in states.NOT_OVERDUE:
            return None
        if self.deadline < today:
            return "overdue"
        return "due_soon" if self.deadline <= soon else None


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue: its rows, which page it is of how many, and how many cases match in all."""

    rows: list[QueueRow]
    number: int
    pages: int
    total: int


def _visible(user: User) -> list[ColumnElement[bool]]:
    """A window lead sees only the cases at their own windows, and never one about themselves; other staff see
    every case."""
    if user.role != "window-lead":
        return []
    about_them = [Case.target_ref.is_(None) | (Case.target_ref != f"staff:{user.badge}")] if user.badge else []
    return [_at_windows(user.windows or []), *about_them]


def _owed() -> ColumnElement[bool]:
    """The case owes a step by its deadline (it has one, and its state is not one that cannot be late)."""
    return and_(Case.deadline.is_not(None), Case.state.not_in(states.NOT_OVERDUE))


def _matching(filters: QueueFilters, user: User, today: date, soon: date) -> list[ColumnElement[bool]]:
    """Every filter, and the user's own windows, as conditions of one WHERE clause."""
    where = _visible(user)
    if filters.state:
        where.append(Case.state == filters.state)
    elif not filters.include_final:
        where.append(Case.state.not_in(states.FINAL))
    if filters.kind:
        where.append(Case.kind == filters.kind)
    if filters.window:
        where.append(_at_windows([filters.window]))
    urgent = []
    if filters.overdue:
        urgent.append(Case.deadline < today)
    if filters.due_soon:
        urgent.append(and_(Case.deadline >= today, Case.deadline <= soon))
    if urgent:  # both ticked: everything that needs attention
        where += [_owed(), or_(*urgent)]
    return where


def count_cases(session: Session, filters: QueueFilters, user: User, today: date, soon: date) -> int:
    """How many cases `user` may see match `filters`."""
    return session.scalar(select(func.count()).select_from(Case).where(*_matching(filters, user, today, soon))) or 0


def list_cases(
    session: Session, filters: QueueFilters, user: User, today: date, soon: date, *, limit: int, offset: int = 0
) -> list[QueueRow]:
    """The cases `user` may see that match `filters`, by deadline: `limit` of them after the first `offset`."""
    rows = session.execute(_page_query(filters, user, today, soon, limit, offset))
    return [QueueRow(r.id, r.receipt_no, r.kind, r.category, r.state, r.target_label, _one_line(r.summary or ""),
                     r.office, r.window, r.assignee, r.deadline) for r in rows]  # fmt: skip


def _page_query(filters: QueueFilters, user: User, today: date, soon: date, limit: int, offset: int) -> Select[Any]:
    """One page as one statement: the page's ids first, read from the index alone, then only those rows (a deep
    page costs a longer walk of the index, not more table rows)."""
    ids = select(Case.id).where(*_matching(filters, user, today, soon)).order_by(*ORDER)
    page = ids.limit(limit).offset(offset).subquery()
    summary = func.substr(Case.matter, 1, SUMMARY * 2).label("summary")
    columns = (Case.id, Case.receipt_no, Case.kind, Case.category, Case.state, Case.target_label, summary,
               Case.office, Case.window, Case.assignee, Case.deadline)  # fmt: skip
    return select(*columns).join(page, page.c.id == Case.id).order_by(*ORDER)


def list_page(
    session: Session, filters: QueueFilters, user: User, today: date, soon: date, number: int, size: int = PAGE_SIZE
) -> QueuePage:
    """Page `number` of the queue; a number past the end gives the last page, one below 1 the first."""
    total = count_cases(session, filters, user, today, soon)
    pages = max(1, -(-total // size))
    number = min(max(number, 1), pages)
    rows = list_cases(session, filters, user, today, soon, limit=size, offset=(number - 1) * size) if total else []
    return QueuePage(rows, number, pages, total)


def count_states(session: Session, user: User) -> dict[str, int]:
    """How many cases `user` may see are in each state (one GROUP BY; states without cases are left out)."""
    counts: dict[str, int] = {}
    for state, count in session.execute(_states_query(user)):
        counts[state] = counts.get(state, 0) + count
    return counts


def _states_query(user: User) -> Select[str, int]:
    """Cases per state; a window lead's grouped by window too, which ix_cases_window_queue answers on its own."""
    query = select(Case.state, func.count()).where(*_visible(user))
    if user.role == "window-lead":
        return query.group_by(Case.office, Case.window, Case.state)
    return query.group_by(Case.state)


def _one_line(text: str) -> str:
    """The matter's first SUMMARY characters on one line, with "…" when there is more (`text` is the
    matter's first SUMMARY * 2 characters: whitespace folded away may leave it short of SUMMARY)."""
    line = " ".join(text.split())
    return line if len(line) <= SUMMARY and len(text) < SUMMARY * 2 else line[:SUMMARY] + "…"
