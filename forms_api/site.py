"""The built static site, served by the same app so citizens see one origin (the embedded default)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, request, send_from_directory
from flask.typing import ResponseReturnValue
from werkzeug.security import safe_join

bp = Blueprint("site", __name__)
# Material's theme has small inline scripts and Pagefind compiles WebAssembly;
# forms and staff pages keep the strict CSP.
SITE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


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
