"""A smoke run of each benchmark that writes docs/performance.md, at a size that takes seconds: the scripts keep
working and write their sections. The figures themselves are never asserted here (see docs/performance.md)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parent.parent


def _run(module: str, out: Path, *args: str) -> str:
    """`python -m bench.<module> … --out <out>`; the page it wrote."""
    env = {**os.environ, "PORTAL_BENCH_POSTGRES": os.environ.get("PORTAL_TEST_POSTGRES", "")}
    subprocess.run([sys.executable, "-m", f"bench.{module}", *args, "--out", str(out)], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=600)  # fmt: skip
    return out.read_text(encoding="utf-8")


def _databases() -> str:
    """SQLite, and PostgreSQL when the suite has one."""
    return "sqlite,postgresql" if os.environ.get("PORTAL_TEST_POSTGRES") else "sqlite"


def test_complaints_bench_writes_both_servers_and_keeps_other_sections(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        if REQUIRE_SERVICES:
            pytest.fail("wrk is not installed (Debian: apt-get install wrk)")
        pytest.skip("wrk is not installed")
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\n## Staff queue at 100,000 cases\n\nkept\n", encoding="utf-8")
    page = _run("complaints", out, "--clients", "4", "--seconds", "2", "--rate", "20", "--databases", _databases())
    assert "## Staff queue at 100,000 cases\n\nkept" in page
    rows = re.findall(
        r"^\| (sqlite|postgresql) \| (\d+) \| (\d+) \| .* \| (\d+) \| (\d+) ms .* \| (\d+) \|$", page, re.M
    )
    assert [r[0] for r in rows] == _databases().split(",")
    for _, bare, ours, paced, _bare_p99, lost in rows:
        assert int(bare) > 0 and int(ours) > 0 and int(paced) > 0  # rows were written by both, in both loads
        assert lost == "0"  # every answered POST left its row


def test_queue_bench_writes_its_table(tmp_path: Path) -> None:
    page = _run("queue", tmp_path / "performance.md", "--cases", "300", "--requests", "2", "--databases", "sqlite")
    assert "## Staff queue at 100,000 cases" in page  # the section's name, whatever the size measured
    assert "--cases 300" in page and page.count("| window lead |") == 3


def test_build_bench_writes_its_table_and_keeps_other_sections(tmp_path: Path) -> None:
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\n## Complaint POST\n\nkept\n", encoding="utf-8")
    page = _run("build", out, "--services", "40", "--sizes", "30")
    assert "| services / pages built | 40 / " in page and "bare mkdocs-material" in page
    assert "one guide saved in `portal preview`" in page and "| 30 services (" in page
    assert "## Complaint POST\n\nkept" in page


def test_complaints_profile_names_where_a_post_goes() -> None:
    result = subprocess.run([sys.executable, "-m", "bench.complaints", "--profile", "20"], cwd=ROOT, check=True,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    shares = dict(re.findall(r"^\| (.+?) \| (\d+) % \|$", result.stdout, re.M))
    assert "writer lock, BEGIN IMMEDIATE and COMMIT" in shares and "session cookie signed" in shares
    assert all(0 < int(share) < 100 for share in shares.values())  # each part was found in the profile
