"""Shared fixtures: a private copy of the shipped content, helpers to break it, a CLI runner."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from core.catalogue import Catalogue
from core.validate import load_catalogue
from generator import pipeline
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 23)


def pytest_addoption(parser: pytest.Parser) -> None:
    """`pytest --update-goldens` rewrites tests/golden/ from the shipped content."""
    parser.addoption("--update-goldens", action="store_true", help="regenerate golden files")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of content/ and site_config.yml that a test may change freely."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copy(ROOT / "site_config.yml", tmp_path / "site_config.yml")
    return tmp_path


@pytest.fixture
def edit(project: Path) -> Callable[[str, str, str], Path]:
    """Replace text in a content file of the copy; fail loudly if the text is not there."""

    def _edit(rel: str, old: str, new: str) -> Path:
        path = project / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return path

    return _edit


@pytest.fixture
def check(project: Path) -> Callable[[], pipeline.CheckResult]:
    """Run the checker on the copy."""
    return lambda: pipeline.check(project / "content", project / "site_config.yml", TODAY, project / "site")


@pytest.fixture
def runner() -> CliRunner:
    """Click's runner for the `portal` command."""
    return CliRunner()


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The shipped content, validated."""
    return load_catalogue(ROOT / "content", ROOT / "site_config.yml")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped content built once for the whole session (read-only for tests)."""
    out = tmp_path_factory.mktemp("built") / "site"
    pipeline.build(ROOT / "content", ROOT / "site_config.yml", out, TODAY)
    return out


def assert_refused(result: pipeline.CheckResult, path: Path, message: str, needle: str | tuple[str, int]) -> None:
    """The check failed with `message` on the line of `path` holding `needle` (or its nth occurrence)."""
    assert result.catalogue is None
    hits = [p for p in result.errors if message in p.message]
    assert hits, "\n".join(p.format() for p in result.errors)
    text, nth = (needle, 1) if isinstance(needle, str) else needle
    assert (hits[0].path.name, hits[0].line) == (path.name, line_of(path, text, nth))


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """1-based line of the `nth` line containing `needle`."""
    found = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if needle in line]
    assert len(found) >= nth, f"{needle!r} not {nth} times in {path}"
    return found[nth - 1]


# ------------------------------------------------------------------ backend
# The backend suite runs on SQLite and, when PORTAL_TEST_POSTGRES names a server, on PostgreSQL too.
# .ci/run sets PORTAL_REQUIRE_SERVICES=1: then a missing PostgreSQL or Redis fails instead of skipping.
REQUIRE_SERVICES = os.environ.get("PORTAL_REQUIRE_SERVICES") == "1"


def _missing(what: str) -> None:
    """Skip locally; fail under CI, where the service must be there."""
    message = f"{what} is not available (set its PORTAL_TEST_* variable)"
    if REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own on the PostgreSQL server named by PORTAL_TEST_POSTGRES, dropped at the end."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    server = os.environ.get("PORTAL_TEST_POSTGRES")
    if not server:
        _missing("PostgreSQL")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")  # type: ignore[arg-type]
    name = f"portal_test_{os.getpid()}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        _missing(f"PostgreSQL at {server} ({exc.orig})")
    yield make_url(server).set(database=name).render_as_string(hide_password=False)  # type: ignore[arg-type]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def redis_url() -> str:
    """The Redis server named by PORTAL_TEST_REDIS (a database number of the tests' own)."""
    import redis

    url = os.environ.get("PORTAL_TEST_REDIS")
    if not url:
        _missing("Redis")
    try:
        client = redis.Redis.from_url(url)  # type: ignore[arg-type]
        client.ping()
        client.flushdb()
    except redis.RedisError as exc:
        _missing(f"Redis at {url} ({exc})")
    return url  # type: ignore[return-value]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each backend test runs once per database; PostgreSQL tables are dropped after each test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'portal.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    from sqlalchemy import create_engine, text

    from forms_api.models import Base

    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at production cost makes every login test slow; the scheme is the same."""
    from argon2 import PasswordHasher

    from forms_api import passwords

    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def sessions(database_url: str) -> Iterator[Any]:
    """A migrated database of the backend's own, without the app (engine-level tests)."""
    from forms_api import db

    engine = db.make_engine(database_url)
    db.create_schema(engine)
    yield db.make_sessions(engine)
    engine.dispose()


@pytest.fixture
def vault() -> Any:
    """An encryption helper with a fresh key."""
    from cryptography.fernet import Fernet

    from forms_api.privacy import Vault

    return Vault(Fernet.generate_key(), b"secret")


@pytest.fixture
def app_overrides() -> dict[str, str]:
    """More settings for the `app` fixture: override this fixture in a module, or parametrize it in a test."""
    return {}


@pytest.fixture
def app(tmp_path: Path, database_url: str, app_overrides: dict[str, str]) -> Iterator[Flask]:
    """The backend on a private database with the shipped content."""
    from forms_api import create_app

    overrides = {
        "DATABASE_URL": database_url,
        "PORTAL_INSTANCE": str(tmp_path / "instance"),
        "PORTAL_CONTENT": str(ROOT / "content"),
        "PORTAL_SITE_CONFIG": str(ROOT / "site_config.yml"),
        "PORTAL_SITE_DIR": str(tmp_path / "site"),
        "RATELIMIT_STORAGE_URI": "memory://",
        **app_overrides,
    }
    flask_app = create_app(overrides)
    flask_app.config["TESTING"] = True
    yield flask_app
    flask_app.extensions["engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser without JavaScript."""
    return app.test_client()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., str]:
    """Create a staff account; returns its password."""
    from tests.factories import make_user as factory

    return lambda name, role, windows=None: factory(app.extensions["sessions"], name, role, windows)


def form_fields(html: str) -> dict[str, str]:
    """Hidden inputs of the first form on a page (CSRF token, submission token)."""
    return dict(re.findall(r'<input[^>]*name="(csrf_token|token|version)"[^>]*value="([^"]*)"', html))


def submit_form(client: FlaskClient, url: str, data: dict[str, str], page: str | None = None) -> TestResponse:
    """GET the form page like a browser, then POST with its hidden fields."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**form_fields(html), **data})


def session_payload(response: TestResponse) -> str:
    """What the session cookie set by `response` says once decoded (it is signed, not encrypted)."""
    import base64
    import zlib

    header = response.headers.get("Set-Cookie") or ""
    if "session=" not in header:
        return ""
    cookie = header.split("session=")[1].split(";")[0]
    payload = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(raw) if cookie.startswith(".") else raw).decode("utf-8", "replace")


def login(client: FlaskClient, name: str, password: str = PASSWORD) -> TestResponse:
    """Log a staff member in through the login form."""
    return submit_form(client, "/staff/login", {"username": name, "password": password})


@contextmanager
def backend_server(root: Path, **settings: str) -> Iterator[tuple[str, Flask]]:
    """The backend alone (no static site) on a private SQLite file, served by werkzeug in a thread without a
    request log: its address (no trailing slash) and its app. `settings` are added to the app's."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    from forms_api import create_app

    app = create_app({
        "DATABASE_URL": f"sqlite:///{root / 'portal.db'}", "PORTAL_INSTANCE": str(root / "instance"),
        "PORTAL_CONTENT": str(ROOT / "content"), "PORTAL_SITE_CONFIG": str(ROOT / "site_config.yml"),
        "PORTAL_SITE_DIR": str(root / "site"), "RATELIMIT_STORAGE_URI": "memory://", **settings,
    })  # fmt: skip
    quiet = type("Quiet", (WSGIRequestHandler,), {"log_request": lambda *_: None})
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", app
    finally:
        httpd.shutdown()
        app.extensions["engine"].dispose()
