"""Who is logging in: one canonical form of a user name, and the browsers an account has logged in from.

Login, its rate limits and `portal user` all use `username()`, so spelling variants of one name
(" Zhang ", "ZHANG", full-width "ｚｈａｎｇ") are one account and share one failure allowance."""

from __future__ import annotations

import secrets
import unicodedata

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

DEVICE_COOKIE = "portal_device"
DEVICE_DAYS = 180


def username(raw: str | None) -> str:
    """NFKC, surrounding space removed, case folded: the one form stored and looked up."""
    return unicodedata.normalize("NFKC", raw or "").strip().casefold()


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="portal-device")


def known_device(name: str) -> str | None:
    """The id of this browser if it has logged in as `name` before (a signed cookie), else None."""
    cookie = request.cookies.get(DEVICE_COOKIE, "")
    if not cookie:
        return None
    try:
        data = _signer().loads(cookie, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != name or not isinstance(data.get("d"), str):
        return None
    return data["d"]


def remember_device(response: Response, name: str) -> None:
    """After a successful login: this browser is known to `name`, so strangers' failures never lock it out."""
    device = known_device(name) or secrets.token_urlsafe(12)
    response.set_cookie(
        DEVICE_COOKIE, _signer().dumps({"u": name, "d": device}), max_age=DEVICE_DAYS * 86400,
        path="/staff/login", secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax",
    )  # fmt: skip
