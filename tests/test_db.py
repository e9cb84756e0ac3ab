"""Storage: migrations match the models, and the embedded SQLite file is set up for durability."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from forms_api import db
from forms_api.errors import StorageError
from forms_api.models import Base


def test_migrations_match_the_models(database_url: str) -> None:
    engine = db.make_engine(database_url)
    db.create_schema(engine)
    db.create_schema(engine)  # a second start is a no-op
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()


def test_sqlite_is_durable_and_waits_for_the_lock(tmp_path: object) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path}/nested/portal.db")  # the folder is created
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    engine.dispose()


def _migrate(url: str) -> None:
    """One worker's start-up: bring the schema up to date (run in its own process)."""
    engine = db.make_engine(url)
    db.create_schema(engine)
    engine.dispose()


def test_workers_starting_together_on_a_new_sqlite_file_all_start(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    context = multiprocessing.get_context("spawn")  # separate processes, as gunicorn's workers are
    workers = [context.Process(target=_migrate, args=(url,)) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0] * 6  # before: "database is locked" for the losers


def _database_at_0003(tmp_path: object, names: list[str]) -> Any:
    """A database as the code before canonical user names left it, with accounts of these names."""
    engine = db.make_engine(f"sqlite:///{tmp_path}/old.db")
    with engine.begin() as connection:
        command.upgrade(db.alembic_config(connection), "0003")
        for name in names:
            connection.execute(
                text("INSERT INTO users (username, password_hash, role, windows, active, session_version, created_at)"
                     " VALUES (:n, 'x', 'intake', '[]', 1, 0, '2026-11-01')"), {"n": name},
            )  # fmt: skip
    return engine


def test_accounts_made_before_canonical_names_are_rewritten(tmp_path: object) -> None:
    engine = _database_at_0003(tmp_path, ["Zhang", "ｌｉ　", "wang"])
    db.create_schema(engine)
    with engine.connect() as connection:
        assert sorted(connection.execute(text("SELECT username FROM users")).scalars()) == ["li", "wang", "zhang"]
    engine.dispose()


def test_two_accounts_that_would_become_one_stop_the_upgrade_naming_both(tmp_path: object) -> None:
    engine = _database_at_0003(tmp_path, ["Zhang", "zhang"])
    with pytest.raises(StorageError, match="账号「Zhang」和「zhang」登录时会被视为同一个用户名「zhang」"):
        db.create_schema(engine)
    engine.dispose()


def test_sqlite_writers_queue_across_processes_on_a_lock_file(tmp_path: Any) -> None:
    """A writer holds `<file>-writer.lock` for the whole transaction: another process (a gunicorn worker) waits
    on it, woken at once, instead of polling SQLite's busy handler; the lock is released on commit."""
    import fcntl
    import os

    url = f"sqlite:///{tmp_path}/w.db"
    sessions = db.make_sessions(db.make_engine(url))
    lock = tmp_path / "w.db-writer.lock"

    def taken_elsewhere() -> bool:
        fd = os.open(lock, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a separate open file: as another process sees it
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    with db.transaction(sessions) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        assert taken_elsewhere()
        assert oct(lock.stat().st_mode & 0o777) == "0o600"
    assert not taken_elsewhere()
