"""Complaint POST benchmark under the real deployment: gunicorn with deploy/gunicorn.conf.py, on SQLite and on
PostgreSQL, against a bare Flask insert (bench/bare.py) under the same gunicorn config, in the same run.

The load comes from Debian's `wrk` (C, its own process; bench/complaint.lua posts the real form with a session's
CSRF token and a fresh per-form token each time), so the clients do not share the Python interpreter with the
server. Ours has everything on: CSRF, validation, rate limit (set out of the way through PORTAL_RATELIMIT_PUBLIC),
encryption, audit row, durable commit. Saturated, wrk posts straight at gunicorn; paced, through nginx with
deploy/nginx.conf, as citizens reach the hosts (nginx holds their idle connections; gunicorn sees whole requests).

Usage: python -m bench.complaints [--clients 50] [--seconds 20] [--databases sqlite,postgresql] [--out FILE]
Writes its section of docs/performance.md. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench.crash import DEFAULT_POSTGRES, UNLIMITED, migrate
from bench.servers import BenchError, Gunicorn, Keys, Nginx, host_env, postgres_database
from bench.synth import ROOT
from bench.traffic import get

SCRIPT = ROOT / "bench/complaint.lua"
FORM = {"target": "window:county-hall:1", "matter": "排队时间过长，窗口人员离岗", "name": "张三",
        "phone": "13812345678", "consent": "y"}  # fmt: skip
SECTION = "\n## Complaint POST"
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')  # in the form page's HTML


@dataclass(frozen=True)
class Figures:
    """What wrk measured for one server."""

    rate: float  # rows written per second (a 200 re-showing the form with an error would not count)
    p50: float  # ms
    p99: float  # ms
    errors: int  # 4xx/5xx answers and socket errors
    unsaved: int  # answers without a row: requests − errors − rows


class Bare(Gunicorn):
    """bench/bare.py under the shipped gunicorn config."""

    APP = "bench.bare:app"


def session(base: str) -> tuple[str, str]:
    """A browser's first visit: its session cookie and the form's CSRF token."""
    parsed = urllib.parse.urlsplit(base)
    assert parsed.hostname and parsed.port
    reply = get(parsed.hostname, parsed.port, "/forms/complaint/")
    cookie = next((v for k, v in reply.headers.items() if k.lower() == "set-cookie"), "")
    found = CSRF_FIELD.search(reply.text())
    if reply.status != 200 or found is None or not cookie:
        raise BenchError(f"GET /forms/complaint/ answered {reply.status} without a session and a CSRF token")
    return cookie.split(";", 1)[0], found.group(1)


def rows(url: str, table: str) -> int:
    """How many rows the server wrote."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Load:
    """How wrk loads a server: connections, seconds, and each client's pause between POSTs (0: back to back)."""

    clients: int
    seconds: float
    rate: float = 0.0  # POSTs per second the clients offer together; 0 saturates the server

    @property
    def pause_ms(self) -> int:
        """Each client's think time: `clients` clients pausing this long offer about `rate` POSTs a second."""
        return round(self.clients / self.rate * 1000) if self.rate else 0


def wrk(base: str, cookie: str, csrf: str, load: Load, saved: Callable[[], int]) -> Figures:
    """Run wrk against one server, read the script's BENCH line and count the rows written since `saved` was
    first called (a server is loaded twice on one database)."""
    before = saved()
    body = urllib.parse.urlencode({**FORM, **({"csrf_token": csrf} if csrf else {})})
    command = ["wrk", "-t2", f"-c{load.clients}", f"-d{load.seconds:.0f}s", "--timeout", "10s", "-s", str(SCRIPT),
               base, "--", cookie, body, str(load.pause_ms)]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, timeout=load.seconds + 60, check=True).stdout
    line = next((x for x in out.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise BenchError(f"wrk printed no figures:\n{out}")
    data = json.loads(line.removeprefix("BENCH "))
    errors, written = data["status_errors"] + data["socket_errors"], saved() - before
    rate = written / (data["duration_us"] / 1e6)
    return Figures(
        rate, data["p50_us"] / 1000, data["p99_us"] / 1000, errors, max(0, data["requests"] - errors - written)
    )


@contextmanager
def database(kind: str, workdir: Path, name: str) -> Iterator[str]:
    """A fresh database of `kind` for one server."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / name}.db"
        return
    server = os.environ.get("PORTAL_TEST_POSTGRES", DEFAULT_POSTGRES)
    with postgres_database(server, f"bench_{name}") as url:
        yield url


Run = dict[str, Figures]  # "bare", "ours": saturated; "bare paced", "ours paced": at the offered rate


@contextmanager
def proxied(host: Gunicorn, workdir: Path) -> Iterator[str]:
    """nginx as deploy/nginx.conf ships it, in front of `host`: its base URL. Citizens' browsers hold idle
    connections; nginx keeps them and passes on only whole requests, as in the deployment. Straight at gunicorn,
    each idle new connection holds one of a worker's 4 threads until its first request (up to 5 s)."""
    site = workdir / f"{host.name}-site"
    site.mkdir(exist_ok=True)
    (site / "index.html").write_text("<!doctype html><title>bench</title>", encoding="utf-8")
    with Nginx(workdir / host.name, [f"127.0.0.1:{host.port}"], site) as nginx:
        yield nginx.url


def _both(host: Gunicorn, workdir: Path, loads: tuple[Load, Load], cookie: str, csrf: str,
          saved: Callable[[], int]) -> tuple[Figures, Figures]:  # fmt: skip
    """Saturated straight at gunicorn (what the app itself can take), then paced through nginx."""
    saturated = wrk(host.url, cookie, csrf, loads[0], saved)
    with proxied(host, workdir) as url:
        return saturated, wrk(url, cookie, csrf, loads[1], saved)


def measure(kind: str, workdir: Path, loads: tuple[Load, Load]) -> Run:
    """Bare, then ours, on one kind of database: each saturated, then at a steady offered rate."""
    found: Run = {}
    keys = Keys.generate()
    with database(kind, workdir, "bare") as url:
        env = host_env(workdir, url, "memory://", keys, BARE_DATABASE=url.removeprefix("sqlite:///"))
        subprocess.run(
            [sys.executable, "-c", "from bench.bare import create_table; create_table()"], cwd=ROOT, env=env, check=True
        )
        with Bare(f"bare-{kind}", workdir, env) as host:
            found["bare"], found["bare paced"] = _both(host, workdir, loads, "", "", lambda: rows(url, "c"))
    with database(kind, workdir, "ours") as url:
        migrate(url)
        env = host_env(workdir, url, "memory://", keys, PORTAL_RATELIMIT_PUBLIC=UNLIMITED, PORTAL_PROXIES="1")
        with Gunicorn(f"ours-{kind}", workdir, env) as host:
            cookie, csrf = session(host.url)
            found["ours"], found["ours paced"] = _both(host, workdir, loads, cookie, csrf, lambda: rows(url, "cases"))
    return found


def section(args: argparse.Namespace, results: dict[str, Run]) -> str:
    """The Complaint POST section of docs/performance.md."""
    rows = "".join(
        f"| {kind} | {r['bare'].rate:.0f} | {r['ours'].rate:.0f} | {r['ours'].rate / r['bare'].rate:.2f} "
        f"| {r['ours'].p50:.0f} / {r['ours'].p99:.0f} ms | {r['ours paced'].rate:.0f} "
        f"| {r['bare paced'].p99:.0f} ms | {r['ours paced'].p50:.0f} / {r['ours paced'].p99:.0f} ms "
        f"| {sum(f.errors + f.unsaved for f in r.values())} |\n"
        for kind, r in results.items()
    )
    worst = min(r["ours"].rate / r["bare"].rate for r in results.values())
    p99 = max(r["ours paced"].p99 for r in results.values())
    return (
        f"{SECTION}\n\nMeasured by `python -m bench.complaints --clients {args.clients} --seconds "
        f"{args.seconds:.0f} --rate {args.rate:.0f} --databases {','.join(results)}` on {date.today()} "
        f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}). Both servers run under "
        "gunicorn with deploy/gunicorn.conf.py as shipped (4 workers × 4 threads, access log on), one after the "
        f"other on the same machine, loaded by `wrk -t2 -c{args.clients}` with bench/complaint.lua in its own "
        "process. Ours is the real form: one GET for the session's CSRF token, then POSTs with a fresh per-form "
        "token, with CSRF, validation, the rate limit (raised out of the way through PORTAL_RATELIMIT_PUBLIC, "
        "counted in memory), encryption, audit row and durable commit. Bare is bench/bare.py: Flask + one INSERT "
        "and commit. POST/s counts the rows each server wrote (read back after the run), not the answers.\n\n"
        "Two loads: *saturated*, straight at gunicorn, each client posting again as soon as it has its answer (the "
        "ratio of what the two apps can take); and *paced*, through nginx with deploy/nginx.conf as shipped (its "
        "per-address limits on, each POST from an address of its own), each client pausing a random time "
        f"(exponential) between POSTs so that together they offer {args.rate:.0f} POSTs a second at random moments "
        "(the latency a citizen sees in a rush). Saturated latency says little: with the server always busy, a "
        "client's wait is the clients ahead of it divided by the rate (Little's law), bare included.\n\n"
        "| database | bare POST/s | ours POST/s | ours ÷ bare | ours p50 / p99, saturated | paced: ours POST/s "
        "| paced: bare p99 | paced: ours p50 / p99 | errors or unsaved |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
        f"{rows}\n"
        f"Budget (DESIGN.md): ours ≥ 0.5 × bare, p99 ≤ 100 ms at {args.clients} clients. Lowest ratio {worst:.2f} "
        f"({'met' if worst >= 0.5 else 'not met'}); highest paced p99 {p99:.0f} ms "
        f"({'met' if p99 <= 100 else 'not met'}).\n"
    )


def write(out: Path, text: str) -> None:
    """Replace this benchmark's section of the performance page, keeping the others."""
    page = out.read_text(encoding="utf-8") if out.exists() else "# Performance\n"
    before, _, after = page.partition(SECTION)
    rest = after[after.find("\n## ") :] if "\n## " in after else ""
    out.write_text(before.rstrip() + "\n" + text + rest, encoding="utf-8")


PARTS = {  # what `--profile` reports: a part of the request by the file and function that do it
    "rate limit (Flask-Limiter: its hook and the route's decorator)": (
        "flask_limiter/_extension.py",
        "_check_request_limit",
    ),
    "input gate (forms_api/inputs.py), the form's body parsed": ("forms_api/inputs.py", "check_request"),
    "CSRF check before the view (Flask-WTF)": ("flask_wtf/csrf.py", "csrf_protect"),
    "form built (WTForms, 10 fields)": ("flask_wtf/form.py", "__init__"),
    "form validated": ("flask_wtf/form.py", "validate_on_submit"),
    "case prepared: 4 fields sealed (Fernet), digests, due date": ("forms_api/workflow.py", "prepare"),
    "writer lock, BEGIN IMMEDIATE and COMMIT": ("forms_api/db.py", "transaction"),
    "… of which the COMMIT itself (its fsync)": ("~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    "the case and its audit row inserted (2 INSERTs)": ("forms_api/workflow.py", "register"),
    "session cookie signed": ("flask/sessions.py", "save_session"),
}


def profile(posts: int) -> str:
    """Where one POST's time goes in-process (Flask's test client, SQLite file): wall ms per POST without the
    profiler, then each part's share of the time under `cProfile`."""
    import cProfile
    import pstats
    import time
    import uuid

    from bench.servers import app_overrides
    from forms_api import create_app, serving

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = host_env(workdir, f"sqlite:///{workdir / 'p.db'}", "memory://", Keys.generate(),
                       PORTAL_RATELIMIT_PUBLIC=UNLIMITED)  # fmt: skip
        client = serving(create_app(app_overrides(env))).test_client()
        found = CSRF_FIELD.search(client.get("/forms/complaint/").text)
        assert found is not None
        form = {**FORM, "csrf_token": found.group(1)}

        def post() -> None:
            reply = client.post("/forms/complaint/", data={**form, "token": uuid.uuid4().hex})
            if reply.status_code != 303:
                raise BenchError(f"POST /forms/complaint/ answered {reply.status_code}")

        for _ in range(50):
            post()
        started = time.perf_counter()
        for _ in range(posts):
            post()
        wall = (time.perf_counter() - started) / posts * 1000
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [post() for _ in range(posts)])
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]

    def cumulative(where: tuple[str, str]) -> float:
        return sum(v[3] for (f, _line, fn), v in stats.items() if f.endswith(where[0]) and fn == where[1])

    whole = cumulative(("flask/app.py", "__call__"))
    rows = "".join(f"| {part} | {cumulative(where) / whole * 100:.0f} % |\n" for part, where in PARTS.items())
    return (
        f"`python -m bench.complaints --profile {posts}`: {wall:.2f} ms per POST in-process, wall time without the "
        f"profiler; under `cProfile`, each part's share of the request:\n\n| part | share |\n|---|---|\n{rows}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=100, help="POSTs a second the paced clients offer together")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=ROOT / "docs/performance.md")
    parser.add_argument("--profile", type=int, metavar="POSTS", help="only print where a POST's time goes")
    args = parser.parse_args()
    if args.profile:
        print(profile(args.profile))
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.databases.split(","):
            loads = (Load(args.clients, args.seconds), Load(args.clients, args.seconds, args.rate))
            results[kind] = measure(kind, Path(tmp), loads)
    text = section(args, results)
    write(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
