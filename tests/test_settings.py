"""Typed settings read once at start-up: bad values named in Chinese, rate limits and exemptions as settings."""

from __future__ import annotations

import dataclasses
import re
from ipaddress import ip_network
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from core.errors import PortalError
from forms_api import create_app, settings
from forms_api.errors import SettingError, StorageError
from forms_api.settings import SETTINGS, Settings
from portal.cli import main
from tests.conftest import ROOT, login, submit_form
from tests.factories import complaint_data

RETRY = re.compile(r"(提交过于频繁|查询过于频繁|密码输错次数过多)，请在 (\d+) 秒后再试。")
KEYS = "hotline:secret-hotline-key"


@pytest.fixture(autouse=True)
def _no_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """The table's defaults, whatever the developer's shell exports."""
    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("env", "value", "reason"),
    [
        ("PORTAL_PROXIES", "abc", "应为 0 或正整数"),
        ("PORTAL_PROXIES", "-1", "应为 0 或正整数"),
        ("PORTAL_PROXIES", "1.5", "应为 0 或正整数"),
        ("PORTAL_HTTPS", "yes", "应为 1 或 true（开）、0 或 false（关）"),
        ("PORTAL_RATELIMIT_PUBLIC", "10 per fortnight", "应为限流规则，如「10 per minute; 60 per hour」"),
        ("PORTAL_RATELIMIT_PUBLIC", "0 per minute", "每条规则的次数至少为 1"),
        ("PORTAL_RATELIMIT_LOGIN", "5 per minute;", "应为限流规则"),
        ("PORTAL_RATELIMIT_API", "lots", "应为限流规则"),
        ("PORTAL_RATELIMIT_EXEMPT", "10.20.0.0/33", "「10.20.0.0/33」不是 IP 地址或网段；应为逗号分隔的地址或网段"),
        ("PORTAL_RATELIMIT_EXEMPT", "10.20.0.0/16,kiosk", "「kiosk」不是 IP 地址或网段"),
        ("PORTAL_API_KEYS", "hotline", "第 1 项应写成 名称:密钥"),
        ("PORTAL_API_KEYS", "a:k1,:k2", "第 2 项应写成 名称:密钥"),
        ("PORTAL_API_KEYS", "a:k1,a:k2", "名称「a」出现了两次"),
        ("PORTAL_ENCRYPTION_KEY", "too-short", "应为 Fernet 密钥"),
    ],
)
def test_a_bad_value_is_named_with_what_is_expected(env: str, value: str, reason: str) -> None:
    with pytest.raises(SettingError) as caught:
        settings.from_env({env: value})
    secret = next(s.secret for s in SETTINGS if s.env == env)
    assert str(caught.value).startswith(f"设置 {env} 的值{'' if secret else f'「{value}」'}无效：{reason}")
    assert isinstance(caught.value, PortalError)  # the `portal` command prints it as one line


def test_the_message_is_one_line_an_operator_can_act_on() -> None:
    with pytest.raises(SettingError) as caught:
        settings.from_env({"PORTAL_PROXIES": "abc"})
    assert str(caught.value) == "设置 PORTAL_PROXIES 的值「abc」无效：应为 0 或正整数"


@pytest.mark.parametrize(("env", "value"), [("PORTAL_API_KEYS", "hotline"), ("PORTAL_ENCRYPTION_KEY", "too-short")])
def test_a_secret_is_never_repeated_in_the_message(env: str, value: str) -> None:
    with pytest.raises(SettingError) as caught:
        settings.from_env({env: value})
    assert value not in str(caught.value)


def test_the_environment_is_read_and_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_PROXIES", "abc")
    with pytest.raises(SettingError, match="设置 PORTAL_PROXIES 的值「abc」无效"):
        settings.from_env()
    monkeypatch.setenv("PORTAL_PROXIES", "2")
    assert settings.from_env().proxies == 2


def test_an_unknown_override_is_refused() -> None:
    with pytest.raises(SettingError, match="没有这些设置：PORTAL_RATELIMIT_PUBLC"):
        settings.from_env({"PORTAL_RATELIMIT_PUBLC": "1 per minute"})


def test_defaults_are_typed() -> None:
    conf = settings.from_env()
    assert conf.database_url == "sqlite:///var/portal.db" and conf.ratelimit_storage_uri == "memory://"
    assert conf.proxies == 0 and conf.https is False
    assert dict(conf.api_keys) == {} and conf.ratelimit_exempt == ()
    assert conf.ratelimit_public == "10 per minute; 60 per hour"
    assert conf.ratelimit_login == "5 per minute; 30 per hour"
    assert conf.ratelimit_api == "60 per minute"


@pytest.mark.parametrize(
    ("env", "value", "attr", "parsed"),
    [
        ("PORTAL_PROXIES", "2", "proxies", 2),
        ("PORTAL_PROXIES", " ", "proxies", 0),  # empty, as `PORTAL_PROXIES=` in a unit file: the default
        ("PORTAL_HTTPS", "1", "https", True),
        ("PORTAL_HTTPS", "TRUE", "https", True),
        ("PORTAL_HTTPS", "false", "https", False),
        ("PORTAL_HTTPS", True, "https", True),
        ("PORTAL_API_KEYS", " hotline:abc , miniapp:d:e,", "api_keys", {"hotline": "abc", "miniapp": "d:e"}),
        ("PORTAL_RATELIMIT_PUBLIC", "3/minute", "ratelimit_public", "3/minute"),
        ("PORTAL_RATELIMIT_API", "100 per minute; 1000 per day", "ratelimit_api", "100 per minute; 1000 per day"),
        ("PORTAL_RATELIMIT_EXEMPT", "10.20.0.0/16, 192.168.1.50", "ratelimit_exempt",
         (ip_network("10.20.0.0/16"), ip_network("192.168.1.50/32"))),
        ("PORTAL_RATELIMIT_EXEMPT", "10.20.7.1/16,2001:db8::/32", "ratelimit_exempt",
         (ip_network("10.20.0.0/16"), ip_network("2001:db8::/32"))),  # host bits set: the network is meant
    ],
)  # fmt: skip
def test_good_values_are_parsed(env: str, value: object, attr: str, parsed: object) -> None:
    found = getattr(settings.from_env({env: value}), attr)
    assert (dict(found) if attr == "api_keys" else found) == parsed


def test_the_table_and_the_typed_object_agree() -> None:
    assert [s.attr for s in SETTINGS] == [f.name for f in dataclasses.fields(Settings)]


def test_settings_are_frozen_and_their_repr_hides_secrets() -> None:
    conf = settings.from_env({"PORTAL_API_KEYS": KEYS, "PORTAL_SECRET_KEY": "session-secret"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        conf.proxies = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        conf.api_keys["intruder"] = "key"  # type: ignore[index]
    shown = repr(conf)
    assert "secret-hotline-key" not in shown and "session-secret" not in shown and "proxies=0" in shown


def test_the_app_keeps_the_parsed_settings(app: Flask) -> None:
    conf = app.extensions["settings"]
    assert isinstance(conf, Settings) and conf.ratelimit_public == "10 per minute; 60 per hour"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://" and app.config["SESSION_COOKIE_SECURE"] is False


def test_the_portal_command_prints_one_chinese_line(runner: CliRunner) -> None:
    args = ["purge", "--content", str(ROOT / "content"), "--config", str(ROOT / "site_config.yml")]
    result = runner.invoke(main, args, env={"PORTAL_RATELIMIT_LOGIN": "often"})
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["错误：设置 PORTAL_RATELIMIT_LOGIN 的值「often」无效：" + (
        "应为限流规则，如「10 per minute; 60 per hour」（次数 per 时长，多条用分号分隔）")]  # fmt: skip


# ------------------------------------------------------------------ storage


def _start(tmp_path: Path, url: str) -> Flask:
    return create_app({"DATABASE_URL": url, "PORTAL_INSTANCE": str(tmp_path / "i"),
                       "PORTAL_SITE_DIR": str(tmp_path / "none")})  # fmt: skip


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("nosuchdb://portal:pw-123456@db/portal", "设置 DATABASE_URL 的值「nosuchdb://portal:***@db/portal」无效"),
        ("mysql://portal:pw-123456@db/portal", "设置 DATABASE_URL 的值「mysql://portal:***@db/portal」无效"),
        ("not a url pw-123456", "设置 DATABASE_URL 的值无效"),
        ("postgresql+psycopg://portal:pw-123456@127.0.0.1:1/portal", "无法连接或创建 DATABASE_URL 指定的数据库"),
    ],
)
def test_a_database_that_cannot_be_used_is_named(tmp_path: Path, url: str, expected: str) -> None:
    with pytest.raises(StorageError) as caught:
        _start(tmp_path, url)
    assert expected in str(caught.value)
    assert "pw-123456" not in str(caught.value)


def test_an_sqlite_folder_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    with pytest.raises(
        StorageError, match=r"^无法创建 DATABASE_URL 指定的数据库「sqlite:///.*/file/sub/portal\.db」："
    ):
        _start(tmp_path, f"sqlite:///{tmp_path / 'file/sub/portal.db'}")


# ------------------------------------------------------------------ rate limits


def _retry(body: str) -> int:
    """The wait the refusal names, in seconds; fails when there is none."""
    found = RETRY.search(body)
    assert found, body
    return int(found.group(2))


@pytest.mark.parametrize("app_overrides", [{"PORTAL_RATELIMIT_PUBLIC": "2 per minute"}])
def test_public_limit_is_a_setting(client: FlaskClient) -> None:
    codes = [submit_form(client, "/forms/complaint/", complaint_data()).status_code for _ in range(2)]
    assert codes == [303, 303]
    refused = submit_form(client, "/forms/complaint/", complaint_data())
    assert refused.status_code == 429
    assert 1 <= _retry(refused.get_data(as_text=True)) <= 60
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # The same setting counts the other citizens' forms, each on its own.
    tracked = [submit_form(client, "/forms/track/", {"receipt_no": "TS1", "query_code": "X"}).status_code
               for _ in range(3)]  # fmt: skip
    assert tracked == [404, 404, 429]


@pytest.mark.parametrize("app_overrides", [{"PORTAL_RATELIMIT_LOGIN": "2 per minute"}])
def test_login_limit_is_a_setting(client: FlaskClient, make_user: object) -> None:
    make_user("clerk", "intake")  # type: ignore[operator]
    codes = [login(client, "clerk", "wrong-password").status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    assert _retry(login(client, "clerk").get_data(as_text=True)) <= 60


@pytest.mark.parametrize("app_overrides", [{"PORTAL_RATELIMIT_API": "2 per minute", "PORTAL_API_KEYS": KEYS}])
def test_api_limit_is_a_setting_for_submissions_and_reads_apart(client: FlaskClient) -> None:
    headers = {"X-API-Key": "secret-hotline-key"}
    body = {"target": "window:county-hall:2", "level": 5}
    codes = [client.post("/api/v1/evaluations", json=body, headers=headers).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    refused = client.post("/api/v1/evaluations", json=body, headers=headers)
    assert refused.is_json and RETRY.search(refused.get_json()["error"])
    reads = [client.get("/api/v1/cases/TS1", headers={**headers, "X-Query-Code": "X"}) for _ in range(5)]
    assert [r.status_code for r in reads] == [404] * 4 + [429]  # apart from the submissions, and twice as many
    assert _retry(reads[4].get_json()["error"]) <= 60 and reads[4].get_json()["error"].startswith("查询")


@pytest.mark.parametrize(
    "app_overrides",
    [{"PORTAL_RATELIMIT_PUBLIC": "2 per minute", "PORTAL_RATELIMIT_EXEMPT": "10.20.0.0/16,192.168.1.50"}],
)
def test_exempt_networks_are_not_limited_on_citizens_forms(client: FlaskClient) -> None:
    data = {"receipt_no": "TS1", "query_code": "X"}
    for address in ("10.20.3.4", "192.168.1.50"):  # a kiosk in the hall, the counter PC
        client.environ_base["REMOTE_ADDR"] = address
        assert [submit_form(client, "/forms/track/", data).status_code for _ in range(5)] == [404] * 5
    client.environ_base["REMOTE_ADDR"] = "192.168.1.51"  # next to the counter, but not it
    assert [submit_form(client, "/forms/track/", data).status_code for _ in range(3)] == [404, 404, 429]


@pytest.mark.parametrize(
    "app_overrides",
    [{"PORTAL_RATELIMIT_LOGIN": "2 per minute", "PORTAL_RATELIMIT_API": "2 per minute", "PORTAL_API_KEYS": KEYS,
      "PORTAL_RATELIMIT_EXEMPT": "10.20.0.0/16"}],
)  # fmt: skip
def test_exempt_networks_still_limit_staff_login_and_the_api(client: FlaskClient, make_user: object) -> None:
    """A public kiosk must not become a place to guess staff passwords or flood the API from."""
    make_user("clerk", "intake")  # type: ignore[operator]
    client.environ_base["REMOTE_ADDR"] = "10.20.3.4"
    assert [login(client, "clerk", "wrong-password").status_code for _ in range(3)] == [401, 401, 429]
    body, headers = {"target": "window:county-hall:2", "level": 5}, {"X-API-Key": "secret-hotline-key"}
    codes = [client.post("/api/v1/evaluations", json=body, headers=headers).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_exemption_sees_the_citizen_behind_the_proxy(tmp_path: Path) -> None:
    limits = {
        "PORTAL_PROXIES": "1",
        "PORTAL_RATELIMIT_PUBLIC": "2 per minute",
        "PORTAL_RATELIMIT_EXEMPT": "10.20.0.0/16",
    }
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PORTAL_INSTANCE": str(tmp_path / "i"),
                      "PORTAL_SITE_DIR": str(tmp_path / "none"), **limits})  # fmt: skip
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.20.0.1"  # nginx is inside the network too: its address must not decide
    data = {"receipt_no": "TS1", "query_code": "X"}
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "10.20.3.4"
    assert [submit_form(client, "/forms/track/", data).status_code for _ in range(4)] == [404] * 4
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.7"
    assert [submit_form(client, "/forms/track/", data).status_code for _ in range(3)] == [404, 404, 429]
    app.extensions["engine"].dispose()
