"""Complaint POST benchmark: the real form (CSRF, validation, rate limit, encryption, audit, durable commit)
against a bare Flask + SQLite insert, both under waitress, 50 concurrent clients.

Usage: python -m bench.complaints [--clients 50] [--seconds 20] [--out docs/performance.md]
Appends its figures to the performance page. Loopback only; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from bench.synth import ROOT

BARE_APP = textwrap.dedent(
    """
    import sqlite3, sys
    from flask import Flask, request
    from waitress import serve
    app = Flask(__name__)
    db = sys.argv[1]
    sqlite3.connect(db).execute("CREATE TABLE IF NOT EXISTS c (id INTEGER PRIMARY KEY, matter TEXT, phone TEXT)")
    @app.post("/forms/complaint/")
    def complaint():
        with sqlite3.connect(db, timeout=5) as conn:
            conn.execute("INSERT INTO c (matter, phone) VALUES (?, ?)", (request.form["matter"], request.form["phone"]))
        return "ok", 303
    serve(app, host="127.0.0.1", port=int(sys.argv[2]), threads=8, _quiet=True)
    """
)
OUR_APP = textwrap.dedent(
    """
    import sys
    from waitress import serve
    from forms_api import create_app
    app = create_app({"DATABASE_URL": f"sqlite:///{sys.argv[1]}", "PORTAL_INSTANCE": sys.argv[1] + ".keys",
                      "PORTAL_SITE_DIR": "/nonexistent"})
    # The clients stand for many citizens behind one proxy: waitress takes their address from X-Forwarded-For.
    serve(app, host="127.0.0.1", port=int(sys.argv[2]), threads=8, _quiet=True,
          trusted_proxy="127.0.0.1", trusted_proxy_headers="x-forwarded-for")
    """
)
FORM = {"target": "window:county-hall:1", "matter": "排队时间过长，窗口人员离岗", "name": "张三",
        "phone": "13812345678", "consent": "y"}  # fmt: skip


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(code: str, db: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    process = subprocess.Popen([sys.executable, "-c", code, str(db), str(port)], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/forms/complaint/", timeout=1)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.1)
    return process, base


def _client(base: str, ours: bool, deadline: float, latencies: list[float], lock: threading.Lock, n: int) -> None:
    """One browser posting complaint after complaint: one GET for the session's CSRF token, then POSTs,
    each with a fresh form token (as each new form page would carry) and its own address behind the proxy."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    csrf = {}
    if ours:
        html = opener.open(base + "/forms/complaint/").read().decode()
        csrf = dict(re.findall(r'name="(csrf_token)" type="hidden" value="([^"]+)"', html))
    i = 0
    while time.monotonic() < deadline and i < 10_000:
        i += 1
        headers = {"X-Forwarded-For": f"10.{n}.{i // 250}.{i % 250}"}
        body = urllib.parse.urlencode({**FORM, **csrf, "token": uuid.uuid4().hex}).encode()
        started = time.perf_counter()
        try:
            opener.open(urllib.request.Request(base + "/forms/complaint/", data=body, headers=headers))
        except urllib.error.HTTPError as exc:
            if exc.code != 303:
                raise
        with lock:
            latencies.append(time.perf_counter() - started)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        return None


def _run(base: str, ours: bool, clients: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_client, args=(base, ours, deadline, latencies, lock, n)) for n in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "docs/performance.md")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, code in (("bare", BARE_APP), ("ours", OUR_APP)):
            process, base = _start(code, Path(tmp) / f"{name}.db")
            try:
                latencies = _run(base, name == "ours", args.clients, args.seconds)
            finally:
                process.terminate()
                process.wait(timeout=10)
            results[name] = (len(latencies) / args.seconds, latencies)
    ours_rate, ours_lat = results["ours"]
    bare_rate, _ = results["bare"]
    p50 = statistics.median(ours_lat) * 1000
    p99 = statistics.quantiles(ours_lat, n=100)[98] * 1000
    text = (
        f"\n## Complaint POST\n\nMeasured by `python -m bench.complaints --clients {args.clients} --seconds "
        f"{args.seconds:.0f}`: waitress (8 threads) on loopback, clients and server sharing the 2 cores. "
        "Ours: the real form (each client GETs the page once for its CSRF token, then POSTs with a fresh "
        "form token: CSRF, validation, rate limit, "
        "encryption, audit row, durable SQLite commit). Bare: Flask + one SQLite insert.\n\n"
        "| figure | value |\n|---|---|\n"
        f"| bare Flask + SQLite insert | {bare_rate:.0f} POST/s |\n"
        f"| complaint form, everything on | {ours_rate:.0f} POST/s |\n"
        f"| ours ÷ bare | {ours_rate / bare_rate:.2f} |\n"
        f"| complaint POST latency p50 / p99 at {args.clients} clients | {p50:.0f} ms / {p99:.0f} ms |\n"
    )
    page = args.out.read_text(encoding="utf-8") if args.out.exists() else "# Performance\n"
    page = page.split("\n## Complaint POST")[0].rstrip() + "\n" + text
    args.out.write_text(page, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
