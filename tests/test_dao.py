"""Data access (the queue's own queries are tested in test_queue.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from forms_api import dao


def test_case_ids_beyond_the_database_integer_are_not_found(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert dao.get_case(session, 2**63) is None and dao.get_case(session, 0) is None
