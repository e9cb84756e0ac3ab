"""Build benchmark: the generator against a bare mkdocs-material build of the same Markdown.

Usage: python -m bench.build [--services 10000] [--sizes 100,1000] [--out docs/performance.md]
Writes the figures as a Markdown table; ratios matter more than seconds on a shared machine.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

from bench.synth import ROOT, make_project

SHIPPED = 27


def _tree(pid: int) -> list[int]:
    """A process and all its descendants (the forked mkdocs workers, Pagefind)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(c) for c in children.read_text().split()]
            except OSError:
                continue
    return found


def _pss_kib(pid: int) -> int:
    """Proportional set size: memory shared by forked processes is counted once over them all."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    found = re.search(r"^Pss:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) if found else 0


def _run(command: list[str], cwd: Path) -> tuple[float, int, str]:
    """Wall seconds, the peak memory of the whole process tree (MiB: the sum of every process's PSS, sampled
    every 50 ms), and what the command printed."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, text=True)
        peak = 0
        while process.poll() is None:
            peak = max(peak, sum(_pss_kib(pid) for pid in _tree(process.pid)))
            time.sleep(0.05)
        log.seek(0)
        printed = log.read()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command, printed)
    return time.perf_counter() - started, peak // 1024, printed


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(process: subprocess.Popen[str], text: str) -> str:
    """The first line `process` prints that holds `text`."""
    assert process.stdout is not None
    for line in process.stdout:
        if text in line:
            return line
    raise RuntimeError(f"portal preview stopped before printing {text!r}")


def _page(url: str) -> str:
    """The page at `url`, or nothing while it is being replaced."""
    try:
        with urllib.request.urlopen(url) as response:
            return str(response.read().decode("utf-8"))
    except urllib.error.URLError:
        return ""


def _preview(project: Path, portal: str, edits: int = 3) -> tuple[list[float], list[float]]:
    """`portal preview` as an editor runs it: after its first build, one guide saved `edits` times; for each, the
    seconds from saving to the page served with the change, and to the preview's report that the rebuild (its
    search index included) is done."""
    port = _free_port()
    command = [portal, "preview", "--today", "2026-11-23", "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # its lines as it prints them
    process = subprocess.Popen(
        command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    guide, url = project / "content/services/zz-00007.yml", f"http://127.0.0.1:{port}/services/ZZ-00007/"
    shown, done = [], []
    try:
        _wait_for(process, "预览：")  # the first build is served
        for i in range(edits):
            time.sleep(2)  # the editor reads the page before the next save
            mark, text = f"（预览第{i + 1}次，{time.time():.0f}）", guide.read_text(encoding="utf-8")
            saved = time.perf_counter()
            guide.write_text(text.replace("change_note: ", f"change_note: {mark}", 1), encoding="utf-8")
            while mark not in _page(url):
                time.sleep(0.01)
            shown.append(time.perf_counter() - saved)
            _wait_for(process, "已重新生成")
            done.append(time.perf_counter() - saved)
    finally:
        process.terminate()
        process.wait()
    return shown, done


def _edit_guide(project: Path) -> None:
    """One word of one guide, as an editor changes it: nothing any other page shows."""
    guide = project / "content/services/zz-00005.yml"
    guide.write_text(
        guide.read_text(encoding="utf-8").replace("change_note: ", "change_note: （改）"), encoding="utf-8"
    )


def _scale(services: int, portal: str, mkdocs: str) -> tuple[str, str]:
    """One row of the build at `services`: ours and bare mkdocs-material, time per page and peak memory."""
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp), services - SHIPPED)
        ours, ours_mib, _ = _run([portal, "build", "--today", "2026-11-23", "--keep-markdown", "md"], project)
        bare, bare_mib, _ = _run([mkdocs, "build", "-q", "-d", str(project / "bare")], project / "md")
        pages = len(list((project / "site").rglob("index.html")))
    return (
        f"{services:,} services ({pages:,} pages): ours / bare mkdocs-material",
        f"{ours / pages * 1000:.1f} / {bare / pages * 1000:.1f} ms per page (×{ours / bare:.2f}); "
        f"peak {ours_mib} / {bare_mib} MiB",
    )


def main() -> None:
    """Build N services with the generator and bare mkdocs, then write the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--sizes", default="100,1000", help="smaller sites to build beside it, ours and bare")
    parser.add_argument("--out", type=Path, default=ROOT / "docs/performance.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp), args.services - SHIPPED)
        portal = str(Path(sys.executable).with_name("portal"))
        mkdocs = str(Path(sys.executable).with_name("mkdocs"))
        ours, ours_mib, printed = _run(
            [portal, "build", "--today", "2026-11-23", "--timings", "--keep-markdown", "md"], project
        )
        stages = dict(re.findall(r"(\w+) ([\d.]+) 秒", printed.split("各阶段：")[1]))
        again, _, _ = _run([portal, "build", "--today", "2026-11-23"], project)
        _edit_guide(project)
        edited, _, edited_printed = _run([portal, "build", "--today", "2026-11-23", "--timings"], project)
        edited_stages = printed_stages(edited_printed)
        shown, done = _preview(project, portal)
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
        ("peak memory of the whole build (every process's PSS, summed)", f"{ours_mib} MiB"),
        ("rebuild, nothing changed (`portal build` again)", f"{again:.1f} s"),
        ("rebuild, one guide edited (`portal build`)", f"{edited:.1f} s ({edited_stages})"),
        (
            "one guide saved in `portal preview`: seconds until its page is served changed (3 saves)",
            " / ".join(f"{t:.1f}" for t in shown) + " s",
        ),
        (
            "… and until the preview's rebuild, search index included, is done",
            " / ".join(f"{t:.1f}" for t in done) + " s",
        ),
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
    rows += [_scale(int(n), portal, mkdocs) for n in args.sizes.split(",")]
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


def printed_stages(printed: str) -> str:
    """The stage timings `portal build --timings` printed, shortened."""
    found = re.findall(r"(\w+) ([\d.]+) 秒", printed.split("各阶段：")[1])
    return ", ".join(f"{k} {float(v):.1f}" for k, v in found) + " s"


def _cores() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
