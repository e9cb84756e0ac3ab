"""The built site and the backend on one origin, with security headers on every response."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forms_api import create_app


@pytest.fixture
def one_origin(built_site: Path, tmp_path: Path) -> FlaskClient:
    site = tmp_path / "site"
    shutil.copytree(built_site, site)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PORTAL_INSTANCE": str(tmp_path / "i"),
                      "PORTAL_SITE_DIR": str(site)})  # fmt: skip
    return app.test_client()


def test_site_and_forms_share_one_origin(one_origin: FlaskClient) -> None:
    home = one_origin.get("/", buffered=True)
    assert home.status_code == 200 and "青溪县人社局政务公开" in home.get_data(as_text=True)
    assert "失业登记" in one_origin.get("/services/JY-001/", buffered=True).get_data(as_text=True)
    assert one_origin.get("/services/JY-001", buffered=True).status_code == 301
    assert one_origin.get("/forms/complaint/", buffered=True).status_code == 200
    assert one_origin.get("/catalogue.json", buffered=True).is_json
    assert one_origin.get("/nope/", buffered=True).status_code == 404
    assert one_origin.get("/../etc/passwd", buffered=True).status_code == 404


@pytest.mark.parametrize("path", ["/", "/forms/complaint/", "/staff/login", "/nope"])
def test_security_headers_everywhere(one_origin: FlaskClient, path: str) -> None:
    headers = one_origin.get(path, buffered=True).headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # only behind HTTPS


def test_forms_pages_forbid_inline_script(one_origin: FlaskClient) -> None:
    csp = one_origin.get("/forms/complaint/", buffered=True).headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_hsts_and_secure_cookie_behind_https(tmp_path: Path) -> None:
    app: Flask = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PORTAL_INSTANCE": str(tmp_path / "i"),
                             "PORTAL_HTTPS": "1"})  # fmt: skip
    response = app.test_client().get("/forms/complaint/")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_instance_keys_are_private_and_stable(tmp_path: Path) -> None:
    overrides = {"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PORTAL_INSTANCE": str(tmp_path / "i")}
    first, second = create_app(overrides), create_app(overrides)
    assert (tmp_path / "i/keys.json").stat().st_mode & 0o777 == 0o600
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
