"""The built static site, served by the same app so citizens see one origin (the embedded default), and what the
backend's pages share with it: links to its pages and the 长辈版 switch."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, request, send_from_directory, url_for
from flask.typing import ResponseReturnValue
from werkzeug.security import safe_join

from forms_api.views import content

bp = Blueprint("site", __name__)
# Registered whether or not this app serves the site: the backend's pages need the links and the switch.
look = Blueprint("look", __name__, url_prefix="/forms")
# Material's theme has small inline scripts and Pagefind compiles WebAssembly;
# forms and staff pages keep the strict CSP.
SITE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# 长辈版 (large text, high contrast): a cookie for the whole origin, readable by the static site's script, and the
# class both style sheets key on. It holds a preference only, nothing about the person.
ELDER_COOKIE = "rs-elder"
ELDER_CLASS = "rs-elder"
ELDER_MAX_AGE = 365 * 24 * 3600


@bp.get("/", defaults={"path": ""})
@bp.get("/<path:path>")
def page(path: str) -> ResponseReturnValue:
    """A file of the site; a folder serves its index.html; a folder without its slash is redirected."""
    root = Path(current_app.config["PORTAL_SITE_DIR"]).resolve()
    target = safe_join(str(root), path)
    if target is None:
        abort(404)
    found = Path(target)
    if found.is_dir():
        if path and not path.endswith("/"):
            return redirect(request.path + "/", code=301)
        found = found / "index.html"
    if not found.is_file():
        abort(404)
    response = send_from_directory(root, str(found.relative_to(root)))
    response.headers["Content-Security-Policy"] = SITE_CSP
    return response


@look.app_template_global()
def site_page(path: str = "") -> str:
    """A page of the static site ("services/"), on this origin under site_url's path, as the site links to the forms."""
    return urlsplit(content().config.site_url).path + path


@look.app_template_global()
def elder() -> bool:
    """Whether this browser chose 长辈版."""
    return request.cookies.get(ELDER_COOKIE) == "1"


@look.app_template_global()
def elder_switch() -> str:
    """The link that turns 长辈版 on or off and comes back to this page (with its query: a QR code's window)."""
    here = request.path + (f"?{request.query_string.decode('utf-8', 'replace')}" if request.query_string else "")
    return url_for("look.elder_set", on="0" if elder() else "1", next=here)


def _local(target: str) -> bool:
    """A path on this origin: never another host (//host, /\\host) or a scheme."""
    return target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target


@look.get("/elder")
def elder_set() -> ResponseReturnValue:
    """长辈版 on (?on=1) or off (?on=0) for this browser, then back to `next`; works without JavaScript."""
    target = request.args.get("next", "")
    response = redirect(target if _local(target) else site_page(), code=303)
    secure = bool(current_app.config["SESSION_COOKIE_SECURE"])
    if request.args.get("on") == "1":
        response.set_cookie(ELDER_COOKIE, "1", max_age=ELDER_MAX_AGE, path="/", secure=secure, samesite="Lax")
    else:
        response.delete_cookie(ELDER_COOKIE, path="/", secure=secure, samesite="Lax")
    return response
