"""Several servers (a short `make multiserver`): nginx from deploy/nginx.conf in front of two gunicorn hosts on
one PostgreSQL database and Redis. A rate limit and a staff session hold across hosts, an Idempotency-Key
returns the first receipt from either host, slow clients do not delay others, and a host killed mid-load
loses no acknowledged receipt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import multiserver
from bench.servers import NGINX_CONF, nginx_binary, nginx_site


@pytest.fixture
def nginx() -> str:
    """Debian's nginx; a missing one fails under CI (PORTAL_REQUIRE_SERVICES=1), else skips."""
    found = nginx_binary()
    if found is None:
        message = "nginx is not installed (Debian: apt-get install nginx-light)"
        if os.environ.get("PORTAL_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


def test_bench_config_keeps_the_shipped_proxy_settings(tmp_path: Path) -> None:
    shipped = NGINX_CONF.read_text(encoding="utf-8")
    generated = nginx_site(shipped, 18080, ["127.0.0.1:1", "127.0.0.1:2"], tmp_path)
    assert "ssl" not in generated.replace("ssl_", "").split("server {", 1)[1]
    assert "listen 127.0.0.1:18080;" in generated
    assert "server 127.0.0.1:1 max_fails=1 fail_timeout=10s;" in generated
    assert "10.0.0.1" not in generated and "return 301" not in generated
    for directive in ("proxy_request_buffering on;", "client_header_timeout", "proxy_next_upstream error timeout;",
                      "limit_req zone=forms", "X-Forwarded-For $proxy_add_x_forwarded_for"):  # fmt: skip
        assert directive in generated, directive


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_hosts_behind_nginx(nginx: str, database_url: str, redis_url: str, tmp_path: Path) -> None:
    report = multiserver.run(tmp_path, database_url, redis_url, complaints=240, clients=12, slow=200, slow_seconds=4)
    print(report.table())
    assert not report.failed(), report.table()
    phases = {f.phase for f in report.figures}
    assert {
        "(a) rate limit",
        "(b) staff session",
        "(c) Idempotency-Key",
        "(d) host killed",
        "(e) slow clients",
    } <= phases
