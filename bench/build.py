"""Build benchmark: the generator against a bare mkdocs-material build of the same Markdown.

Usage: python -m bench.build [--services 10000] [--out docs/performance.md]
Writes the figures as a Markdown table; ratios matter more than seconds on a shared machine.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import re
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from bench.synth import ROOT, make_project

SHIPPED = 27


def _run(command: list[str], cwd: Path) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MiB) of the largest process, and what the command printed."""
    script = (
        "import resource, subprocess, sys, time;"
        "t = time.perf_counter(); r = subprocess.run(sys.argv[1:], check=True, capture_output=True, text=True);"
        "sys.stderr.write(r.stdout);"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", script, *command], cwd=cwd, check=True, capture_output=True, text=True)
    seconds, rss_kib = out.stdout.split()
    return float(seconds), int(rss_kib) // 1024, out.stderr


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, 6))


def _critical_path(site: Path, page: Path) -> tuple[int, int]:
    """gzip bytes of the page's HTML, and of HTML plus every stylesheet and script it loads."""
    html = page.read_bytes()
    total = _gz(html)
    refs = re.findall(rb'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"|<script[^>]*src="([^"]+)"', html)
    for a, b in refs:
        ref = (a or b).decode().split("?")[0]
        target = (page.parent / ref).resolve()
        if target.is_file() and site.resolve() in target.parents:
            total += _gz(target.read_bytes())
    return _gz(html), total


def _search_transfer(site: Path, queries: list[str]) -> dict[str, int]:
    """Bytes fetched from pagefind/ for one query from a cold cache, as the search page makes it (every bundle
    merged, the top five results' data), measured in Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {}
    import functools
    import threading
    from http.server import ThreadingHTTPServer

    from portal.serve import SiteHandler

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SiteHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    found: dict[str, int] = {}
    args = ["--no-sandbox", "--headless", "--disable-background-networking", "--disable-gpu"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        for query in queries:
            context = browser.new_context()
            page = context.new_page()
            page.goto(base + "404.html")  # a page without the search box: nothing of Pagefind loaded yet
            page.wait_for_load_state("networkidle")
            sizes: list[int] = []
            page.on(
                "response",
                lambda r, sizes=sizes: sizes.append(len(r.body())) if "/pagefind/" in r.url else None,
            )
            page.evaluate(
                """async (q) => { const pf = await import('/pagefind/pagefind.js');
                   const shards = await (await fetch('/pagefind/shards.json')).json();
                   for (const shard of shards) await pf.mergeIndex('/pagefind/' + shard);
                   const r = await pf.search(q); await Promise.all(r.results.slice(0, 5).map(x => x.data()));
                   return r.results.length; }""",
                query,
            )
            page.wait_for_timeout(300)
            found[query] = sum(sizes)
            context.close()
        browser.close()
    server.shutdown()
    return found


def main() -> None:
    """Build N services with the generator and bare mkdocs, then write the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=ROOT / "docs/performance.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp), args.services - SHIPPED)
        portal = str(Path(sys.executable).with_name("portal"))
        mkdocs = str(Path(sys.executable).with_name("mkdocs"))
        ours, _, printed = _run(
            [portal, "build", "--today", "2026-11-23", "--timings", "--keep-markdown", "md"], project
        )
        stages = dict(re.findall(r"(\w+) ([\d.]+) 秒", printed.split("各阶段：")[1]))
        peaks = re.findall(r"峰值内存 (\d+) MiB（搜索索引进程 (\d+) MiB", printed)[0]
        bare, bare_rss, _ = _run([mkdocs, "build", "-q", "-d", str(project / "bare")], project / "md")
        config = (project / "md/mkdocs.yml").read_text(encoding="utf-8")
        (project / "md/mkdocs-search.yml").write_text(config.replace("plugins: []", "plugins: [search]"))
        lunr, lunr_rss, _ = _run(
            [mkdocs, "build", "-q", "-f", "mkdocs-search.yml", "-d", str(project / "lunr")], project / "md"
        )
        site = project / "site"
        pages = len(list(site.rglob("index.html")))
        html_gz, critical_gz = _critical_path(site, site / "services/JY-001/index.html")
        biggest = max(_gz(p.read_bytes()) for p in (site / "services").glob("*/index.html"))
        lunr_index = (project / "lunr/search/search_index.json").stat().st_size
        pagefind_total = sum(p.stat().st_size for p in (site / "pagefind").rglob("*") if p.is_file())
        search = _search_transfer(site, ["登记", "身份证"])
    kib = 1024
    rows = [
        ("services / pages built", f"{args.services} / {pages}"),
        ("generator: `portal build` wall time", f"{ours:.0f} s ({ours / pages * 1000:.1f} ms per page)"),
        ("generator: stages (s)", ", ".join(f"{k} {float(v):.0f}" for k, v in stages.items())),
        ("generator without search (all stages but pagefind)", f"{ours - float(stages['pagefind']):.0f} s"),
        ("peak memory: generator process / Pagefind process", f"{peaks[0]} MiB / {peaks[1]} MiB"),
        (
            "bare mkdocs-material, same Markdown, no search",
            f"{bare:.0f} s ({bare / pages * 1000:.1f} ms/page), {bare_rss} MiB",
        ),
        (
            "bare mkdocs-material with its lunr search",
            f"{lunr:.0f} s ({lunr / pages * 1000:.1f} ms/page), {lunr_rss} MiB",
        ),
        ("generator ÷ bare (no search)", f"{ours / bare:.2f}"),
        ("generator without search ÷ bare (no search)", f"{(ours - float(stages['pagefind'])) / bare:.2f}"),
        ("generator ÷ bare with lunr search", f"{ours / lunr:.2f}"),
        ("service page JY-001, gzip HTML", f"{html_gz / kib:.1f} KB"),
        ("largest service page, gzip HTML", f"{biggest / kib:.1f} KB"),
        ("JY-001 critical path (HTML + CSS + JS), gzip", f"{critical_gz / kib:.1f} KB"),
        ("lunr index (search_index.json), raw", f"{lunr_index / kib / kib:.1f} MB"),
        ("Pagefind bundle on disk, all files", f"{pagefind_total / kib / kib:.1f} MB"),
    ]
    rows += [
        (f"one query 「{q}」: bytes fetched from pagefind/ (cold, all bundles merged)", f"{n / kib:.0f} KB")
        for q, n in search.items()
    ]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    # The other benchmarks keep their own "## " sections of the page: only the build's opening part is rewritten.
    page = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    rest = page[page.find("\n## ") :] if "\n## " in page else ""
    args.out.write_text(
        f"# Performance\n\nMeasured by `make bench` (`python -m bench.build --services {args.services}`) on "
        f"{date.today()}, {platform.machine()}, {_cores()} cores, Python {platform.python_version()}. "
        "Synthetic services are clones of the shipped 失业登记 guide (`bench/synth.py`). Timings on a shared "
        "machine vary by ±20 %; compare ratios from the same run.\n\n"
        f"| figure | value |\n|---|---|\n{table}\n{rest}",
        encoding="utf-8",
    )
    print(args.out.read_text(encoding="utf-8"))


def _cores() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
