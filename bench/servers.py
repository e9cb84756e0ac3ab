"""Gunicorn hosts and nginx for the multi-process benchmarks: ports, keys, host environment, databases, Redis."""

from __future__ import annotations

import contextlib
import http.client
import os
import pwd
import random
import re
import runpy
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench.synth import ROOT
from bench.traffic import CLIENT_HEADER, get

GUNICORN_CONF = ROOT / "deploy/gunicorn.conf.py"
NGINX_CONF = ROOT / "deploy/nginx.conf"
API_CLIENT = "bench"  # the integration's name in PORTAL_API_KEYS


class BenchError(RuntimeError):
    """A host or nginx could not be started, or the setup is wrong."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log, for an error message."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def gunicorn_settings() -> dict[str, Any]:
    """deploy/gunicorn.conf.py's settings, as gunicorn reads them."""
    return {k: v for k, v in runpy.run_path(str(GUNICORN_CONF)).items() if not k.startswith("_")}


# ------------------------------------------------------------------ settings shared by every host


@dataclass(frozen=True)
class Keys:
    """The secrets every host of one deployment shares (the same environment on every host)."""

    secret: str
    encryption: str
    api: str

    @classmethod
    def generate(cls) -> Keys:
        """Fresh keys for one run."""
        from cryptography.fernet import Fernet

        return cls(secrets.token_urlsafe(48), Fernet.generate_key().decode("ascii"), secrets.token_urlsafe(24))

    def vault(self) -> Any:
        """The app's encryption helper with these keys: reads what the hosts sealed."""
        from forms_api.privacy import Vault

        return Vault(self.encryption.encode("ascii"), self.secret.encode("utf-8"))


def host_env(workdir: Path, database_url: str, storage_uri: str, keys: Keys, **more: str) -> dict[str, str]:
    """The environment of a host: this process's, minus any portal setting, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "DATABASE_URL", "RATELIMIT_"))}
    env.update(
        DATABASE_URL=database_url,
        RATELIMIT_STORAGE_URI=storage_uri,
        PORTAL_SECRET_KEY=keys.secret,
        PORTAL_ENCRYPTION_KEY=keys.encryption,
        PORTAL_API_KEYS=f"{API_CLIENT}:{keys.api}",
        PORTAL_INSTANCE=str(workdir / "instance"),
        PORTAL_CONTENT=str(ROOT / "content"),
        PORTAL_SITE_CONFIG=str(ROOT / "site_config.yml"),
        PORTAL_SITE_DIR=str(workdir / "no-site"),  # nginx serves the site; the hosts only the backend
    )
    env.update(more)
    return env


def app_overrides(env: Mapping[str, str]) -> dict[str, str]:
    """The portal settings of a host environment, as `create_app` overrides (to work on the same database)."""
    from forms_api.settings import SETTINGS

    names = {s.env for s in SETTINGS}
    return {k: v for k, v in env.items() if k in names}


@contextlib.contextmanager
def postgres_database(server: str, prefix: str) -> Iterator[str]:
    """A database of our own on the PostgreSQL server `server` (any database URL on it), dropped at the end."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"portal_{prefix}_{os.getpid()}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def clear_limits(redis_url: str) -> int:
    """Delete the rate-limit counters (the `limits` library's LIMITS:* keys) from a Redis database."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        found = list(client.scan_iter(match="LIMITS*", count=1000))
        if found:
            client.delete(*found)
        return len(found)
    finally:
        client.close()


# ------------------------------------------------------------------ processes


def _children(pid: int) -> list[int]:
    """Live processes whose parent is `pid` (gunicorn's workers of a master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


class Gunicorn:
    """One application host: gunicorn with deploy/gunicorn.conf.py (its own port), logs in the work folder."""

    APP = "forms_api.wsgi:app"  # what gunicorn loads; a diagnosis run may point it at a wrapper

    def __init__(self, name: str, workdir: Path, env: Mapping[str, str], workers: int | None = None) -> None:
        self.name = name
        self.env = dict(env)
        self.workers = workers or int(gunicorn_settings()["workers"])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access_log = workdir / f"{name}.access.log"
        self.error_log = workdir / f"{name}.error.log"
        self.control = workdir / f"{name}.ctl"  # gunicorn 27's default (~/.gunicorn/gunicorn.ctl) is shared
        self.process: subprocess.Popen[bytes] | None = None
        self._files: list[IO[bytes]] = []

    def start(self, timeout: float = 90) -> Gunicorn:
        """Start and wait until the app answers and every worker is up."""
        command = [
            sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers), "--forwarded-allow-ips", "127.0.0.1",
            "--control-socket", str(self.control), self.APP,
        ]  # fmt: skip
        self._files = [self.access_log.open("ab"), self.error_log.open("ab")]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self._files[0], stderr=self._files[1], start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._close_files()
                raise BenchError(f"gunicorn {self.name} exited ({self.process.returncode}):\n{tail(self.error_log)}")
            if self.answers() and len(self.worker_pids()) >= self.workers:
                return self
            time.sleep(0.2)
        self.stop()
        raise BenchError(f"gunicorn {self.name} did not answer within {timeout:.0f} s:\n{tail(self.error_log)}")

    def answers(self, timeout: float = 2) -> bool:
        """Whether the app answers a cheap request now."""
        try:
            return get("127.0.0.1", self.port, "/api/v1/openapi.json", timeout=timeout).status == 200
        except (OSError, http.client.HTTPException):
            return False

    @property
    def pid(self) -> int:
        """The master's process id."""
        assert self.process is not None
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """The workers alive now."""
        return _children(self.pid) if self.process is not None else []

    def kill_worker(self, rng: random.Random) -> int | None:
        """SIGKILL one worker chosen at random (the master starts another); its pid, or None if none was up."""
        pids = self.worker_pids()
        if not pids:
            return None
        pid = rng.choice(pids)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return pid

    def kill_host(self) -> int:
        """SIGKILL the master and every worker at once, as a host losing power would; how many processes."""
        assert self.process is not None
        count = 1 + len(self.worker_pids())
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        return count

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), or by force after graceful_timeout; idempotent."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # workers orphaned by a killed master
        self._close_files()

    def _close_files(self) -> None:
        for handle in self._files:
            handle.close()
        self._files = []

    def served(self, pattern: str) -> int:
        """Access-log lines matching a regular expression, e.g. '"GET /staff/ HTTP/1.1" 200'."""
        if not self.access_log.exists():
            return 0
        wanted = re.compile(pattern)
        return sum(1 for line in self.access_log.read_text(encoding="utf-8").splitlines() if wanted.search(line))

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def nginx_binary() -> str | None:
    """Debian's nginx, if installed (it lives in /usr/sbin, often not on a user's PATH)."""
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found if os.access(found, os.X_OK) else None


def _replace(text: str, pattern: str, new: str | Callable[[re.Match[str]], str], flags: int = 0) -> str:
    """re.sub that fails loudly when deploy/nginx.conf no longer has the part the bench rewrites."""
    result, count = re.subn(pattern, new, text, flags=flags)
    if not count:
        raise BenchError(f"deploy/nginx.conf: found nothing matching {pattern!r}; update bench/servers.py")
    return result


def nginx_site(shipped: str, port: int, upstreams: Sequence[str], root: Path) -> str:
    """deploy/nginx.conf for a bench: its upstream, limits, timeouts, locations and proxy settings as shipped,
    but plain HTTP on 127.0.0.1:`port`, `upstreams` as the hosts and `root` as the site."""

    def hosts(match: re.Match[str]) -> str:
        lines = match.group(2).splitlines(keepends=True)
        servers = [line for line in lines if re.match(r"\s*server\s", line)]
        template = servers[0]
        address = re.search(r"server\s+(\S+?)[\s;]", template)
        assert address is not None
        new = [template.replace(address.group(1), up, 1).split("#")[0].rstrip() + "\n" for up in upstreams]
        kept = [line for line in lines if line not in servers]
        return match.group(1) + "".join(new) + "".join(kept) + match.group(3)

    text = _replace(shipped, r"(upstream portal_app \{\n)(.*?)(^\})", hosts, re.S | re.M)
    text = _replace(text, r"^server \{\n    listen 80;.*?^\}\n", "", re.S | re.M)  # the redirect to HTTPS
    text = _replace(text, r"listen\s+443[^;]*;", f"listen 127.0.0.1:{port};")
    text = _replace(text, r"^[ \t]*ssl_certificate(_key)?\s[^;]*;\n", "", re.M)
    text = _replace(text, r"^(\s*)root\s[^;]*;", lambda m: f"{m.group(1)}root {root};", re.M)
    return text


class Nginx:
    """nginx as a foreground process with its own prefix, configuration, pid and logs in a work folder."""

    def __init__(self, workdir: Path, upstreams: Sequence[str], site: Path, workers: int = 2) -> None:
        binary = nginx_binary()
        if binary is None:
            raise BenchError("nginx is not installed (Debian: apt-get install nginx-light)")
        self.binary = binary
        self.prefix = workdir / "nginx"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.upstreams = list(upstreams)
        self.site = site
        self.workers = workers
        self.access_log = self.prefix / "access.log"
        self.error_log = self.prefix / "error.log"
        self.conf = self.prefix / "nginx.conf"
        self.process: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        """The whole nginx.conf: a bench main/events/http frame around deploy/nginx.conf rewritten for loopback."""
        site = nginx_site(NGINX_CONF.read_text(encoding="utf-8"), self.port, self.upstreams, self.site)
        p = self.prefix
        user = ""
        if os.geteuid() == 0:  # workers would drop to `nobody`, who cannot use the temp folders below
            user = f"user {pwd.getpwuid(os.getuid()).pw_name};"
        temps = "\n".join(
            f"    {kind}_temp_path {p / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return f"""# Generated by bench/servers.py from deploy/nginx.conf; do not edit.
daemon off;
master_process on;
{user}
worker_processes {self.workers};
pid {p / "nginx.pid"};
lock_file {p / "nginx.lock"};
error_log {self.error_log} warn;
events {{
    worker_connections 2048;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
{temps}
    log_format bench '$remote_addr|$request|$status|$upstream_addr|$upstream_status|$request_time';
    access_log {self.access_log} bench;
    # Bench only: many citizens from one machine (see CLIENT_HEADER in bench/traffic.py).
    set_real_ip_from 127.0.0.1;
    real_ip_header {CLIENT_HEADER};

{site}
}}
"""

    def start(self, timeout: float = 20) -> Nginx:
        """Write the configuration, test it (nginx -t) and run nginx until it answers."""
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(self.config(), encoding="utf-8")
        base = [self.binary, "-p", str(self.prefix), "-c", str(self.conf), "-e", str(self.error_log)]
        checked = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=30)
        if checked.returncode != 0:
            raise BenchError(f"nginx -t refused the generated configuration:\n{checked.stderr}")
        self.process = subprocess.Popen(base, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"nginx exited ({self.process.returncode}):\n{tail(self.error_log)}")
            try:
                get("127.0.0.1", self.port, "/", timeout=1)
                return self
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
        self.stop()
        raise BenchError(f"nginx did not answer within {timeout:.0f} s:\n{tail(self.error_log)}")

    def stop(self) -> None:
        """Fast shutdown (SIGTERM) and wait; idempotent."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def served_by(self, pattern: str) -> Counter[str]:
        """Upstream addresses that answered access-log lines matching `pattern`, with counts."""
        wanted = re.compile(pattern)
        found: Counter[str] = Counter()
        if self.access_log.exists():
            for line in self.access_log.read_text(encoding="utf-8").splitlines():
                if wanted.search(line):
                    found[line.split("|")[3]] += 1
        return found

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
