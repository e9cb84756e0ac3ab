"""CSRF, rate limits, security headers, staff sessions and role checks: one place for all of them."""

from __future__ import annotations

import functools
import ipaddress
import time
from collections.abc import Callable
from typing import Any, cast

import limits
from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from forms_api import dao, identity
from forms_api.models import User
from forms_api.settings import Settings
from forms_api.views import db_session

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
# Who may read phone and ID numbers unmasked: those who must call the complainant back.
UNMASKED_ROLES = frozenset({"intake", "supervisor"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def _headers(response: Any) -> Any:
    """Security headers on every response, the static site's included."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"  # keeps CSRF's referrer check working on HTTPS
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.path.startswith(("/staff", "/forms", "/api")):
        response.headers["Cache-Control"] = "no-store"
    return response


def public_limit() -> str:
    """Citizens' posts (complaint, suggestion, evaluation, tracking): PORTAL_RATELIMIT_PUBLIC, per address."""
    return _settings().ratelimit_public


def login_limit() -> str:
    """Staff login: PORTAL_RATELIMIT_LOGIN wrong passwords, per address and per account and source."""
    return _settings().ratelimit_login


def login_account_limit() -> str:
    """Wrong passwords for one account from all browsers it has never logged in from: PORTAL_RATELIMIT_LOGIN_ACCOUNT."""
    return _settings().ratelimit_login_account


def failed_login(response: Any) -> bool:
    """Only a wrong password counts: a success, a half-filled form or an expired page costs nothing."""
    return bool(response.status_code == 401)


def _login_name() -> str:
    return identity.username(request.form.get("username", "")[:200])


def login_source_key() -> str:
    """One account from one source: the browser's device id once it has logged in as this user, else the address.

    A stranger elsewhere fills a bucket of their own; the owner's known browser keeps its allowance."""
    name = _login_name()
    device = _device(name)
    return f"login:{name}:" + (f"device:{device}" if device else f"addr:{get_remote_address()}")


def login_account_key() -> str:
    """One account, over every unknown browser: bounds guessing spread across many addresses."""
    return f"login-any:{_login_name()}"


def _device(name: str) -> str | None:
    """This browser's device id for the active account `name`, looked up once per request."""
    if "login_device" not in g:
        user = dao.active_user(db_session(), name)
        g.login_device = identity.known_device(name, user.password_hash if user else None)
    return cast("str | None", g.login_device)


def known_browser() -> bool:
    """The per-address limit and the account-wide cap do not apply to a browser the account has logged in from
    (its own per-browser bucket still does)."""
    return _device(_login_name()) is not None


def api_limit() -> str:
    """The JSON API's submissions: PORTAL_RATELIMIT_API, per integration."""
    return _settings().ratelimit_api


def api_read_limit() -> str:
    """The API's status read: twice PORTAL_RATELIMIT_API (a read is cheap; 120 a minute by default, as before)."""
    return "; ".join(
        f"{item.amount * 2} per {item.multiples} {item.GRANULARITY.name}"
        for item in limits.parse_many(_settings().ratelimit_api)
    )


def _settings() -> Settings:
    """The app's parsed settings; limits are read per request so each app (and test) has its own."""
    return cast(Settings, current_app.extensions["settings"])


def exempt() -> bool:
    """Citizens' limits do not apply to PORTAL_RATELIMIT_EXEMPT: the hall's kiosks and counters share one address.

    Only the citizens' forms use this; staff login and the API stay limited for everyone."""
    networks = _settings().ratelimit_exempt
    if not networks or not request.remote_addr:
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr)  # after ProxyFix: the citizen's, not nginx's
    except ValueError:
        return False
    return any(address in network for network in networks)


def shared_limits_warning(storage_uri: str, workers: int) -> str | None:
    """The start-up warning when several worker processes would each keep their own rate-limit counters."""
    if workers <= 1 or not storage_uri.startswith("memory://"):
        return None
    return (
        f"警告：{workers} 个工作进程各自在内存中计数限流（RATELIMIT_STORAGE_URI=memory://），"
        f"实际放行约为设定值的 {workers} 倍，且每次重启都会清零。"
        "请把 RATELIMIT_STORAGE_URI 设为 Redis 地址，如 redis://127.0.0.1:6379/0（见 docs/deployment.md）"
    )


def init_app(app: Flask) -> None:
    """Wire CSRF, the limiter and the headers into the app."""
    csrf.init_app(app)
    limiter.init_app(app)
    app.after_request(_headers)


def start_session(user: User) -> None:
    """A fresh session for `user`, stamped with its start: it ends after PORTAL_SESSION_MAX_AGE whatever happens."""
    session.clear()
    session.update(uid=user.id, sv=user.session_version, at=int(time.time()))
    session.permanent = True


def _expired() -> bool:
    """Past the absolute lifetime (a cookie without a start time is from before it was kept: expired too)."""
    started = session.get("at")
    return not isinstance(started, int) or time.time() - started > _settings().session_max_age * 3600


def current_user() -> User | None:
    """The logged-in staff member; a cookie from before logout, disabling or a password reset (older
    session_version), or older than the absolute lifetime, is refused."""
    if "user" in g:
        return g.user
    user = None
    user_id, version = session.get("uid"), session.get("sv")
    if user_id is not None:
        found = dao.get_user(db_session(), user_id)
        if found is not None and found.active and found.session_version == version and not _expired():
            user = found
        else:
            session.clear()
    g.user = user
    return user


def role_required(
    *roles: str,
) -> Callable[[Callable[..., ResponseReturnValue]], Callable[..., ResponseReturnValue]]:
    """Staff views: log in first; then the role must be one of `roles` (none given: any staff role)."""

    def decorate(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            user = current_user()
            if user is None:
                return redirect(url_for("staff.login", next=request.path))
            if roles and user.role not in roles:
                abort(403)
            session.permanent = True  # idle timeout restarts on each request
            return view(*args, **kwargs)

        return wrapped

    return decorate
