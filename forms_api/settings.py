"""Settings as data: one table drives defaults, environment variables and docs/deployment.md."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet


@dataclass(frozen=True)
class Setting:
    """One setting: its environment variable, default and meaning."""

    env: str
    default: str
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        "sqlite:///var/portal.db",
        "数据库地址；默认本机 SQLite 文件，多服务器部署时写 PostgreSQL 地址",
    ),
    Setting(
        "RATELIMIT_STORAGE_URI",
        "memory://",
        "限流计数存储；多进程、多服务器时写 Redis 地址，如 redis://127.0.0.1:6379/0",
    ),
    Setting("PORTAL_INSTANCE", "var/instance", "实例目录：首次运行时在此生成密钥文件 keys.json（权限 600）"),
    Setting("PORTAL_SECRET_KEY", "", "会话签名密钥；不设置时使用实例目录中的密钥文件"),
    Setting("PORTAL_ENCRYPTION_KEY", "", "个人信息加密密钥（Fernet）；不设置时使用实例目录中的密钥文件"),
    Setting("PORTAL_CONTENT", "content", "内容目录（与网站共用同一份内容）"),
    Setting("PORTAL_SITE_CONFIG", "site_config.yml", "站点设置文件"),
    Setting("PORTAL_SITE_DIR", "site", "已生成网站的目录，由 portal serve 一并提供"),
    Setting("PORTAL_API_KEYS", "", "对接系统的 API 密钥，写成 名称:密钥，多个用逗号分隔，如 hotline:长随机串"),
    Setting(
        "PORTAL_PROXIES",
        "0",
        "前面有几层反向代理（如 nginx 为 1）：据此从 X-Forwarded-For 取得群众的真实地址，限流才按人计",
    ),
    Setting("PORTAL_HTTPS", "0", "站点经 HTTPS 提供时设为 1：会话 Cookie 加 Secure，响应加 HSTS"),
)


def from_env(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every setting, from the environment or its default, then `overrides` (tests)."""
    values: dict[str, Any] = {s.env: os.environ.get(s.env, s.default) for s in SETTINGS}
    values.update(overrides or {})
    return values


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
