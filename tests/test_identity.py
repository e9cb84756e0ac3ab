"""One canonical user name, and the signed cookie of browsers an account has logged in from."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.wrappers import Response

from forms_api import identity


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("wangli", "wangli"), (" WangLi\t", "wangli"), ("ｗａｎｇｌｉ", "wangli"), ("\u3000王丽\u3000", "王丽"),
     ("ＷＡＮＧ１", "wang1"), ("Straße", "strasse"), ("", ""), (None, "")],
)  # fmt: skip
def test_every_spelling_has_one_canonical_form(typed: str | None, stored: str) -> None:
    assert identity.username(typed) == stored


def _cookie(app: Flask, name: str, password_hash: str = "hash-1") -> str:
    """The Cookie header a browser sends after logging in as `name`."""
    with app.test_request_context("/staff/login"):
        response = Response()
        identity.remember_device(response, name, password_hash)
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "Path=/staff/login" in header and "SameSite=Lax" in header
    return header.split(";")[0]


@pytest.mark.parametrize(
    ("cookie_for", "asked", "password_hash", "known"),
    [
        ("clerk", "clerk", "hash-1", True),
        ("clerk", "boss", "hash-1", False),  # another account's device
        ("clerk", "clerk", "hash-2", False),  # the password was reset since
        ("clerk", "clerk", None, False),  # the account is disabled or gone
        (None, "clerk", "hash-1", False),
    ],
)
def test_a_device_is_known_only_to_the_account_and_password_it_logged_in_with(
    app: Flask, cookie_for: str | None, asked: str, password_hash: str | None, known: bool
) -> None:
    cookie = _cookie(app, cookie_for) if cookie_for else f"{identity.DEVICE_COOKIE}_x=forged.value"
    with app.test_request_context("/staff/login", headers={"Cookie": cookie}):
        assert (identity.known_device(asked, password_hash) is not None) is known


def test_clerks_sharing_a_computer_each_keep_their_device(app: Flask) -> None:
    both = f"{_cookie(app, 'clerk')}; {_cookie(app, 'boss')}"
    with app.test_request_context("/staff/login", headers={"Cookie": both}):
        assert identity.known_device("clerk", "hash-1") and identity.known_device("boss", "hash-1")
