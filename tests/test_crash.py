"""Crash safety under gunicorn (a short `make crash`): workers SIGKILLed mid-load lose no acknowledged receipt,
on SQLite and on PostgreSQL; and gunicorn warns at start-up when its workers would count rate limits apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import crash
from bench.servers import Gunicorn, Keys, host_env


def test_killed_workers_lose_no_acknowledged_receipt(database_url: str, tmp_path: Path) -> None:
    result = crash.run(database_url, tmp_path, complaints=600, clients=10, kill_every=0.5, seed=7)
    figures = crash.report([result], clients=10, kill_every=0.5)
    print(figures)
    assert result.kills >= 1, figures
    assert result.load.acknowledged == 600, figures
    assert (result.check.lost, result.check.altered, result.check.duplicates) == (0, 0, 0), figures
    assert result.check.without_audit == 0, figures
    assert result.check.integrity == "ok", figures
    assert result.ok, figures


@pytest.mark.parametrize(("workers", "warned"), [(2, True), (1, False)])
def test_gunicorn_warns_when_workers_keep_rate_limits_in_memory(tmp_path: Path, workers: int, warned: bool) -> None:
    database = f"sqlite:///{tmp_path / 'portal.db'}"
    crash.migrate(database)
    env = host_env(tmp_path, database, "memory://", Keys.generate())
    with Gunicorn("warn", tmp_path, env, workers=workers):
        pass
    log = (tmp_path / "warn.error.log").read_text(encoding="utf-8")
    warning = [line for line in log.splitlines() if "各自在内存中计数限流" in line]
    assert bool(warning) is warned, log
    if warned:
        assert "[WARNING]" in warning[0]
        assert "2 个工作进程" in warning[0] and "RATELIMIT_STORAGE_URI" in warning[0]
