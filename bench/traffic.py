"""Complaints sent over HTTP as a careful integration would send them, and a browser without JavaScript."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

TARGET = "window:county-hall:1"
# Bench only: nginx takes the client's address from this header (real_ip), so one machine can stand for many
# citizens. Production has no such header: there nginx's own $remote_addr is the citizen's address.
CLIENT_HEADER = "X-Bench-Client"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


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
