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


def _cookie(app: Flask, name: str) -> str:
    with app.test_request_context("/staff/login"):
        response = Response()
        identity.remember_device(response, name)
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "Path=/staff/login" in header and "SameSite=Lax" in header
    return header.split(";")[0].split("=", 1)[1]


@pytest.mark.parametrize(
    ("cookie_for", "asked", "known"),
    [("clerk", "clerk", True), ("clerk", "boss", False), (None, "clerk", False)],
)
def test_a_device_is_known_only_to_the_account_it_logged_in_to(
    app: Flask, cookie_for: str | None, asked: str, known: bool
) -> None:
    cookie = _cookie(app, cookie_for) if cookie_for else "forged.value"
    headers = {"Cookie": f"{identity.DEVICE_COOKIE}={cookie}"}
    with app.test_request_context("/staff/login", headers=headers):
        assert (identity.known_device(asked) is not None) is known
