"""Database engine and sessions: an embedded SQLite file by default, PostgreSQL when DATABASE_URL says so."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    """Durable, concurrent-enough SQLite: WAL, fsync on commit, wait for the lock instead of failing."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # Let SQLAlchemy emit BEGIN itself (see _begin_immediate) instead of pysqlite's deferred BEGIN.
    dbapi_connection.isolation_level = None


def _begin(connection: Any) -> None:
    """Writes take the lock up front (BEGIN IMMEDIATE) so two writers queue instead of failing on
    upgrade; reads stay deferred so they never wait for a writer."""
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get their folder created and the pragmas above."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory; objects stay readable after commit (pages render after the commit)."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(connection: Any = None) -> Config:
    """Alembic's configuration, pointing at the migrations shipped inside the package."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    return config


def create_schema(engine: Engine) -> None:
    """Bring the schema to the newest migration (first run creates it; later runs upgrade it).

    Several workers start at once: one migrates, the others wait for it and find nothing left to do
    (PostgreSQL: an advisory lock; SQLite: the write lock taken up front, within its busy timeout)."""
    with engine.connect() as connection, connection.execution_options(sqlite_immediate=True).begin():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(472301)")
        command.upgrade(alembic_config(connection), "head")


class _Writers:
    """SQLite takes one writer at a time, and a writer that finds the file locked polls in sleeps of up to 100 ms
    (its busy handler): in a rush of complaints that is the p99. Writers of one file queue on this instead: a lock
    for this process's threads, then an flock on `<file>-writer.lock` for the other processes (gunicorn workers).
    Both wake the next writer the moment the last one commits."""

    def __init__(self, database: str) -> None:
        self.threads = threading.Lock()
        self.path = database + "-writer.lock"
        self.fd: int | None = None

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self.threads:
            if self.fd is None:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self.fd, fcntl.LOCK_UN)


_WRITERS: dict[str, _Writers] = {}


def _writer_lock(sessions: sessionmaker[Session]) -> AbstractContextManager[Any]:
    """The queue of writers for this session factory's SQLite file (nothing for PostgreSQL or :memory:)."""
    engine = sessions.kw.get("bind")
    database = engine.url.database if engine is not None and engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return nullcontext()
    return _WRITERS.setdefault(database, _Writers(database))()


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One write unit of work: lock taken at the start, commit on success, roll back on any error."""
    with _writer_lock(sessions), sessions() as session, session.begin():
        session.connection(execution_options={"sqlite_immediate": True})
        yield session
