"""`portal serve` with waitress: proxy trust from the one setting, and slow clients that cannot lock others out."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from waitress import wasyncore

from portal.serve import make_app_server
from tests.conftest import ROOT

Serve = Callable[..., str]


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Serve]:
    """Start `portal serve`'s server with the given settings (environment variables); returns its base URL."""
    running: list[tuple[Any, threading.Thread]] = []
    stop = threading.Event()

    def start(**settings: str) -> str:
        site = tmp_path / "site"
        site.mkdir(exist_ok=True)
        (site / "index.html").write_text("<!doctype html><title>首页</title>", encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
        monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path / "instance"))
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        server = make_app_server(ROOT / "content", ROOT / "site_config.yml", site, "127.0.0.1", 0)

        def loop() -> None:  # server.run() never returns; this loop stops when the test is over
            while not stop.is_set():
                wasyncore.loop(timeout=0.05, map=server._map, use_poll=True, count=1)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.effective_port}"

    yield start
    stop.set()
    for server, thread in running:
        thread.join(5)
        server.close()  # only once its loop has stopped: closing under a running poll fails in that thread


def _track(base: str, address: str) -> int:
    """A citizen behind the proxy looks a case up through the tracking form: the status code."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    headers = {"X-Forwarded-For": address}
    with opener.open(urllib.request.Request(base + "/forms/track/", headers=headers), timeout=10) as page:
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.read().decode()).group(1)  # type: ignore[union-attr]
    body = urllib.parse.urlencode({"csrf_token": csrf, "receipt_no": "TS1", "query_code": "X"}).encode()
    try:
        with opener.open(urllib.request.Request(base + "/forms/track/", body, headers), timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def test_behind_a_proxy_each_citizen_has_their_own_limit(serve: Serve) -> None:
    base = serve(PORTAL_PROXIES="1", PORTAL_RATELIMIT_PUBLIC="3 per minute")
    codes = [_track(base, f"203.0.113.{i}") for i in range(8)]  # eight citizens behind one nginx
    assert codes == [404] * 8  # nobody is limited by the others' requests
    assert [_track(base, "203.0.113.99") for _ in range(4)] == [404, 404, 404, 429]  # each still is, alone


def test_without_a_proxy_a_forged_header_changes_nothing(serve: Serve) -> None:
    base = serve(PORTAL_RATELIMIT_PUBLIC="3 per minute")
    assert [_track(base, f"203.0.113.{i}") for i in range(4)] == [404, 404, 404, 429]


def test_slow_clients_do_not_starve_others(serve: Serve) -> None:
    base = serve()
    port = int(base.rsplit(":", 1)[1])
    slow = []
    for _ in range(150):  # more than waitress' default connection limit (100)
        conn = socket.create_connection(("127.0.0.1", port))
        conn.sendall(b"GET /forms/track/ HTTP/1.1\r\nHost: x\r\n")  # and never the blank line that ends it
        slow.append(conn)
    try:
        started = time.monotonic()
        with urllib.request.urlopen(base + "/forms/track/", timeout=10) as page:
            assert page.status == 200
        assert time.monotonic() - started < 5
    finally:
        for conn in slow:
            conn.close()


def test_a_gunicorn_worker_keeps_its_start_up_objects_out_of_full_collections(tmp_path: Path) -> None:
    """Without it a full collection walks every object the worker loaded: a pause each request waits out."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "PORTAL_INSTANCE": str(tmp_path / "i"),
           "PORTAL_CONTENT": str(ROOT / "content"), "PORTAL_SITE_CONFIG": str(ROOT / "site_config.yml")}  # fmt: skip
    code = "import gc, forms_api.wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    frozen, left = map(int, out.stdout.split())
    assert frozen > 50_000 and left < frozen / 10
