"""The forms backend: complaints, evaluations, tracking and the staff's supervisory queue (Flask app factory)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, g
from werkzeug.middleware.proxy_fix import ProxyFix

from core.vocab import CHANNELS, STAFF_ROLES
from forms_api import db, settings, states, views
from forms_api.privacy import Vault

MAX_BODY = 64 * 1024  # a complaint is a few KB of text; anything bigger is refused with 413


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings, keys, storage, catalogue, security and one blueprint per feature."""
    app = Flask(__name__)
    values = settings.from_env(overrides)
    secret, key = settings.load_keys(
        Path(values["PORTAL_INSTANCE"]), values["PORTAL_SECRET_KEY"], values["PORTAL_ENCRYPTION_KEY"]
    )
    https = str(values["PORTAL_HTTPS"]) == "1"
    app.config.update(
        values,
        SECRET_KEY=secret,
        MAX_CONTENT_LENGTH=MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=30 * 60,  # idle timeout: refreshed on each request
        SESSION_REFRESH_EACH_REQUEST=True,
        WTF_CSRF_TIME_LIMIT=None,  # a citizen may take an hour to write a complaint
        WTF_I18N_ENABLED=False,  # use WTForms' bundled zh translations, no Babel needed
        RATELIMIT_STORAGE_URI=values["RATELIMIT_STORAGE_URI"],
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_STRATEGY="moving-window",  # no burst of twice the limit across a minute boundary
    )
    proxies = int(values["PORTAL_PROXIES"] or 0)
    if proxies:  # behind nginx: rate limits must count citizens, not the proxy's address
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese messages readable in API answers
    app.extensions["vault"] = Vault(key, secret.encode("utf-8"))
    engine = db.make_engine(values["DATABASE_URL"])
    db.create_schema(engine)
    app.extensions["engine"] = engine
    app.extensions["sessions"] = db.make_sessions(engine)

    from forms_api import catalogue, errors, security

    catalogue.init_app(app)
    security.init_app(app)
    errors.init_app(app)

    from forms_api.api import bp as api_bp
    from forms_api.complaints import bp as complaints_bp
    from forms_api.evaluations import bp as evaluations_bp
    from forms_api.staff import bp as staff_bp
    from forms_api.tracking import bp as tracking_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(complaints_bp)
    app.register_blueprint(evaluations_bp)
    app.register_blueprint(tracking_bp)
    app.register_blueprint(staff_bp)
    if Path(values["PORTAL_SITE_DIR"]).is_dir():
        from forms_api.site import bp as site_bp

        app.register_blueprint(site_bp)  # last: its catch-all route yields to every other one

    app.jinja_env.globals.update(
        local_time=views.local_time, states=states.STATES, not_overdue=states.NOT_OVERDUE, channels=CHANNELS,
        action_labels=states.ACTIONS, transitions=states.TRANSITIONS, roles=STAFF_ROLES,
    )  # fmt: skip

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    return app
