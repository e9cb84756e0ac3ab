"""Settings as data: one table drives defaults, parsing, validation and docs/deployment.md."""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import limits
from cryptography.fernet import Fernet

from forms_api.errors import SettingError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def text(raw: str) -> str:
    """Any text, as given."""
    return raw


def count(raw: str) -> int:
    """A whole number, 0 or more."""
    if not raw.isdecimal():
        raise ValueError("应为 0 或正整数")
    return int(raw)


def positive(raw: str) -> int:
    """A whole number, 1 or more."""
    if not raw.isdecimal() or int(raw) < 1:
        raise ValueError("应为正整数")
    return int(raw)


def flag(raw: str) -> bool:
    """On or off: 1/true or 0/false."""
    value = raw.lower()
    if value not in ("0", "1", "true", "false"):
        raise ValueError("应为 1 或 true（开）、0 或 false（关）")
    return value in ("1", "true")


def api_keys(raw: str) -> Mapping[str, str]:
    """Integration name → key, from `name:key` pairs separated by commas."""
    keys: dict[str, str] = {}
    for number, pair in enumerate(raw.split(","), start=1):
        if not pair.strip():
            continue  # a trailing comma is harmless
        name, _, key = (part.strip() for part in pair.partition(":"))
        if not name or not key:
            raise ValueError(f"第 {number} 项应写成 名称:密钥，多个用逗号分隔")
        if name in keys:
            raise ValueError(f"名称「{name}」出现了两次，每个对接系统只能有一个名称")
        keys[name] = key
    return MappingProxyType(keys)


def rate_limit(raw: str) -> str:
    """A Flask-Limiter limit string, checked now so a typo stops start-up instead of the first request."""
    try:
        items = limits.parse_many(raw)
    except ValueError:
        raise ValueError("应为限流规则，如「10 per minute; 60 per hour」（次数 per 时长，多条用分号分隔）") from None
    if any(item.amount < 1 for item in items):
        raise ValueError("每条规则的次数至少为 1")
    return raw


def networks(raw: str) -> tuple[Network, ...]:
    """IP addresses or networks separated by commas; a single address is a network of one."""
    found: list[Network] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            found.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"「{item}」不是 IP 地址或网段；应为逗号分隔的地址或网段，如 10.20.0.0/16,192.168.1.50"
            ) from None
    return tuple(found)


def fernet_key(raw: str) -> str:
    """A Fernet key (32 bytes, URL-safe base64), or empty for the instance file's."""
    if not raw:
        return raw
    try:
        Fernet(raw)
    except ValueError:
        raise ValueError("应为 Fernet 密钥（44 个字符），生成方法见 docs/deployment.md") from None
    return raw


@dataclass(frozen=True)
class Setting:
    """One setting: its environment variable, default, meaning, parser and whether its value is secret."""

    env: str
    default: str
    doc: str
    parse: Callable[[str], Any] = text
    secret: bool = False  # never repeated in an error message: it would end up in logs and terminals

    @property
    def attr(self) -> str:
        """The attribute of `Settings` that holds the parsed value."""
        return self.env.removeprefix("PORTAL_").lower()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        "sqlite:///var/portal.db",
        "数据库地址；默认本机 SQLite 文件，多服务器部署时写 PostgreSQL 地址",
        secret=True,  # may carry the database password
    ),
    Setting(
        "RATELIMIT_STORAGE_URI",
        "memory://",
        "限流计数存储；多进程、多服务器时写 Redis 地址，如 redis://127.0.0.1:6379/0",
        secret=True,  # may carry the Redis password
    ),
    Setting("PORTAL_INSTANCE", "var/instance", "实例目录：首次运行时在此生成密钥文件 keys.json（权限 600）"),
    Setting("PORTAL_SECRET_KEY", "", "会话签名密钥；不设置时使用实例目录中的密钥文件", secret=True),
    Setting(
        "PORTAL_ENCRYPTION_KEY",
        "",
        "个人信息加密密钥（Fernet）；不设置时使用实例目录中的密钥文件",
        fernet_key,
        secret=True,
    ),
    Setting("PORTAL_CONTENT", "content", "内容目录（与网站共用同一份内容）"),
    Setting("PORTAL_SITE_CONFIG", "site_config.yml", "站点设置文件"),
    Setting("PORTAL_SITE_DIR", "site", "已生成网站的目录，由 portal serve 一并提供"),
    Setting(
        "PORTAL_API_KEYS",
        "",
        "对接系统的 API 密钥，写成 名称:密钥，多个用逗号分隔，如 hotline:长随机串",
        api_keys,
        secret=True,
    ),
    Setting(
        "PORTAL_PROXIES",
        "0",
        "前面有几层反向代理（如 nginx 为 1）：据此从 X-Forwarded-For 取得群众的真实地址，限流才按人计",
        count,
    ),
    Setting("PORTAL_SERVE_THREADS", "8", "portal serve（waitress）处理请求的线程数", positive),
    Setting(
        "PORTAL_SERVE_CONNECTIONS",
        "1000",
        "portal serve 同时保持的连接数上限：慢速或挂起的连接占满后新连接须排队，故远大于线程数",
        positive,
    ),
    Setting(
        "PORTAL_SERVE_TIMEOUT",
        "30",
        "portal serve 关闭空闲连接的秒数（请求在全部收到后才交给线程处理，慢速客户端不占线程）",
        positive,
    ),
    Setting("PORTAL_HTTPS", "0", "站点经 HTTPS 提供时设为 1：会话 Cookie 加 Secure，响应加 HSTS", flag),
    Setting(
        "PORTAL_RATELIMIT_PUBLIC",
        "10 per minute; 60 per hour",
        "群众提交（投诉、建议、评价、查询进度）的限流，按来访地址计",
        rate_limit,
    ),
    Setting(
        "PORTAL_RATELIMIT_LOGIN",
        "5 per minute; 30 per hour",
        "工作人员登录时输错密码的限流（只计输错的次数），按来访地址、按“账号 + 来源”分别计；"
        "来源是登录过该账号的浏览器，或陌生浏览器的地址，所以别处的人输错密码不会把本人锁在门外",
        rate_limit,
    ),
    Setting(
        "PORTAL_RATELIMIT_LOGIN_ACCOUNT",
        "10 per minute; 30 per hour",
        "同一账号在所有陌生浏览器上输错密码的总限流（防止从大量地址分散猜测）；本人登录过的浏览器不受此限",
        rate_limit,
    ),
    Setting("PORTAL_SESSION_IDLE", "30", "工作人员登录后无操作多少分钟自动退出", positive),
    Setting(
        "PORTAL_SESSION_MAX_AGE",
        "12",
        "工作人员一次登录最长有效多少小时，到时无论是否在操作都须重新登录",
        positive,
    ),
    Setting(
        "PORTAL_RATELIMIT_API",
        "60 per minute",
        "对接接口的限流，按对接系统计；提交投诉、提交评价、查询办理情况各自计数",
        rate_limit,
    ),
    Setting(
        "PORTAL_RATELIMIT_EXEMPT",
        "",
        "不限流的地址或网段，逗号分隔，如 10.20.0.0/16,192.168.1.50（大厅自助机、窗口电脑共用一个出口地址时）",
        networks,
    ),
)


@dataclass(frozen=True, repr=False)
class Settings:
    """Every setting, parsed once at start-up: the app reads these, never the environment."""

    database_url: str
    ratelimit_storage_uri: str
    instance: str
    secret_key: str
    encryption_key: str
    content: str
    site_config: str
    site_dir: str
    api_keys: Mapping[str, str]
    proxies: int
    serve_threads: int
    serve_connections: int
    serve_timeout: int
    https: bool
    ratelimit_public: str
    ratelimit_login: str
    ratelimit_login_account: str
    session_idle: int
    session_max_age: int
    ratelimit_api: str
    ratelimit_exempt: tuple[Network, ...]

    def __repr__(self) -> str:
        """Secrets masked: a logged or printed Settings must not leak keys or passwords."""
        shown = (f"{s.attr}={'***' if s.secret else repr(getattr(self, s.attr))}" for s in SETTINGS)
        return f"Settings({', '.join(shown)})"


def _raw(value: Any) -> str:
    """An override as the text an environment variable would hold (tests may pass True or 1)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def from_env(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Every setting parsed once: from `overrides` (tests, commands), else the environment, else the default.

    An empty value means the default, as an unset variable does (`PORTAL_PROXIES=` in a unit file).
    """
    given = dict(overrides or {})
    unknown = sorted(set(given) - {s.env for s in SETTINGS})
    if unknown:
        raise SettingError(f"没有这些设置：{'、'.join(unknown)}")
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = _raw(given[setting.env]) if setting.env in given else os.environ.get(setting.env, "")
        raw = raw.strip() or setting.default
        try:
            values[setting.attr] = setting.parse(raw)
        except ValueError as exc:
            shown = "" if setting.secret else f"「{raw}」"
            raise SettingError(f"设置 {setting.env} 的值{shown}无效：{exc}") from None
    return Settings(**values)


def waitress_options(conf: Settings) -> dict[str, Any]:
    """How `portal serve` runs waitress: limits slow clients cannot exhaust, and PORTAL_PROXIES' trust.

    The trust is applied once, by the app's ProxyFix; waitress must pass X-Forwarded-* through to it
    (by default it drops them, and every citizen would share the proxy's address and rate limit)."""
    return {
        "threads": conf.serve_threads,
        "connection_limit": conf.serve_connections,
        "channel_timeout": conf.serve_timeout,
        "max_request_body_size": 1024 * 1024,  # the app answers 413 above 64 KB; never buffer more than this
        "clear_untrusted_proxy_headers": conf.proxies == 0,
        "ident": "portal",
    }


def _write_private(path: Path, text: str) -> None:
    """Create a file readable by its owner only; never overwrite one that exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def load_keys(instance: Path, secret_key: str = "", encryption_key: str = "") -> tuple[str, bytes]:
    """The session secret and the encryption key: from the environment, else the instance file (made once)."""
    path = instance / "keys.json"
    if not path.exists() and not (secret_key and encryption_key):
        keys = {
            "secret_key": secrets.token_urlsafe(48),
            "encryption_key": Fernet.generate_key().decode("ascii"),
        }
        with contextlib.suppress(FileExistsError):  # another worker made it first; read theirs
            _write_private(path, json.dumps(keys))
    stored = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    secret = secret_key or stored["secret_key"]
    key = encryption_key or stored["encryption_key"]
    base64.urlsafe_b64decode(key)  # fail at start-up, not at the first complaint
    return secret, key.encode("ascii")
