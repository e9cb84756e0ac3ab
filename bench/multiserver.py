"""Several servers: Debian's nginx (deploy/nginx.conf without TLS) in front of two gunicorn hosts
(deploy/gunicorn.conf.py) sharing one PostgreSQL database, Redis rate-limit counters and the same keys.

Shows, with figures:
  (a) a rate limit holds across hosts: a citizen's 11th complaint is refused whichever host gets it;
  (b) a staff session made on one host is honoured by the other;
  (c) an Idempotency-Key sent to host A and then to host B returns the first receipt;
  (e) 200 slowloris connections to nginx do not delay a normal request (and do stall a bare gunicorn host);
  (d) a host SIGKILLed mid-load (master and workers) loses no acknowledged receipt.

Usage: python -m bench.multiserver [--complaints 1000] [--clients 20] [--slow 200] [--slow-seconds 12]
                                   [--workers N] [--postgres URL] [--redis URL]
Exits 1 if any of them does not hold. Loopback only; every wait is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import selectors
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.complaints import FORM
from bench.receipts import check_receipts, table
from bench.servers import Gunicorn, Keys, Nginx, app_overrides, clear_limits, host_env, postgres_database
from bench.traffic import CLIENT_HEADER, Browser, Sender, get, make_complaints, post_json

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
PUBLIC_LIMIT = 10  # complaints a citizen may post a minute, for (a)
UNLIMITED = "1000000 per minute"
STAFF = "bench-zhaomin"


@dataclass
class Figure:
    """One line of the report."""

    phase: str
    what: str
    value: str
    ok: bool | None = True  # None: shown for contrast, not a check


@dataclass
class Report:
    """Every figure, and whether each check held."""

    figures: list[Figure] = field(default_factory=list)

    def add(self, phase: str, what: str, value: object, ok: bool | None = True) -> None:
        """Record one figure."""
        self.figures.append(Figure(phase, what, str(value), ok))

    @property
    def ok(self) -> bool:
        """Every check held."""
        return all(f.ok is not False for f in self.figures)

    def failed(self) -> list[Figure]:
        """The checks that did not hold."""
        return [f for f in self.figures if f.ok is False]

    def table(self) -> str:
        """The figures as a Markdown table."""
        marks = {True: "ok", False: "**FAILED**", None: "(contrast)"}
        return table(["", "what", "figure", "check"], [(f.phase, f.what, f.value, marks[f.ok]) for f in self.figures])


@dataclass
class Deployment:
    """nginx, two hosts, and what they share."""

    workdir: Path
    database_url: str
    redis_url: str
    keys: Keys
    env: dict[str, str]
    hosts: list[Gunicorn]
    nginx: Nginx

    def name(self, address: str) -> str:
        """'host A' for an upstream address in nginx's log."""
        for letter, host in zip("AB", self.hosts, strict=False):
            if address == f"127.0.0.1:{host.port}":
                return f"host {letter}"
        return address


@contextlib.contextmanager
def deployment(workdir: Path, database_url: str, redis_url: str, workers: int | None = None) -> Iterator[Deployment]:
    """Two gunicorn hosts with the same settings, behind nginx; everything stopped at the end."""
    keys = Keys.generate()
    env = host_env(
        workdir,
        database_url,
        redis_url,
        keys,
        PORTAL_PROXIES="1",
        PORTAL_RATELIMIT_PUBLIC=f"{PUBLIC_LIMIT} per minute",
        PORTAL_RATELIMIT_API=UNLIMITED,
    )
    clear_limits(redis_url)
    site = workdir / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>人社服务大厅</title><p>首页</p>", encoding="utf-8")
    (site / "search.wasm").write_bytes(b"\0asm\1\0\0\0")
    hosts = [Gunicorn("host-a", workdir, env, workers), Gunicorn("host-b", workdir, env, workers)]
    nginx = Nginx(workdir, [f"127.0.0.1:{h.port}" for h in hosts], site)
    try:
        for host in hosts:
            host.start()
        nginx.start()
        yield Deployment(workdir, database_url, redis_url, keys, env, hosts, nginx)
    finally:
        nginx.stop()
        for host in hosts:
            host.stop()
        clear_limits(redis_url)


def _served(host: Gunicorn, request: str, status: int) -> int:
    return host.served(f'"{request} HTTP/1.1" {status} ')


def _split(dep: Deployment, counts: Sequence[int]) -> str:
    return ", ".join(f"host {letter} {n}" for letter, n in zip("AB", counts, strict=True))


def check_site(dep: Deployment, report: Report) -> None:
    """The shipped nginx.conf serves the site with its types and headers, and proxies the app's pages untouched."""
    phase = "nginx"
    page = get("127.0.0.1", dep.nginx.port, "/")
    wasm = get("127.0.0.1", dep.nginx.port, "/search.wasm")
    types = f"{page.headers.get('Content-Type')}, {wasm.headers.get('Content-Type')}"
    report.add(phase, "static page and .wasm types", types, "text/html" in types and "application/wasm" in types)
    conn = http.client.HTTPConnection("127.0.0.1", dep.nginx.port, timeout=30)
    try:
        conn.request("GET", "/forms/complaint/")
        answer = conn.getresponse()
        answer.read()
        csp = [v for k, v in answer.getheaders() if k.lower() == "content-security-policy"]
    finally:
        conn.close()
    report.add(phase, "Content-Security-Policy headers on a proxied form page", len(csp), len(csp) == 1)


def shared_limit(dep: Deployment, report: Report) -> None:
    """(a) One citizen's complaints through nginx, round-robined to both hosts, share one Redis counter."""
    phase = "(a) rate limit"
    hosts = dep.hosts
    before = [_served(h, "POST /forms/complaint/", 303) for h in hosts]
    citizen = Browser(dep.nginx.url, "10.1.0.1")
    fields = citizen.hidden("/forms/complaint/")
    statuses = []
    for _ in range(PUBLIC_LIMIT + 1):
        reply = citizen.open("/forms/complaint/", {**FORM, **fields, "token": uuid.uuid4().hex})
        statuses.append(reply.status)
    split = [_served(h, "POST /forms/complaint/", 303) - b for h, b in zip(hosts, before, strict=True)]
    passed = statuses[:PUBLIC_LIMIT]
    report.add(
        phase,
        f"PORTAL_RATELIMIT_PUBLIC={PUBLIC_LIMIT} per minute: one citizen's first {PUBLIC_LIMIT} complaints",
        f"{passed.count(303)} × 303 ({_split(dep, split)})",
        passed.count(303) == PUBLIC_LIMIT and min(split) > 0,
    )
    retry = reply.headers.get("Retry-After", "-")
    report.add(
        phase,
        f"the same citizen's complaint no. {PUBLIC_LIMIT + 1}",
        f"{statuses[-1]}, Retry-After {retry} s",
        statuses[-1] == 429,
    )
    forged = citizen.open(
        "/forms/complaint/", {**FORM, **fields, "token": uuid.uuid4().hex}, {"X-Forwarded-For": "203.0.113.7"}
    )
    report.add(
        phase,
        "again, with a forged X-Forwarded-For (nginx appends the real address)",
        forged.status,
        forged.status == 429,
    )
    other = Browser(dep.nginx.url, "10.1.0.2")
    reply = other.open("/forms/complaint/", {**FORM, **other.hidden("/forms/complaint/")})
    report.add(phase, "another citizen (another address) meanwhile", reply.status, reply.status == 303)


def staff_session(dep: Deployment, report: Report) -> None:
    """(b) A staff member logs in through nginx; the session cookie works on both hosts."""
    from forms_api import admin, create_app

    phase = "(b) staff session"
    app = create_app(app_overrides(dep.env))
    try:
        password, _ = admin.add_user(app, STAFF, "supervisor", [], None, "督办员", "QX9001")
    finally:
        app.extensions["engine"].dispose()
    staff = Browser(dep.nginx.url, "10.2.0.1")
    anonymous = staff.open("/staff/")
    fields = staff.hidden("/staff/login")
    login = staff.open(
        "/staff/login", {"csrf_token": fields.get("csrf_token", ""), "username": STAFF, "password": password}
    )
    where = [_served(h, "POST /staff/login", 302) for h in dep.hosts]
    logged_in_on = "host A" if where[0] else "host B" if where[1] else "?"
    report.add(phase, "GET /staff/ without a session", anonymous.status, anonymous.status == 302)
    report.add(phase, "login through nginx", f"{login.status} (on {logged_in_on})", login.status == 302)
    before = [_served(h, "GET /staff/", 200) for h in dep.hosts]
    statuses = [staff.open("/staff/").status for _ in range(10)]
    split = [_served(h, "GET /staff/", 200) - b for h, b in zip(dep.hosts, before, strict=True)]
    report.add(
        phase,
        "10 × GET /staff/ with that session cookie",
        f"{statuses.count(200)} × 200 ({_split(dep, split)})",
        statuses.count(200) == 10 and min(split) > 0,
    )


def idempotency(dep: Deployment, report: Report) -> None:
    """(c) The same Idempotency-Key to host A, then to host B directly: one case, the first receipt twice."""
    phase = "(c) Idempotency-Key"
    a, b = dep.hosts
    body = make_complaints(1, "幂等测试")[0].body
    headers = {"X-API-Key": dep.keys.api, "Idempotency-Key": uuid.uuid4().hex}
    first = post_json(a.url, "/api/v1/complaints", body, headers)
    again = post_json(b.url, "/api/v1/complaints", body, headers)
    other = post_json(b.url, "/api/v1/complaints", {**body, "matter": body["matter"] + "（改）"}, headers)
    one, two = first.json() or {}, again.json() or {}
    report.add(phase, "new key, straight to host A", f"{first.status} {one.get('receipt_no')}", first.status == 201)
    same = two.get("receipt_no") == one.get("receipt_no") and two.get("query_code") == one.get("query_code")
    report.add(
        phase,
        "same key and body, straight to host B",
        f"{again.status} {two.get('receipt_no')} ({'same receipt and query code' if same else 'DIFFERENT'})",
        again.status == 200 and same,
    )
    report.add(phase, "same key, other content, host B", other.status, other.status == 422)


class Slowloris:
    """`count` connections that send a request line, then one header byte every `interval` seconds."""

    def __init__(self, port: int, count: int, interval: float = 2.0) -> None:
        self.port = port
        self.count = count
        self.interval = interval
        self.socks: list[socket.socket] = []
        self.closed: dict[int, float] = {}  # socket index → seconds after opening when the server closed it
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, name="slowloris")
        self._started = 0.0

    def __enter__(self) -> Slowloris:
        self._started = time.monotonic()
        for _ in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            sock.sendall(b"GET /forms/complaint/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            self.socks.append(sock)
        self._thread.start()
        return self

    def _trickle(self) -> None:
        selector = selectors.DefaultSelector()
        for n, sock in enumerate(self.socks):
            selector.register(sock, selectors.EVENT_READ, n)
        try:
            while not self._stop.wait(self.interval):
                for key, _ in selector.select(timeout=0):  # the server answered (408) or closed: it is done
                    self._close(selector, key.data)
                for n, sock in enumerate(self.socks):
                    if n in self.closed:
                        continue
                    try:
                        sock.send(b"X")
                    except OSError:
                        self._close(selector, n)
        finally:
            selector.close()

    def _close(self, selector: selectors.BaseSelector, n: int) -> None:
        self.closed.setdefault(n, time.monotonic() - self._started)
        with contextlib.suppress(KeyError, ValueError):
            selector.unregister(self.socks[n])

    @property
    def still_open(self) -> int:
        """Connections the server has not closed."""
        return self.count - len(self.closed)

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.socks:
            sock.close()


def slow_clients(dep: Deployment, report: Report, slow: int, seconds: float) -> None:
    """(e) Slow connections pile up at nginx, not at gunicorn; compared with a bare gunicorn host."""
    phase = "(e) slow clients"
    a = dep.hosts[0]
    latencies: list[float] = []
    statuses: list[int] = []
    with Slowloris(dep.nginx.port, slow) as loris:
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            n += 1
            reply = Browser(dep.nginx.url, f"10.5.0.{n % 250 + 1}").open("/forms/complaint/")
            statuses.append(reply.status)
            latencies.append(reply.seconds)
            time.sleep(0.25)
        open_at_end = loris.still_open
        closed_after = sorted(loris.closed.values())
    slowest = max(latencies) * 1000
    report.add(
        phase,
        f"{slow} connections to nginx sending a header byte every 2 s, for {seconds:g} s",
        f"{slow - open_at_end} closed by nginx"
        + (f" (after {closed_after[0]:.0f}–{closed_after[-1]:.0f} s)" if closed_after else ""),
    )
    report.add(
        phase,
        "normal requests through nginx meanwhile",
        f"{statuses.count(200)}/{len(statuses)} × 200, slowest {slowest:.0f} ms",
        statuses.count(200) == len(statuses) and slowest < 1000,
    )
    with Slowloris(a.port, slow):
        time.sleep(1)
        started = time.monotonic()
        try:
            answer: object = get("127.0.0.1", a.port, "/forms/complaint/", timeout=5).status
            waited = f"answered {answer} after {time.monotonic() - started:.1f} s"
        except (OSError, http.client.HTTPException):
            waited = "no answer within 5 s"
    threads = a.workers * 4
    report.add(
        phase,
        f"the same {slow} connections straight to gunicorn host A ({a.workers} workers × 4 threads)",
        f"a normal request: {waited}",
        None,
    )
    recovered = _wait(a.answers, 20)
    report.add(
        phase,
        f"host A once the slow connections closed ({threads} threads freed)",
        "answers again" if recovered else "still not answering",
        recovered,
    )


def _wait(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.2)
    return False


def failover(dep: Deployment, report: Report, complaints: int, clients: int) -> None:
    """(d) API load through nginx; host B is SIGKILLed (master and workers) a third of the way in."""
    phase = "(d) host killed"
    b = dep.hosts[1]
    sent = make_complaints(complaints, "故障转移")
    sender = Sender(
        dep.nginx.url,
        dep.keys.api,
        clients,
        headers=lambda c: {CLIENT_HEADER: f"10.4.{c.index // 250}.{c.index % 250 + 1}"},
    )
    killed: dict[str, float] = {}

    def killer() -> None:
        if _wait(lambda: sender.acknowledged >= complaints // 3 or sender.abort.is_set(), 120):
            killed["acknowledged"] = sender.acknowledged
            killed["processes"] = b.kill_host()

    thread = threading.Thread(target=killer, name="host-killer")
    thread.start()
    try:
        load = sender.run(sent)
    finally:
        sender.abort.set()
        thread.join()
    check = check_receipts(dep.database_url, dep.keys, sent)
    served = dep.nginx.served_by("POST /api/v1/complaints ")
    retried = sum(n for upstream, n in served.items() if "," in upstream)
    by_host = ", ".join(
        f"{dep.name(up)} {n}" for up, n in sorted(served.items(), key=lambda i: dep.name(i[0])) if "," not in up
    )
    report.add(
        phase,
        f"{complaints} API complaints through nginx from {clients} clients (retry with the same key)",
        f"host B SIGKILLed ({killed.get('processes', 0):.0f} processes) after "
        f"{killed.get('acknowledged', 0):.0f} receipts",
        "processes" in killed,
    )
    report.add(
        phase,
        "acknowledged: 201 created / 200 first receipt again",
        f"{load.count(201)} / {load.count(200)} in {load.seconds:.1f} s",
        load.acknowledged == complaints,
    )
    errors = ", ".join(f"{kind} {n}" for kind, n in load.errors.most_common()) or "none"
    report.add(
        phase, "failed attempts the clients retried (a 502: in flight on host B; nginx never resends a POST)", errors
    )
    report.add(
        phase,
        "POSTs nginx passed to each host (its log)",
        f"{by_host}; refused, then sent to the other host: {retried}",
    )
    report.add(
        phase,
        "**lost / altered / duplicated** receipts",
        f"{check.lost} / {check.altered} / {check.duplicates}",
        check.lost == check.altered == check.duplicates == 0,
    )
    report.add(
        phase,
        "cases without their audit row; database integrity",
        f"{check.without_audit}; {check.integrity}",
        check.without_audit == 0 and check.integrity == "ok",
    )
    for problem in check.problems:
        report.add(phase, "problem", problem, False)


def run(
    workdir: Path,
    database_url: str,
    redis_url: str,
    *,
    workers: int | None = None,
    complaints: int = 1000,
    clients: int = 20,
    slow: int = 200,
    slow_seconds: float = 12,
    report: Report | None = None,
) -> Report:
    """Every phase on one deployment, in an order where each leaves the next a working setup."""
    report = report if report is not None else Report()
    with deployment(workdir, database_url, redis_url, workers) as dep:
        report.add("setup", "nginx + 2 gunicorn hosts", f"{dep.hosts[0].workers} workers each, PostgreSQL, Redis")
        check_site(dep, report)
        shared_limit(dep, report)
        staff_session(dep, report)
        idempotency(dep, report)
        slow_clients(dep, report, slow, slow_seconds)
        failover(dep, report, complaints, clients)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Run every phase on a PostgreSQL database of its own; print the figures; 1 if a check failed."""
    parser = argparse.ArgumentParser(prog="python -m bench.multiserver", description=__doc__.split("\n\n")[0])
    parser.add_argument("--complaints", type=int, default=1000, help="API complaints in (d)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent API clients in (d)")
    parser.add_argument("--slow", type=int, default=200, help="slow connections in (e)")
    parser.add_argument("--slow-seconds", type=float, default=12, help="how long (e) lasts")
    parser.add_argument("--workers", type=int, default=None, help="workers per host (default: gunicorn.conf.py)")
    parser.add_argument("--postgres", default=os.environ.get("PORTAL_TEST_POSTGRES") or DEFAULT_POSTGRES)
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="a Redis database for the rate-limit counters")
    args = parser.parse_args(argv)
    report = Report()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="portal-multi-") as tmp,
            postgres_database(args.postgres, "multi") as url,
        ):
            run(
                Path(tmp),
                url,
                args.redis,
                workers=args.workers,
                complaints=args.complaints,
                clients=args.clients,
                slow=args.slow,
                slow_seconds=args.slow_seconds,
                report=report,
            )
    finally:
        print(report.table())  # what was measured before any error too
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
