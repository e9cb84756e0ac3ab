"""The forms backend: complaints, evaluations, tracking and the staff's supervisory queue (Flask app factory)."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, g
from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from werkzeug.middleware.proxy_fix import ProxyFix

from core.vocab import CHANNELS, STAFF_ROLES
from forms_api import db, settings, states, views
from forms_api.errors import StorageError
from forms_api.privacy import Vault

Held = TypeVar("Held")
MAX_BODY = 64 * 1024  # a complaint is a few KB of text; anything bigger is refused with 413


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings, keys, storage, catalogue, security and one blueprint per feature."""
    app = Flask(__name__)
    conf = settings.from_env(overrides)
    app.extensions["settings"] = conf
    secret, key = settings.load_keys(Path(conf.instance), conf.secret_key, conf.encryption_key)
    _configure(app, conf, secret)
    app.extensions["vault"] = Vault(key, secret.encode("utf-8"))
    engine = _storage(conf.database_url)
    app.extensions["engine"] = engine
    app.extensions["sessions"] = db.make_sessions(engine)

    from forms_api import catalogue, errors, inputs, people, security

    catalogue.init_app(app)
    people.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    inputs.init_app(app)
    _register_blueprints(app, with_site=Path(conf.site_dir).is_dir())
    app.jinja_env.globals.update(
        local_time=views.local_time, states=states.STATES, not_overdue=states.NOT_OVERDUE, final_states=states.FINAL,
        channels=CHANNELS, action_labels=states.ACTIONS, transitions=states.TRANSITIONS, roles=STAFF_ROLES,
        owed=states.OWED,
    )  # fmt: skip
    app.teardown_appcontext(_close_session)
    return app


def serving(held: Held) -> Held:
    """`held` (the app, or the server around it) as a long-running process keeps it: what was loaded at start
    (about 140,000 objects, the catalogue and the libraries) is moved out of the garbage collector's reach. A full
    collection walked all of it every few thousand requests, a 50 ms pause every request in that worker waited out."""
    gc.freeze()
    return held


def _configure(app: Flask, conf: settings.Settings, secret: str) -> None:
    """Flask's, Flask-WTF's and Flask-Limiter's own settings, from the typed ones."""
    app.config.update(
        PORTAL_CONTENT=conf.content,  # read by catalogue.py and site.py through app.config
        PORTAL_SITE_CONFIG=conf.site_config,
        PORTAL_SITE_DIR=conf.site_dir,
        SECRET_KEY=secret,
        MAX_CONTENT_LENGTH=MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=conf.https,
        PERMANENT_SESSION_LIFETIME=conf.session_idle * 60,  # idle timeout: refreshed on each request
        SESSION_REFRESH_EACH_REQUEST=True,
        WTF_CSRF_TIME_LIMIT=None,  # a citizen may take an hour to write a complaint
        WTF_I18N_ENABLED=False,  # use WTForms' bundled zh translations, no Babel needed
        RATELIMIT_STORAGE_URI=conf.ratelimit_storage_uri,
        RATELIMIT_HEADERS_ENABLED=True,  # Retry-After on every 429, matching the wait the page names
        RATELIMIT_STRATEGY="moving-window",  # no burst of twice the limit across a minute boundary
    )
    if conf.proxies:  # behind nginx: rate limits must count citizens, not the proxy's address (see waitress_options)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=conf.proxies, x_proto=conf.proxies, x_host=conf.proxies)  # type: ignore[method-assign]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese messages readable in API answers


def _register_blueprints(app: Flask, with_site: bool) -> None:
    """One blueprint per feature; the static site last, so its catch-all route yields to every other one."""
    from forms_api.api import bp as api_bp
    from forms_api.complaints import bp as complaints_bp
    from forms_api.evaluations import bp as evaluations_bp
    from forms_api.intake import bp as intake_bp
    from forms_api.site import look
    from forms_api.staff import bp as staff_bp
    from forms_api.tracking import bp as tracking_bp

    for bp in (api_bp, complaints_bp, evaluations_bp, tracking_bp, staff_bp, intake_bp, look):
        app.register_blueprint(bp)
    if with_site:
        from forms_api.site import bp as site_bp

        app.register_blueprint(site_bp)


def _close_session(_exc: BaseException | None) -> None:
    """The request's database session ends with the request."""
    session = g.pop("db", None)
    if session is not None:
        session.close()


def _storage(url: str) -> Engine:
    """The engine, schema migrated; a database that cannot be reached or created stops start-up with StorageError."""
    try:
        parsed: URL | None = make_url(url)
    except (ArgumentError, ValueError):
        parsed = None  # unparsable: SQLAlchemy's own message would repeat the URL, password and all
    shown = f"「{parsed.render_as_string(hide_password=True)}」" if parsed else ""
    try:
        engine = db.make_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError):
        raise StorageError(
            f"设置 DATABASE_URL 的值{shown}无效：应为 sqlite:///文件路径 或 postgresql+psycopg://用户:密码@主机:端口/库名"
        ) from None
    except OSError as exc:  # the SQLite file's folder cannot be made
        raise StorageError(f"无法创建 DATABASE_URL 指定的数据库{shown}：{exc.strerror or exc}") from None
    try:
        db.create_schema(engine)
    except (DBAPIError, OSError) as exc:
        engine.dispose()
        reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
        if parsed is not None and parsed.password:
            reason = reason.replace(str(parsed.password), "***")  # drivers rarely echo it; never let one through
        raise StorageError(
            f"无法连接或创建 DATABASE_URL 指定的数据库{shown}：{reason}。"
            "请检查数据库服务是否运行、地址和账号是否正确、SQLite 文件所在目录是否可写"
        ) from None
    return engine
