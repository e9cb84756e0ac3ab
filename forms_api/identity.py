"""Who is logging in: one canonical form of a user name, and the browsers an account has logged in from.

Login, its rate limits and `portal user` all use `username()`, so spelling variants of one name
(" Zhang ", "ZHANG", full-width "ｚｈａｎｇ") are one account and share one failure allowance."""

from __future__ import annotations

import hashlib
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


def _cookie(name: str) -> str:
    """One cookie per account, so clerks sharing a counter PC each keep their own."""
    return f"{DEVICE_COOKIE}_{hashlib.sha256(name.encode()).hexdigest()[:16]}"


def _credential(password_hash: str) -> str:
    """What ties a device to the current password: a reset makes every earlier device unknown again."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def known_device(name: str, password_hash: str | None) -> str | None:
    """The id of this browser if it has logged in as `name` since its password was last set, else None
    (also None for an unknown or disabled account: pass its hash only when it may log in)."""
    cookie = request.cookies.get(_cookie(name), "")
    if not cookie or password_hash is None:
        return None
    try:
        data = _signer().loads(cookie, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != name or data.get("p") != _credential(password_hash):
        return None
    return data["d"] if isinstance(data.get("d"), str) else None


def remember_device(response: Response, name: str, password_hash: str) -> None:
    """After a successful login: this browser is known to `name`, so strangers' failures never lock it out."""
    device = known_device(name, password_hash) or secrets.token_urlsafe(12)
    response.set_cookie(
        _cookie(name), _signer().dumps({"u": name, "d": device, "p": _credential(password_hash)}),
        max_age=DEVICE_DAYS * 86400, path="/staff/login", secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True, samesite="Lax",
    )  # fmt: skip
