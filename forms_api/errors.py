"""The backend's exception family, and the one place that turns errors into pages: Chinese, never a traceback."""

from __future__ import annotations

import logging
import math
import time
import traceback
from pathlib import Path

from flask import Flask, current_app, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core.errors import PortalError

MESSAGES = {
    400: "提交的内容有误，请返回上一页重试。",
    401: "请先登录。",
    403: "您没有权限查看此页面。",
    404: "页面不存在，请检查网址。",
    405: "不支持这种访问方式。",
    409: "该操作现在不能进行。",
    422: "提交的内容无法处理，请核对后重试。",
    413: "提交的内容太大，请精简后再提交（不超过 64 KB）。",
    429: "提交过于频繁，请稍后再试。",
    500: "系统出现问题，请稍后再试；如多次出现，请拨打投诉电话反映。",
}
log = logging.getLogger(__name__)


class BackendError(PortalError):
    """Base of the backend's errors; `status` is the HTTP answer when one reaches a request."""

    status = 500


class SettingError(BackendError):
    """A setting has a value the backend cannot use; start-up stops, naming the variable."""


class StorageError(BackendError):
    """The database cannot be reached or created; start-up stops, naming DATABASE_URL."""


class InvalidInput(BackendError):
    """A command or a form asked for something that cannot be done (an unknown window, a taken name)."""

    status = 400


class Unprocessable(BackendError):
    """Well-formed but unusable: an API retry key that is too long, or reused for other content."""

    status = 422


class ReusedToken(Unprocessable):
    """A form token or Idempotency-Key already used for different content: never answered with that receipt."""

    def __init__(self) -> None:
        super().__init__(
            "这张表单已经提交过，不能再用来提交不同的内容（可能是公用电脑上保存的页面）。"
            "您填写的内容已保留，请核对后重新提交。"
        )


class Forbidden(BackendError):
    """The staff member's role or windows do not cover this page."""

    status = 403


class NotFound(BackendError):
    """No such case, post or page."""

    status = 404


class TransitionRefused(BackendError):
    """A transition the case's state or the actor's role does not allow; the message is for people."""

    status = 409


class Conflict(TransitionRefused):
    """Someone else changed the case first; the page must be reloaded."""


def _page(code: int, message: str | None = None) -> ResponseReturnValue:
    """The error page, or JSON for API callers."""
    text = message or MESSAGES.get(code, MESSAGES[500])
    if request.path.startswith("/api/"):
        return {"error": text}, code
    return render_template("forms_api/error.html", code=code, message=text), code


def _retry_after() -> int | None:
    """Seconds until the limit that was hit lets a request through again (what Retry-After will say), if known."""
    hit = [
        found.current_limit
        for found in current_app.extensions.get("limiter", ())
        if found.current_limit is not None and found.current_limit.breached
    ]
    if not hit:
        return None
    # Flask-Limiter's own Retry-After formula: reset_at is already rounded up to the next whole second.
    return max(1, int(max(limit.reset_at for limit in hit) - time.time()))


def _duration(seconds: int) -> str:
    """A wait in words: seconds up to two minutes, then whole minutes (rounded up: never too early)."""
    if seconds < 120:
        return f"{seconds} 秒"
    return f"{math.ceil(seconds / 60)} 分钟"


def _where(exc: BaseException) -> str:
    """The innermost frames of a traceback as file:line in function, without values: enough to find a rare
    failure in the logs, nothing a citizen typed."""
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    return " ← ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in reversed(frames)) or "?"


def init_app(app: Flask) -> None:
    """Register handlers for our own errors, HTTP errors, CSRF failures and anything unexpected."""

    @app.errorhandler(BackendError)
    def _backend(exc: BackendError) -> ResponseReturnValue:
        if exc.status >= 500:
            log.error("%s at %s %s", type(exc).__name__, request.method, request.path)
            return _page(exc.status)
        return _page(exc.status, str(exc) if exc.args else None)

    @app.errorhandler(TransitionRefused)
    def _refused(exc: TransitionRefused) -> ResponseReturnValue:
        # On the staff console a refused move goes back to the case page with the reason on top.
        case_id = (request.view_args or {}).get("case_id")
        if request.blueprint == "staff" and case_id is not None:
            flash(str(exc), "error")
            return redirect(url_for("staff.case_page", case_id=case_id), code=303)
        return _page(exc.status, str(exc))

    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError) -> ResponseReturnValue:
        return _page(400, "页面已过期或来源不明，请刷新页面后重新提交。")

    @app.errorhandler(429)
    def _too_many(_exc: HTTPException) -> ResponseReturnValue:
        wait = _retry_after()
        if wait is None:
            return _page(429)
        if request.endpoint == "staff.login":
            return _page(429, f"密码输错次数过多，请在 {_duration(wait)}后再试。")
        action = "查询" if request.method == "GET" else "提交"  # only the API's status read is limited on GET
        return _page(429, f"{action}过于频繁，请在 {_duration(wait)}后再试。")  # integrations also get Retry-After

    @app.errorhandler(405)
    def _not_allowed(exc: HTTPException) -> ResponseReturnValue:
        # RFC 9110: a 405 names the methods the address does support (werkzeug's own response would have).
        response = make_response(_page(405))
        response.headers.update((k, v) for k, v in exc.get_headers() if k == "Allow")
        return response

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        return _page(exc.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        # Log the type and where it was raised, never the message: it may quote form data (phone, ID numbers).
        log.error("unhandled %s at %s %s, raised %s", type(exc).__name__, request.method, request.path, _where(exc))
        return _page(500)
