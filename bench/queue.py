"""Staff queue benchmark: the queue page's server time at 100,000 cases, for a supervisor and for a window
lead, on page 1, on a deep page and with filters, on SQLite and on PostgreSQL.

Usage: python -m bench.queue [--cases 100000] [--requests 20] [--databases sqlite,postgresql] [--postgres URL]
                             [--out docs/performance.md]
Cases are bulk-inserted with SQLAlchemy Core, spread over every window of the shipped content, every state
and deadlines around today. Each page is requested through Flask's test client by a logged-in user, so the
time is the server's: routing, session, queries and template, no network. PostgreSQL: a database of our own
on the server named by --postgres (default: $PORTAL_BENCH_POSTGRES, else the local one), dropped at the end.
Writes its section of docs/performance.md and leaves the other sections as they are.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.servers import postgres_database
from bench.synth import ROOT

SECTION = "## Staff queue at 100,000 cases"
NEXT_SECTION = "## Complaint POST"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "bench-queue-password"
LEAD_WINDOWS = ["county-hall:1"]
# (who, what, query string): page 1, a deep page, and each filter; "last" is replaced by the last page,
# "{initial}" by the state a case starts in.
SCENARIOS = [
    ("supervisor", "open cases, page 1", ""),
    ("supervisor", "open cases, page 400", "page=400"),
    ("supervisor", "open cases, last page", "page=last"),
    ("supervisor", "all cases incl. finished, page 1", "all=1"),
    ("supervisor", "one state and kind, page 1", "state={initial}&kind=complaint"),
    ("supervisor", "overdue, page 1", "overdue=1"),
    ("supervisor", "due soon at one window, page 1", "window=county-hall:5&soon=1"),
    ("window lead", "open cases, page 1", ""),
    ("window lead", "open cases, last page", "page=last"),
    ("window lead", "overdue or due soon, page 1", "overdue=1&soon=1"),
]
PHRASES = ("排队时间过长", "工作人员离岗", "态度生硬", "一次性告知不清楚", "材料反复要求补交", "办理超过承诺时限",
           "电话无人接听", "窗口提前下班", "系统故障无人解释", "叫号混乱", "要求提供户口簿")  # fmt: skip
KINDS = (("complaint", 60), ("suggestion", 15), ("rectification", 25))
FINAL_SHARE = 0.55  # most cases of a few years' work are finished


@dataclass(frozen=True)
class Timing:
    """One scenario on one database: how many cases matched, and the server time of its requests."""

    who: str
    what: str
    matched: int
    median_ms: float
    p95_ms: float


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def make_cases(count: int, today: date, windows: list[tuple[str, str, str]], seed: int = 1) -> Iterator[dict[str, Any]]:
    """`count` case rows for Core inserts, spread over `windows` (office, window, label), states and deadlines."""
    from core.vocab import CATEGORIES
    from forms_api import states

    rng = random.Random(seed)
    final = sorted(states.FINAL)
    open_ = [s for s in states.STATES if s not in states.FINAL]
    for i in range(count):
        is_final = rng.random() < FINAL_SHARE
        state = rng.choice(final) if is_final else rng.choice(open_)
        office, window, label = rng.choice(windows) if rng.random() < 0.97 else (None, None, "其他")
        if is_final:
            deadline = today - timedelta(days=rng.randint(1, 700)) if rng.random() < 0.8 else None
        else:
            deadline = today + timedelta(days=rng.randint(-30, 30)) if rng.random() < 0.9 else None
        matter = "，".join(rng.choice(PHRASES) for _ in range(rng.randint(2, 30)))
        yield {
            "receipt_no": f"BQ{i:012d}", "query_hash": f"{i:064x}", "kind": _weighted(rng, KINDS),
            "channel": "online", "state": state, "category": rng.choice((None, *CATEGORIES)),
            "target_type": "window" if office else "other",
            "target_ref": f"window:{office}:{window}" if office else None, "target_label": label,
            "office": office, "window": window, "matter": matter,
            "name_enc": "g" * 120, "phone_enc": "g" * 120,
            "assignee": None if office is None else f"陈晓燕（QX{i % 90 + 10:04d}，就业登记岗A角）",
            "deadline": deadline, "round": 1, "version": 1, "anonymised": False,
            "created_at": datetime.now(UTC) - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60)),
        }  # fmt: skip


def fill(engine: Any, count: int, today: date, windows: list[tuple[str, str, str]]) -> None:
    """Bulk-insert `count` cases in chunks. PostgreSQL then gets the pass autovacuum makes after so many inserts
    (statistics, and the visibility map its index-only scans rely on); SQLite is left as a deployment has it,
    without ANALYZE."""
    from sqlalchemy import insert

    from forms_api.models import Case

    rows = make_cases(count, today, windows)
    with engine.begin() as connection:
        while chunk := [row for _, row in zip(range(5000), rows, strict=False)]:
            connection.execute(insert(Case.__table__), chunk)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE cases")


@contextmanager
def _database(kind: str, postgres: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'queue.db'}"
    else:
        with postgres_database(postgres, "bench_queue") as url:
            yield url


def _login(client: Any, name: str) -> None:
    html = client.get("/staff/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    response = client.post("/staff/login", data={"csrf_token": csrf.group(1) if csrf else "",
                                                  "username": name, "password": PASSWORD})  # fmt: skip
    if response.status_code != 302:
        raise SystemExit(f"login as {name} failed: {response.status_code}")


def _time(client: Any, url: str, requests: int) -> tuple[float, float, str]:
    """Median and p95 server time (ms) of `requests` GETs of `url`, after two warm-ups; and the last page."""
    for _ in range(2):
        html = client.get(url).get_data(as_text=True)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code}")
    return statistics.median(times), statistics.quantiles(times, n=20, method="inclusive")[18], html


def run(database_url: str, cases: int, requests: int, tmp: Path, versions: dict[str, str]) -> list[Timing]:
    """Fill one database and time every scenario on it (and note its version in `versions`)."""
    from forms_api import create_app, dao, db, states, views

    app = create_app({"DATABASE_URL": database_url, "PORTAL_INSTANCE": str(tmp / "instance"),
                      "PORTAL_CONTENT": str(ROOT / "content"), "PORTAL_SITE_CONFIG": str(ROOT / "site_config.yml"),
                      "PORTAL_SITE_DIR": str(tmp / "no-site")})  # fmt: skip
    try:
        with app.app_context():
            today = views.today()
            hall = views.content()
            windows = [(o.id, w.number, f"{o.name} {w.number} 号{w.name}") for o in hall.offices for w in o.windows]
        engine = app.extensions["engine"]
        with engine.connect() as connection:
            sql = "SELECT sqlite_version()" if engine.dialect.name == "sqlite" else "SHOW server_version"
            version = str(connection.exec_driver_sql(sql).scalar()).split()[0]
        versions["SQLite" if engine.dialect.name == "sqlite" else "PostgreSQL"] = version
        started = time.perf_counter()
        fill(engine, cases, today, windows)
        print(f"{database_url.split(':')[0]}: {cases} cases inserted in {time.perf_counter() - started:.0f} s")
        with db.transaction(app.extensions["sessions"]) as session:
            dao.add_user(session, "bench-boss", "supervisor", [], PASSWORD)
            dao.add_user(session, "bench-lead", "window-lead", LEAD_WINDOWS, PASSWORD)
        clients = {"supervisor": app.test_client(), "window lead": app.test_client()}
        _login(clients["supervisor"], "bench-boss")
        _login(clients["window lead"], "bench-lead")
        found = []
        for who, what, query in SCENARIOS:
            client, query = clients[who], query.format(initial=states.INITIAL)
            if "page=last" in query:
                html = client.get(f"/staff/?{query.replace('page=last', '')}").get_data(as_text=True)
                query = query.replace("last", re.search(r"第 \d+ / (\d+) 页", html).group(1))  # type: ignore[union-attr]
            median, p95, html = _time(client, f"/staff/?{query}", requests)
            matched = re.search(r"共 (\d+) 件", html)
            found.append(Timing(who, what, int(matched.group(1)) if matched else -1, median, p95))
            print(f"  {who:12} {what:36} {found[-1].matched:>7} cases  {median:6.1f} ms  p95 {p95:6.1f} ms")
        return found
    finally:
        app.extensions["engine"].dispose()


def machine(versions: dict[str, str]) -> str:
    """Where the figures were taken: CPU, Python, the databases' versions and how busy the machine was."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    found = ", ".join(f"{name} {version}" for name, version in versions.items())
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {found}; "
            f"load average {load:.1f} when it ended")  # fmt: skip


def report(results: dict[str, list[Timing]], cases: int, requests: int, command: str, where: str) -> str:
    """The section of docs/performance.md."""
    names = list(results)
    first = results[names[0]]
    head = " | ".join(f"{n}: median / p95" for n in names)
    lines = [f"| who | page | cases matched | {head} |", "|---|---|---|" + "---|" * len(names)]
    for i, t in enumerate(first):
        cells = " | ".join(f"{results[n][i].median_ms:.0f} ms / {results[n][i].p95_ms:.0f} ms" for n in names)
        lines.append(f"| {t.who} | {t.what} | {t.matched:,} | {cells} |")
    worst = max(t.p95_ms for timings in results.values() for t in timings)
    return (
        f"{SECTION}\n\nMeasured by `{command}` on {date.today():%Y-%m-%d} ({where}). {cases:,} cases are "
        "bulk-inserted over the 11 windows of the shipped content and every state, "
        f"{FINAL_SHARE:.0%} of them finished, open ones with deadlines from 30 days overdue to 30 days ahead. The "
        "queue page (`GET /staff/`: 50 cases a page, counts per state, filters) is then requested through "
        "Flask's test client by a logged-in supervisor and by the window lead of "
        f"{', '.join(LEAD_WINDOWS)}: server time (session, queries, template), no network. {requests} requests "
        "per row after two warm-ups. PostgreSQL runs on the same machine and gets the VACUUM ANALYZE its "
        "autovacuum makes after a bulk load; SQLite is left without ANALYZE, as deployed.\n\n"
        + "\n".join(lines)
        + "\n\n"
        f"Budget (DESIGN.md): < 200 ms server time at 100,000 cases, for a supervisor and for a window lead. "
        f"Slowest p95 above: {worst:.0f} ms ({'met' if worst < 200 else 'not met'}). A page is three queries, "
        "every filter in their WHERE clause (`forms_api/queue.py`): a COUNT, the page (its 50 ids found from "
        "an index in the queue's order, ix_cases_queue_order or, per window, ix_cases_window_queue, then only "
        "those rows read) and the counts per state, one GROUP BY (migration 0006). A deeper page walks more "
        "index entries before its 50, never more table rows.\n"
    )


def write_section(out: Path, text: str) -> None:
    """Replace this benchmark's section of the page, keeping every other section as it is; the first time, put it
    before the complaint benchmark's (`bench.complaints` rewrites the page from its own heading on)."""
    page = out.read_text(encoding="utf-8") if out.exists() else "# Performance\n"
    start = page.find(SECTION)
    if start >= 0:
        end = page.find("\n## ", start + len(SECTION))
        page = page[:start] + text + ("\n" + page[end + 1 :] if end >= 0 else "")
    elif (before := page.find(NEXT_SECTION)) >= 0:
        page = page[:before] + text + "\n" + page[before:]
    else:
        page = page.rstrip() + "\n\n" + text
    out.write_text(page, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=os.environ.get("PORTAL_BENCH_POSTGRES", DEFAULT_POSTGRES))
    parser.add_argument("--out", type=Path, default=ROOT / "docs/performance.md")
    args = parser.parse_args()
    results, versions = {}, {}
    for kind in args.databases.split(","):
        with tempfile.TemporaryDirectory() as tmp, _database(kind, args.postgres, Path(tmp)) as url:
            name = "SQLite" if kind == "sqlite" else "PostgreSQL"
            results[name] = run(url, args.cases, args.requests, Path(tmp), versions)
    command = f"python -m bench.queue --cases {args.cases} --requests {args.requests} --databases {args.databases}"
    text = report(results, args.cases, args.requests, command, machine(versions))
    write_section(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
