"""The yardstick for the complaint POST: a bare Flask app that inserts one row per POST, served by gunicorn with
the shipped config (`gunicorn -c deploy/gunicorn.conf.py bench.bare:app`, BARE_DATABASE set)."""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from flask import Flask, request

app = Flask(__name__)
DATABASE = os.environ.get("BARE_DATABASE", "")  # a SQLite file, or a postgresql:// URL
SQL = "INSERT INTO c (matter, phone) VALUES ({0}, {0})"
_local = threading.local()


def _postgres() -> Any:
    """One connection per thread, as a pool would hand out (connecting per request would flatter ours)."""
    if getattr(_local, "conn", None) is None:
        import psycopg

        _local.conn = psycopg.connect(DATABASE.replace("postgresql+psycopg://", "postgresql://"))
    return _local.conn


def create_table() -> None:
    """The table, created once before the workers start."""
    ddl = "CREATE TABLE IF NOT EXISTS c (id {} PRIMARY KEY, matter TEXT, phone TEXT)"
    if DATABASE.startswith("postgresql"):
        _postgres().execute(ddl.format("SERIAL"))
        _postgres().commit()
    else:
        with sqlite3.connect(DATABASE) as conn:
            conn.execute("PRAGMA journal_mode=WAL")  # kept by the file: the same durable mode ours uses
            conn.execute(ddl.format("INTEGER"))


@app.get("/api/v1/openapi.json")
def ready() -> tuple[str, int]:
    """What bench.servers.Gunicorn asks to know the host is up."""
    return "{}", 200


@app.post("/forms/complaint/")
def complaint() -> tuple[str, int, dict[str, str]]:
    """Insert the form's two fields and commit, as flaskr does: nothing else."""
    values = (request.form["matter"], request.form["phone"])
    if DATABASE.startswith("postgresql"):
        conn = _postgres()  # kept open: psycopg's `with conn` would close it
        conn.execute(SQL.format("%s"), values)
        conn.commit()
    else:
        with sqlite3.connect(DATABASE, timeout=5) as conn:
            conn.execute(SQL.format("?"), values)
    return "", 303, {"Location": "/forms/complaint/done"}
