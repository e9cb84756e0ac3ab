"""What the multi-process benchmarks share: gunicorn hosts and nginx in a temporary folder, complaints sent over
HTTP as a careful integration would send them, and their receipts checked against the database.

Used by bench/crash.py and bench/multiserver.py and their tests. Loopback only; every wait is bounded."""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import json
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
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.synth import ROOT

GUNICORN_CONF = ROOT / "deploy/gunicorn.conf.py"
NGINX_CONF = ROOT / "deploy/nginx.conf"
API_CLIENT = "bench"  # the integration's name in PORTAL_API_KEYS
TARGET = "window:county-hall:1"
# Bench only: nginx takes the client's address from this header (real_ip), so one machine can stand for many
# citizens. Production has no such header: there nginx's own $remote_addr is the citizen's address.
CLIENT_HEADER = "X-Bench-Client"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


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
        raise BenchError(f"deploy/nginx.conf: found nothing matching {pattern!r}; update bench/hosts.py")
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
        return f"""# Generated by bench/hosts.py from deploy/nginx.conf; do not edit.
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
    # Bench only: many citizens from one machine (see CLIENT_HEADER in bench/hosts.py).
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


# ------------------------------------------------------------------ HTTP


@dataclass(frozen=True)
class Reply:
    """One HTTP answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    seconds: float = 0.0

    def json(self) -> Any:
        """The body as JSON (None if it is not)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def text(self) -> str:
        """The body as text."""
        return self.body.decode("utf-8", "replace")


def request(
    host: str,
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> Reply:
    """One request on a connection of its own."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    started = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        answer = conn.getresponse()
        data = answer.read()
        return Reply(answer.status, dict(answer.getheaders()), data, time.perf_counter() - started)
    finally:
        conn.close()


def get(host: str, port: int, path: str, headers: Mapping[str, str] | None = None, timeout: float = 30) -> Reply:
    """GET on a connection of its own."""
    return request(host, port, "GET", path, headers=headers, timeout=timeout)


def post_json(base: str, path: str, data: Mapping[str, Any], headers: Mapping[str, str], timeout: float = 30) -> Reply:
    """POST a JSON body to http://host:port (`base`)."""
    parsed = urllib.parse.urlsplit(base)
    assert parsed.hostname is not None and parsed.port is not None
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return request(
        parsed.hostname, parsed.port, "POST", path, body,
        {"Content-Type": "application/json", **headers}, timeout,
    )  # fmt: skip


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """A browser without JavaScript: keeps cookies, follows no redirect, and (through nginx) a citizen's address."""

    def __init__(self, base: str, address: str | None = None) -> None:
        self.base = base
        self.address = address
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def open(self, path: str, data: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None) -> Reply:
        """GET, or POST `data` as a form; any status is an answer."""
        sent = {**({CLIENT_HEADER: self.address} if self.address else {}), **(headers or {})}
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        started = time.perf_counter()
        try:
            with self.opener.open(urllib.request.Request(self.base + path, data=body, headers=sent), timeout=30) as r:
                return Reply(r.status, dict(r.headers.items()), r.read(), time.perf_counter() - started)
        except urllib.error.HTTPError as exc:
            with exc:
                return Reply(exc.code, dict(exc.headers.items()), exc.read(), time.perf_counter() - started)

    def hidden(self, path: str) -> dict[str, str]:
        """The page's hidden form fields (CSRF token, form token)."""
        html = self.open(path).text()
        return dict(re.findall(r'<input[^>]*name="(csrf_token|token)"[^>]*value="([^"]*)"', html))


# ------------------------------------------------------------------ complaints under load


@dataclass
class Complaint:
    """One complaint an integration sends, and what it was told."""

    index: int
    key: str  # Idempotency-Key: one per complaint, resent unchanged with every retry
    body: dict[str, Any]
    status: int | None = None  # 201 (created) or 200 (a retry answered with the first receipt); else the refusal
    receipt_no: str | None = None
    query_code: str | None = None
    attempts: int = 0

    @property
    def acknowledged(self) -> bool:
        """The client holds a receipt."""
        return self.receipt_no is not None


def make_complaints(count: int, label: str) -> list[Complaint]:
    """`count` distinct complaints; each matter names its key, so a stored row can be matched to its complaint."""
    made = []
    for i in range(count):
        key = uuid.uuid4().hex
        body = {"target": TARGET, "matter": f"{label}第{i + 1}件：一号窗口排队两小时，工作人员离岗（{key}）",
                "name": f"测试{i + 1}", "phone": f"138{i:08d}", "consent": True}  # fmt: skip
        made.append(Complaint(i, key, body))
    return made


def _kind(exc: BaseException) -> str:
    """A failed attempt, named for the figures."""
    if isinstance(exc, http.client.RemoteDisconnected):
        return "connection closed, no answer"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, BrokenPipeError):
        return "broken pipe"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, http.client.IncompleteRead):
        return "answer cut short"
    return type(exc).__name__


@dataclass
class Load:
    """What the clients saw."""

    complaints: list[Complaint]
    seconds: float
    errors: Counter[str] = field(default_factory=Counter)  # failed attempts by kind, retried with the same key

    def count(self, status: int) -> int:
        """Complaints acknowledged (or finally refused) with this status."""
        return sum(1 for c in self.complaints if c.status == status)

    @property
    def acknowledged(self) -> int:
        """Complaints the client holds a receipt for."""
        return sum(1 for c in self.complaints if c.acknowledged)

    @property
    def refused(self) -> int:
        """Complaints finally answered with a status that is neither a receipt nor worth a retry."""
        return sum(1 for c in self.complaints if c.status is not None and not c.acknowledged)

    @property
    def gave_up(self) -> int:
        """Complaints still without an answer when the client's patience ran out."""
        return sum(1 for c in self.complaints if c.status is None)


class Sender:
    """Integration clients: each thread posts complaints one after another over a kept-alive connection; a
    connection error or a 429/5xx is retried with the same Idempotency-Key, with backoff, until `patience`."""

    def __init__(
        self,
        base: str,
        api_key: str,
        clients: int,
        headers: Callable[[Complaint], Mapping[str, str]] | None = None,
        patience: float = 60,
        abort: threading.Event | None = None,
    ) -> None:
        parsed = urllib.parse.urlsplit(base)
        assert parsed.hostname is not None and parsed.port is not None
        self.host, self.port = parsed.hostname, parsed.port
        self.api_key = api_key
        self.clients = clients
        self.headers = headers or (lambda _c: {})
        self.patience = patience
        self.abort = abort or threading.Event()  # set by whoever sees the test cannot go on (a host died)
        self.errors: Counter[str] = Counter()
        self.acknowledged = 0
        self._lock = threading.Lock()
        self._queue: list[Complaint] = []

    def run(self, complaints: list[Complaint]) -> Load:
        """Send every complaint; returns when each is acknowledged, refused or given up."""
        self._queue = list(reversed(complaints))
        started = time.monotonic()
        threads = [threading.Thread(target=self._client, name=f"client-{n}") for n in range(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return Load(complaints, time.monotonic() - started, Counter(self.errors))

    def _next(self) -> Complaint | None:
        with self._lock:
            return self._queue.pop() if self._queue and not self.abort.is_set() else None

    def _failed(self, kind: str) -> None:
        with self._lock:
            self.errors[kind] += 1

    def _client(self) -> None:
        conn: http.client.HTTPConnection | None = None
        try:
            while (complaint := self._next()) is not None:
                conn = self._send(complaint, conn)
        except Exception as exc:  # never lose a thread silently: the figures must show it
            self._failed(f"client crashed: {type(exc).__name__}: {exc}")
        finally:
            if conn is not None:
                conn.close()

    def _send(self, c: Complaint, conn: http.client.HTTPConnection | None) -> http.client.HTTPConnection | None:
        body = json.dumps(c.body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "X-API-Key": self.api_key, "Idempotency-Key": c.key,
                   **self.headers(c)}  # fmt: skip
        deadline = time.monotonic() + self.patience
        while time.monotonic() < deadline and not self.abort.is_set():
            c.attempts += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                conn.request("POST", "/api/v1/complaints", body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                if answer.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                self._failed(_kind(exc))
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(self._backoff(c.attempts))
                continue
            if answer.status in (200, 201):
                reply = json.loads(data)
                c.status, c.receipt_no, c.query_code = answer.status, reply["receipt_no"], reply["query_code"]
                with self._lock:
                    self.acknowledged += 1
                return conn
            self._failed(f"HTTP {answer.status}")
            if answer.status not in RETRY_STATUSES:
                c.status = answer.status
                return conn
            wait = float(answer.getheader("Retry-After") or 0) if answer.status == 429 else 0.0
            time.sleep(max(wait, self._backoff(c.attempts)))
        return conn

    @staticmethod
    def _backoff(attempt: int) -> float:
        return min(1.0, 0.05 * 2 ** min(attempt, 10)) * random.uniform(0.5, 1.0)


# ------------------------------------------------------------------ what the database holds


@dataclass
class Check:
    """Acknowledged receipts against the rows: what was lost, altered or stored twice, and the database's health."""

    acknowledged: int = 0
    lost: int = 0  # acknowledged, but no row
    altered: int = 0  # a row, but not the receipt number, query code or content the client was given
    duplicates: int = 0  # rows beyond one per complaint (per Idempotency-Key)
    rows: int = 0  # rows of these complaints
    unacknowledged_rows: int = 0  # committed, but the client never heard (it gave up); not a loss
    without_audit: int = 0  # cases without exactly one 'submit' audit row (same transaction as the case)
    integrity: str = "?"
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing lost, altered or doubled, every case audited, and the database sound."""
        bad = self.lost or self.altered or self.duplicates or self.without_audit
        return not bad and self.integrity == "ok"

    def note(self, problem: str) -> None:
        """Keep the first few details for the report."""
        if len(self.problems) < 10:
            self.problems.append(problem)


def check_receipts(database_url: str, keys: Keys, complaints: Sequence[Complaint]) -> Check:
    """Every acknowledged complaint must be stored once, with the receipt and content the client was given."""
    from sqlalchemy import create_engine, text

    vault = keys.vault()
    check = Check(acknowledged=sum(1 for c in complaints if c.acknowledged))
    by_matter = {c.body["matter"]: c for c in complaints}
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, receipt_no, matter, name_enc, phone_enc, query_hash FROM cases")).all()
            found = conn.execute(
                text("SELECT case_id, count(*) FROM case_events WHERE action = 'submit' GROUP BY case_id")
            ).all()
            audits: dict[int, int] = {row[0]: row[1] for row in found}
        check.integrity = integrity(engine)
    finally:
        engine.dispose()
    stored: dict[str, list[Any]] = {}
    for row in rows:
        if row.matter in by_matter:
            stored.setdefault(row.matter, []).append(row)
    check.rows = sum(len(found) for found in stored.values())
    for matter, found in stored.items():
        check.duplicates += len(found) - 1
        if len(found) > 1:
            check.note(f"{len(found)} rows for key {by_matter[matter].key}")
        for row in found:
            if audits.get(row.id, 0) != 1:
                check.without_audit += 1
                check.note(f"case {row.receipt_no}: {audits.get(row.id, 0)} submit audit rows")
    for c in complaints:
        found = stored.get(c.body["matter"], [])
        if not c.acknowledged:
            check.unacknowledged_rows += len(found[:1])
            continue
        if not found:
            check.lost += 1
            check.note(f"receipt {c.receipt_no} (key {c.key}) is not in the database")
            continue
        row = found[0]
        same = (
            row.receipt_no == c.receipt_no
            and vault.matches(c.query_code or "", row.query_hash)
            and vault.open(row.name_enc) == c.body["name"]
            and vault.open(row.phone_enc) == c.body["phone"]
        )
        if not same:
            check.altered += 1
            check.note(f"receipt {c.receipt_no} (key {c.key}): the row says {row.receipt_no}, or other content")
    return check


def integrity(engine: Any) -> str:
    """'ok', or what is wrong: SQLite's integrity and foreign-key checks; on PostgreSQL the unique columns, the
    audit rows' cases and (with amcheck) every B-tree index of the cases and their audit rows."""
    from sqlalchemy import text

    problems: list[str] = []
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            result = [r[0] for r in conn.execute(text("PRAGMA integrity_check")).all()]
            if result != ["ok"]:
                problems.append("integrity_check: " + "; ".join(result[:3]))
            if conn.execute(text("PRAGMA foreign_key_check")).first() is not None:
                problems.append("foreign_key_check found rows without their parent")
            return "; ".join(problems) or "ok"
        for column in ("receipt_no", "submission_token"):
            twice = conn.execute(
                text(
                    f"SELECT count(*) FROM (SELECT {column} FROM cases WHERE {column} IS NOT NULL "
                    f"GROUP BY {column} HAVING count(*) > 1) AS d"
                )
            ).scalar()
            if twice:
                problems.append(f"{twice} values of cases.{column} stored twice")
        orphans = conn.execute(
            text("SELECT count(*) FROM case_events e LEFT JOIN cases c ON c.id = e.case_id WHERE c.id IS NULL")
        ).scalar()
        if orphans:
            problems.append(f"{orphans} audit rows without their case")
        problems += _amcheck(conn)
        conn.commit()
    return "; ".join(problems) or "ok"


def _amcheck(conn: Any) -> list[str]:
    """bt_index_check on the cases' and audit rows' indexes, if PostgreSQL's amcheck extension is there."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    had = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'")).first() is not None
    try:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
    except DBAPIError:
        conn.rollback()
        return []  # not installed: the counts above are the check
    problems = []
    indexes = conn.execute(
        text(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_am a ON a.oid = c.relam "
            "WHERE t.relname IN ('cases', 'case_events') AND a.amname = 'btree'"
        )
    ).scalars()
    for name in indexes:
        try:
            conn.execute(text("SELECT bt_index_check(CAST(:name AS regclass), true)"), {"name": name})
        except DBAPIError as exc:
            problems.append(f"index {name}: {str(exc.orig).splitlines()[0]}")
            conn.rollback()
    if not had:
        conn.execute(text("DROP EXTENSION IF EXISTS amcheck"))
    return problems


# ------------------------------------------------------------------ reports


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
