"""Data access: the queue's filters and a window lead's windows are applied by the database, with indexes."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from forms_api import dao, db
from forms_api.models import Case, User
from forms_api.privacy import Vault
from tests.factories import make_case

TODAY = date(2026, 10, 20)


def _user(role: str, windows: list[str] | None = None) -> User:
    return User(username="u", password_hash="x", role=role, windows=windows or [])


@pytest.fixture
def cases(sessions: sessionmaker[Session], vault: Vault) -> dict[str, int]:
    """One case per situation the filters tell apart."""
    made = {
        "hall1": make_case(sessions, vault, "filed", "county-hall:1"),
        "hall5": make_case(sessions, vault, "supervising", "county-hall:5"),
        "town1": make_case(sessions, vault, "received", "chengguan:1", kind="suggestion"),
        "closed1": make_case(sessions, vault, "closed", "county-hall:1"),
    }
    with db.transaction(sessions) as session:
        session.get_one(Case, made["hall5"].case.id).deadline = date(2026, 10, 9)  # overdue
    return {name: receipt.case.id for name, receipt in made.items()}


def _queue(sessions: sessionmaker[Session], user: User, **args: Any) -> set[int]:
    with sessions() as session:
        filters = dao.QueueFilters.from_args({k: str(v) for k, v in args.items()})
        return {c.id for c in dao.list_cases(session, filters, user, TODAY)}


def test_a_window_lead_sees_only_their_windows(sessions: sessionmaker[Session], cases: dict[str, int]) -> None:
    assert _queue(sessions, _user("window-lead", ["county-hall:1"])) == {cases["hall1"]}
    assert _queue(sessions, _user("window-lead", ["county-hall:1", "chengguan:1"])) == {cases["hall1"], cases["town1"]}
    assert _queue(sessions, _user("window-lead", [])) == set()
    # Asking for another window's cases does not widen what they see.
    assert _queue(sessions, _user("window-lead", ["county-hall:1"]), window="county-hall:5") == set()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, {"hall1", "hall5", "town1"}),
        ({"all": 1}, {"hall1", "hall5", "town1", "closed1"}),
        ({"state": "closed"}, {"closed1"}),
        ({"state": "nonsense"}, {"hall1", "hall5", "town1"}),
        ({"kind": "suggestion"}, {"town1"}),
        ({"window": "county-hall:1"}, {"hall1"}),
        ({"overdue": 1}, {"hall5"}),
    ],
)
def test_queue_filters(sessions: sessionmaker[Session], cases: dict[str, int], args: dict, expected: set) -> None:
    assert _queue(sessions, _user("supervisor"), **args) == {cases[name] for name in expected}


def test_the_queue_is_ordered_by_deadline_first(sessions: sessionmaker[Session], cases: dict[str, int]) -> None:
    with sessions() as session:
        found = dao.list_cases(session, dao.QueueFilters(), _user("supervisor"), TODAY)
    assert found[0].id == cases["hall5"]  # the only one with a deadline


def test_a_window_leads_queue_uses_the_index(tmp_path: Path) -> None:
    """Read from SQLite's EXPLAIN QUERY PLAN: the window filter is answered from ix_cases_office_window."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    db.create_schema(engine)
    query = dao._queue_query(dao.QueueFilters(), _user("window-lead", ["county-hall:1"]), TODAY)
    with engine.connect() as connection:
        compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    engine.dispose()
    assert "ix_cases_office_window" in plan


def test_case_ids_beyond_the_database_integer_are_not_found(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert dao.get_case(session, 2**63) is None and dao.get_case(session, 0) is None
