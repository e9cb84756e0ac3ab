"""Rate limits (memory and Redis, across workers), and personal data never written to logs."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forms_api import create_app, workflow
from forms_api.security import shared_limits_warning
from tests.conftest import ROOT, form_fields, login, session_payload, submit_form
from tests.factories import PASSWORD, complaint_data, make_user


def _app(tmp_path: Path, limits: str, name: str = "a") -> Flask:
    return create_app({
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}", "PORTAL_INSTANCE": str(tmp_path / "i"),
        "PORTAL_CONTENT": str(ROOT / "content"), "PORTAL_SITE_CONFIG": str(ROOT / "site_config.yml"),
        "RATELIMIT_STORAGE_URI": limits, "PORTAL_SITE_DIR": str(tmp_path / name),
    })  # fmt: skip


def test_public_posts_are_rate_limited(client: FlaskClient) -> None:
    statuses = [
        submit_form(client, "/forms/track/", {"receipt_no": "TS1", "query_code": "X"}).status_code for _ in range(11)
    ]
    assert statuses[:10] == [404] * 10 and statuses[10] == 429
    page = submit_form(client, "/forms/track/", {"receipt_no": "TS1", "query_code": "X"})
    wait = re.search(r"提交过于频繁，请在 (\d+) 秒后再试。", page.get_data(as_text=True))
    assert wait and 1 <= int(wait.group(1)) <= 60  # the minute's window, not the hour's
    assert abs(int(page.headers["Retry-After"]) - int(wait.group(1))) <= 1  # page and header agree


def test_login_is_throttled(client: FlaskClient, make_user: object) -> None:
    make_user("clerk", "intake")  # type: ignore[operator]
    statuses = [login(client, "clerk", "wrong-password").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    refused = login(client, "clerk")
    assert refused.status_code == 429  # even the right password waits
    assert "密码输错次数过多，请在" in refused.get_data(as_text=True)


def _proxied(tmp_path: Path, **settings: str) -> Flask:
    """An app behind one proxy (so each test request can come from its own address), with `settings`."""
    return create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PORTAL_INSTANCE": str(tmp_path / "i"),
                       "PORTAL_PROXIES": "1", "PORTAL_SITE_DIR": str(tmp_path / "none"), **settings})  # fmt: skip


def _login_from(client: FlaskClient, address: str, name: str, password: str = PASSWORD) -> int:
    """A login attempt from `address` (behind the proxy); the status code."""
    headers = {"X-Forwarded-For": address}
    html = client.get("/staff/login", headers=headers).get_data(as_text=True)
    data = {**form_fields(html), "username": name, "password": password}
    return client.post("/staff/login", data=data, headers=headers).status_code


@pytest.fixture
def clerk_app(tmp_path: Path) -> Flask:
    """Tight limits, so a test reaches them quickly; one account, `clerk`."""
    app = _proxied(tmp_path, PORTAL_RATELIMIT_LOGIN="3 per minute", PORTAL_RATELIMIT_LOGIN_ACCOUNT="6 per minute")
    make_user(app.extensions["sessions"], "clerk", "intake")
    return app


# Spellings of one user name that login treats as the same account.
SPELLINGS = ["clerk", " clerk", "CLERK", "Clerk ", "ｃｌｅｒｋ", "ＣＬＥＲＫ", "\u3000clerk", "cLeRk\t"]


def test_spellings_of_one_name_share_one_allowance(clerk_app: Flask) -> None:
    client = clerk_app.test_client()
    # Each attempt from a new address, so only the account's own limit can stop them.
    codes = [_login_from(client, f"198.51.100.{i}", SPELLINGS[i % len(SPELLINGS)], "wrong-pass") for i in range(8)]
    assert codes[:6] == [401] * 6 and codes[6:] == [429, 429]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_logs_in_to_the_same_account(clerk_app: Flask, spelling: str) -> None:
    assert _login_from(clerk_app.test_client(), "198.51.100.1", spelling) == 302


def test_successful_logins_do_not_count(clerk_app: Flask) -> None:
    client = clerk_app.test_client()
    assert [_login_from(client, "198.51.100.1", "clerk") for _ in range(8)] == [302] * 8


def test_a_stranger_cannot_lock_the_owner_out(clerk_app: Flask) -> None:
    owner, stranger = clerk_app.test_client(), clerk_app.test_client()
    assert _login_from(owner, "198.51.100.1", "clerk") == 302  # this browser is now known to the account
    # A stranger elsewhere, then one behind the hall's own address, try far past every limit.
    tries = [_login_from(stranger, f"203.0.113.{i % 3}", "clerk", "guess") for i in range(12)]
    tries += [_login_from(stranger, "198.51.100.1", "clerk", "guess") for _ in range(5)]
    assert 429 in tries and tries.count(401) <= 6
    assert _login_from(owner, "198.51.100.1", "clerk") == 302  # the owner's browser is let in at once
    fresh = clerk_app.test_client()
    assert _login_from(fresh, "192.0.2.7", "clerk") == 429  # an unknown browser waits out the account's cap


def test_typos_at_the_hall_address_do_not_lock_out_the_other_staff(clerk_app: Flask) -> None:
    make_user(clerk_app.extensions["sessions"], "boss", "supervisor")
    owner, colleague = clerk_app.test_client(), clerk_app.test_client()
    assert _login_from(owner, "198.51.100.1", "clerk") == 302  # behind the hall's one NAT address
    tries = [_login_from(colleague, "198.51.100.1", "boss", "typo-pass") for _ in range(5)]
    assert tries[-1] == 429  # the address has used up its allowance for unknown browsers
    assert _login_from(owner, "198.51.100.1", "clerk") == 302  # a browser known to its account still gets in


def test_a_password_reset_makes_known_browsers_unknown_again(clerk_app: Flask) -> None:
    from forms_api import admin

    browser = clerk_app.test_client()
    assert _login_from(browser, "198.51.100.1", "clerk") == 302
    admin.reset_password(clerk_app, "clerk", "a-new-password-1")
    stranger = clerk_app.test_client()
    [_login_from(stranger, f"203.0.113.{i}", "clerk", "guess") for i in range(6)]  # the account cap is reached
    assert _login_from(browser, "198.51.100.1", "clerk", "a-new-password-1") == 429


def test_wrong_passwords_elsewhere_do_not_block_the_owner_from_a_new_browser(clerk_app: Flask) -> None:
    stranger, owner = clerk_app.test_client(), clerk_app.test_client()
    assert [_login_from(stranger, "203.0.113.9", "clerk", "guess") for _ in range(4)] == [401, 401, 401, 429]
    assert _login_from(owner, "198.51.100.1", "clerk") == 302


def test_limit_holds_across_workers_with_redis(tmp_path: Path, redis_url: str) -> None:
    first, second = _app(tmp_path, redis_url, "a").test_client(), _app(tmp_path, redis_url, "b").test_client()
    codes = [submit_form(c, "/forms/track/", {"receipt_no": "TS1", "query_code": "X"}).status_code
             for c in [first, second] * 6]  # fmt: skip
    assert codes.count(429) == 2  # 10 allowed in total, not 10 per worker


def test_errors_do_not_log_personal_data(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database unavailable 13812345678")

    monkeypatch.setattr(workflow, "register", broken)  # the storage step of every citizen's form
    with caplog.at_level(logging.DEBUG):
        response = submit_form(client, "/forms/complaint/", complaint_data())
    assert response.status_code == 500 and "系统出现问题" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "RuntimeError" in logged
    for secret in ("13812345678", "1234 5678", "11010519491231002X", "张三"):
        assert secret not in logged


def test_behind_a_proxy_limits_count_each_citizen(tmp_path: Path) -> None:
    proxied = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PORTAL_INSTANCE": str(tmp_path / "i"),
                          "PORTAL_PROXIES": "1", "PORTAL_SITE_DIR": str(tmp_path / "none")})  # fmt: skip
    client = proxied.test_client()
    for i in range(12):  # twelve citizens behind one nginx: none of them is limited by the others
        headers = {"X-Forwarded-For": f"203.0.113.{i}"}
        html = client.get("/forms/track/", headers=headers).get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        data = {"csrf_token": csrf, "receipt_no": "TS1", "query_code": "X"}
        assert client.post("/forms/track/", data=data, headers=headers).status_code == 404


def test_receipt_is_not_readable_in_the_cookie(client: FlaskClient) -> None:
    response = submit_form(client, "/forms/complaint/", complaint_data())
    text = session_payload(response)
    assert text and "TS20" not in text and "code" not in text


@pytest.mark.parametrize(
    ("storage", "workers", "warned"),
    [("memory://", 4, True), ("memory://", 1, False), ("redis://127.0.0.1:6379/0", 4, False)],
)
def test_several_workers_on_memory_storage_are_warned_about(storage: str, workers: int, warned: bool) -> None:
    message = shared_limits_warning(storage, workers)
    assert (message is not None) is warned
    if message:
        assert f"{workers} 个工作进程" in message and "RATELIMIT_STORAGE_URI" in message and "redis://" in message
