"""Serving the built site locally, and the editors' preview that rebuilds on change."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, cast

import click
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from core.errors import PortalError


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files with a quiet log and the right type for Pagefind's files."""

    extensions_map: ClassVar[dict[str, str]] = {  # type: ignore[misc]  # typeshed declares it per instance
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".json": "application/json",
        ".wasm": "application/wasm",
        ".pf_meta": "application/octet-stream",
    }

    def log_message(self, format: str, *args: object) -> None:
        """Requests are not worth a line each; errors still are."""
        if args and str(args[1] if len(args) > 1 else "").startswith(("4", "5")):
            super().log_message(format, *args)


def _built(out: Path) -> None:
    """Serving needs a built site."""
    if not (out / "index.html").exists():
        raise PortalError(f"网站目录 {out} 不存在或未生成，请先运行 portal build")


def _bind(host: str, port: int, make: Callable[[], Any]) -> Any:
    """A server made by `make`; an address that cannot be bound is said in one line."""
    try:
        return make()
    except OSError as exc:
        raise PortalError(f"无法在 {host}:{port} 提供服务：{exc.strerror}") from exc


def _until_interrupted(run: Callable[[], object], close: Callable[[], object]) -> None:
    """Run a server until Ctrl+C, then close it."""
    try:
        run()
    except KeyboardInterrupt:
        click.echo("已停止。")
    finally:
        close()


def make_server(out: Path, host: str, port: int, built: bool = True) -> ThreadingHTTPServer:
    """An HTTP server for the site folder (looked up per request, so swaps are seen); `built`: it must exist."""
    if built:
        _built(out)
    handler = functools.partial(SiteHandler, directory=str(out.resolve()))
    return cast(ThreadingHTTPServer, _bind(host, port, lambda: ThreadingHTTPServer((host, port), handler)))


def serve_site(out: Path, host: str, port: int) -> None:
    """Serve until Ctrl+C."""
    server = make_server(out, host, port)
    click.echo(f"网站已在 http://{host}:{port}/ 提供，按 Ctrl+C 停止。")
    _until_interrupted(server.serve_forever, server.server_close)


def make_app_server(content: Path, config: Path, out: Path, host: str, port: int) -> Any:
    """A waitress server for the site and the backend, configured from the backend's settings (settings.py)."""
    import waitress

    from forms_api import create_app
    from forms_api.settings import waitress_options

    _built(out)
    app = create_app({"PORTAL_CONTENT": str(content), "PORTAL_SITE_CONFIG": str(config), "PORTAL_SITE_DIR": str(out)})
    options = waitress_options(app.extensions["settings"])
    return _bind(host, port, lambda: waitress.create_server(app, host=host, port=port, **options))


def serve_app(content: Path, config: Path, out: Path, host: str, port: int) -> None:
    """The site and the backend on one origin, with a production WSGI server (waitress), until Ctrl+C."""
    from forms_api import serving

    server = make_app_server(content, config, out, host, port)
    serving(server)  # once the app and the server around it are loaded
    click.echo(f"网站和在线服务已在 http://{host}:{port}/ 提供（工作人员后台 /staff/），按 Ctrl+C 停止。")
    _until_interrupted(server.run, server.close)


class _Changes(FileSystemEventHandler):
    """Sets a flag when a watched file changes."""

    def __init__(self, flag: threading.Event, only: Path | None = None) -> None:
        self.flag = flag
        self.only = only  # watching a single file through its folder

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in ("created", "modified", "deleted", "moved"):
            return
        paths = {
            Path(str(event.src_path)).resolve(),
            Path(str(getattr(event, "dest_path", "") or event.src_path)).resolve(),
        }
        if self.only is None or self.only.resolve() in paths:
            self.flag.set()


def preview_site(
    out: Path,
    host: str,
    port: int,
    watch: list[Path],
    rebuild: Callable[[], None],
    settle: float = 0.1,
    stop: threading.Event | None = None,
) -> None:
    """Build, serve, and rebuild (debounced) whenever a watched path changes, until Ctrl+C or `stop`; until a build
    succeeds there is nothing to serve, but the preview goes on waiting for the fix."""
    stop = stop or threading.Event()
    rebuild()
    server = make_server(out, host, port, built=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    flag = threading.Event()
    observer = Observer()
    for path in watch:
        if path.is_dir():
            observer.schedule(_Changes(flag), str(path), recursive=True)
        else:
            observer.schedule(_Changes(flag, only=path), str(path.resolve().parent), recursive=False)
    observer.start()
    click.echo(f"预览：http://{host}:{port}/ ，修改 {'、'.join(map(str, watch))} 后自动重新生成，按 Ctrl+C 停止。")
    try:
        while not stop.is_set():
            if flag.wait(timeout=0.2):
                time.sleep(settle)  # editors save several files at once
                flag.clear()
                rebuild()
    except KeyboardInterrupt:
        click.echo("已停止预览。")
    finally:
        observer.stop()
        server.shutdown()
        server.server_close()
