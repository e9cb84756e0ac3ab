"""Crash test: gunicorn (deploy/gunicorn.conf.py) takes complaints from concurrent API clients while a random
worker is SIGKILLed every few seconds; afterwards every acknowledged receipt must be in the database, once, with
the content that was sent, and the database must pass its integrity checks. Once on SQLite, once on PostgreSQL.

Usage: python -m bench.crash [--complaints 5000] [--clients 50] [--kill-every 2] [--databases sqlite,postgresql]
                             [--postgres URL]
The clients behave as a careful integration would: one Idempotency-Key per complaint, and a connection error,
a 429 or a 5xx is retried with the same key. Exits 1 on any lost, altered or duplicated receipt, a case without
its audit row, a complaint never acknowledged, or a failed integrity check. Loopback only; bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.receipts import Check, check_receipts, table
from bench.servers import BenchError, Gunicorn, Keys, host_env, tail
from bench.servers import postgres_database as _postgres_database
from bench.traffic import Load, Sender, make_complaints

UNLIMITED = "1000000 per minute"  # the rate limits are not what is tested here
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def migrate(database_url: str) -> None:
    """Create the schema before gunicorn starts: on a fresh SQLite file its workers race the first migration.

    forms_api.db.create_schema serialises migrations with an advisory lock on PostgreSQL only; on SQLite the
    workers' deferred transactions collide ("database is locked"), the loser exits with code 3 and gunicorn
    shuts the whole host down ("Worker failed to boot"). Done once here, as a deployment would before start."""
    from forms_api import db

    engine = db.make_engine(database_url)
    try:
        db.create_schema(engine)
    finally:
        engine.dispose()


@dataclass
class CrashResult:
    """One database's run: what the clients saw, what the database holds, and how many workers died."""

    database: str
    workers: int
    kills: int
    load: Load
    check: Check
    server_errors: Counter[str]  # what the app logged for its 500s (error type and path only)

    @property
    def ok(self) -> bool:
        """No receipt lost, altered or doubled, a sound database, and every complaint acknowledged."""
        return self.check.ok and self.load.gave_up == 0 and self.load.refused == 0


def run(
    database_url: str, workdir: Path, complaints: int, clients: int, kill_every: float, seed: int | None = None
) -> CrashResult:
    """Start gunicorn on `database_url`, post `complaints` from `clients` threads while killing a worker every
    `kill_every` seconds, stop it, then check every receipt against the database."""
    keys = Keys.generate()
    limits = {"PORTAL_RATELIMIT_API": UNLIMITED, "PORTAL_RATELIMIT_PUBLIC": UNLIMITED}
    # memory:// on purpose: one host, and the limits are out of the way (the start-up warning is in the log).
    env = host_env(workdir, database_url, "memory://", keys, **limits)
    rng = random.Random(seed)
    kills = 0
    sent = make_complaints(complaints, "崩溃测试")
    if database_url.startswith("sqlite"):
        migrate(database_url)
    with Gunicorn("crash", workdir, env) as host:
        stop, died = threading.Event(), threading.Event()

        def killer() -> None:
            nonlocal kills
            while not stop.wait(kill_every):
                if host.process is None or host.process.poll() is not None:
                    died.set()  # the master is gone: nothing will answer again
                    return
                if host.kill_worker(rng) is not None:
                    kills += 1

        thread = threading.Thread(target=killer, name="killer")
        thread.start()
        try:
            load = Sender(host.url, keys.api, clients, abort=died).run(sent)
        finally:
            stop.set()
            thread.join()
        if died.is_set():
            raise BenchError(f"gunicorn exited during the run:\n{tail(host.error_log, 40)}")
        workers = host.workers
    logged = server_errors(host.error_log)
    kind = database_url.split(":", 1)[0].split("+")[0]
    return CrashResult(kind, workers, kills, load, check_receipts(database_url, keys, sent), logged)


def report(results: Sequence[CrashResult], clients: int, kill_every: float) -> str:
    """The figures of each run, one column per database."""
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    header = ["figure", *(names.get(r.database, r.database) for r in results)]

    def row(label: str, figure: Callable[[CrashResult], object]) -> list[object]:
        return [label, *(figure(r) for r in results)]

    rows = [
        row("complaints sent / concurrent clients", lambda r: f"{len(r.load.complaints)} / {clients}"),
        row(f"gunicorn workers / SIGKILLs (one every {kill_every:g} s)", lambda r: f"{r.workers} / {r.kills}"),
        row("duration / acknowledged per second", lambda r: f"{r.load.seconds:.1f} s / {_rate(r.load):.0f}"),
        row("acknowledged: 201 created", lambda r: r.load.count(201)),
        row("acknowledged: 200 first receipt again (retry after a lost answer)", lambda r: r.load.count(200)),
        row("never acknowledged (client gave up) / refused", lambda r: f"{r.load.gave_up} / {r.load.refused}"),
        row("**lost** (acknowledged, not in the database)", lambda r: r.check.lost),
        row("**altered** (row differs from the receipt or content sent)", lambda r: r.check.altered),
        row("**duplicates** (rows beyond one per Idempotency-Key)", lambda r: r.check.duplicates),
        row(
            "rows stored / committed but never acknowledged",
            lambda r: f"{r.check.rows} / {r.check.unacknowledged_rows}",
        ),
        row("cases without exactly one audit row", lambda r: r.check.without_audit),
        row("integrity check", lambda r: r.check.integrity),
    ]
    kinds = sorted({kind for r in results for kind in r.load.errors})
    rows += [[f"failed attempts, retried: {kind}", *(r.load.errors.get(kind, 0) for r in results)] for kind in kinds]
    logged = sorted({line for r in results for line in r.server_errors})
    rows += [[f"server log: {line}", *(r.server_errors.get(line, 0) for r in results)] for line in logged]
    rows.append(["attempts per complaint (mean / max)", *(_attempts(r.load) for r in results)])
    rows.append(["verdict", *("ok" if r.ok else "**FAILED**" for r in results)])
    text = table(header, rows)
    for r in results:
        for problem in r.check.problems:
            text += f"\n- {names.get(r.database, r.database)}: {problem}"
    return text


def server_errors(log: Path) -> Counter[str]:
    """The app's own error lines in gunicorn's log (forms_api/errors.py logs a 500's error type and path)."""
    found: Counter[str] = Counter()
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if re.search(r" at (GET|POST|PUT|DELETE|PATCH) /", line):
            found[line.strip()] += 1
    return found


def _rate(load: Load) -> float:
    return load.acknowledged / load.seconds if load.seconds else 0.0


def _attempts(load: Load) -> str:
    counts = [c.attempts for c in load.complaints]
    return f"{sum(counts) / len(counts):.2f} / {max(counts)}" if counts else "-"


@contextlib.contextmanager
def database(kind: str, workdir: Path, postgres: str) -> Iterator[str]:
    """A fresh database of `kind` for one run: a SQLite file in `workdir`, or a PostgreSQL database of its own."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'portal.db'}"
    else:
        with _postgres_database(postgres, "crash") as url:
            yield url


def main(argv: Sequence[str] | None = None) -> int:
    """Run on each database, print the figures; 1 if anything was lost, altered or doubled."""
    parser = argparse.ArgumentParser(prog="python -m bench.crash", description=__doc__.split("\n\n")[0])
    parser.add_argument("--complaints", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--kill-every", type=float, default=2.0, help="seconds between two worker SIGKILLs")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres", default=os.environ.get("PORTAL_TEST_POSTGRES") or DEFAULT_POSTGRES, help="a server to use"
    )
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    results = []
    for kind in args.databases.split(","):
        with (
            tempfile.TemporaryDirectory(prefix=f"portal-crash-{kind}-") as tmp,
            database(kind, Path(tmp), args.postgres) as url,
        ):
            print(f"{kind}: {args.complaints} complaints from {args.clients} clients, a worker killed every "
                  f"{args.kill_every:g} s …", flush=True)  # fmt: skip
            started = time.monotonic()
            results.append(run(url, Path(tmp), args.complaints, args.clients, args.kill_every, args.seed))
            print(f"{kind}: done in {time.monotonic() - started:.0f} s", flush=True)
    print()
    print(report(results, args.clients, args.kill_every))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
