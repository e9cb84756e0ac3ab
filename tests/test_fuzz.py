"""Fuzzing every public form and the JSON API: never a 5xx or a traceback; a record exactly when accepted.

CI runs a small, derandomised profile on SQLite. `make fuzz` sets PORTAL_FUZZ_EXAMPLES (10,000 per form) and
prints the figures per form; PORTAL_FUZZ_DATABASES=sqlite,postgresql adds PostgreSQL (needs PORTAL_TEST_POSTGRES).
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from forms_api.models import Base
from tests.conftest import ROOT, form_fields
from tests.factories import PASSWORD, make_case
from tests.factories import make_user as add_user

EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES") or 0)
DATABASES = [d.strip() for d in os.environ.get("PORTAL_FUZZ_DATABASES", "sqlite").split(",") if d.strip()]
API_KEY = "fuzz-key"
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
# CI: the same examples every run, no example database, 100 examples per form (the file stays well under a minute).
settings.register_profile("portal-fuzz-ci", max_examples=100, derandomize=True, database=None, deadline=None,
                          suppress_health_check=_QUIET, print_blob=True)  # fmt: skip
# `make fuzz`: fresh random examples every run, as many as PORTAL_FUZZ_EXAMPLES asks for.
settings.register_profile("portal-fuzz", parent=settings.get_profile("portal-fuzz-ci"),
                          max_examples=max(EXAMPLES, 1), derandomize=False)  # fmt: skip
PROFILE = settings.get_profile("portal-fuzz" if EXAMPLES else "portal-fuzz-ci")

# ------------------------------------------------------------------ what arbitrary input looks like
SPECIAL = ["\x00", "a\x00b", "\ud800", "\udfff", "\r\n", "\t", "\u202e", "\ufeff", "\u3000", "１３８１２３４５６７８",
           "１１０１０５１９４９１２３１００２Ｘ", "<script>alert(1)</script>", "' OR 1=1 --", "{{ 7*7 }}", "%00",
           "%ED%A0%80", "../../etc/passwd", "𠀀𠀁", "-1", "99999999999999999999", "1e999", "NaN",
           ""]  # fmt: skip
CHARS = st.one_of(
    st.characters(codec=None, exclude_categories=()),  # any code point but surrogates
    st.characters(categories=["Cs"]),  # lone surrogates
    st.sampled_from("\x00\r\n\t ０１２３４５６７８９－Ｘ<>&\"'%"),  # NUL, line breaks, full-width digits, HTML
)
# Built, not listed: a strategy's repr shows its values, and a 5,000-digit one would fill every report.
DIGITS = st.integers(4_000, 5_000).map(lambda n: "9" * n)  # past int()'s 4,300-digit limit
SHORT = st.one_of(st.text(CHARS, max_size=60), st.sampled_from(SPECIAL), DIGITS)
HUGE = st.builds(lambda s, n: s * n, st.text(CHARS, min_size=1, max_size=4), st.integers(200, 25_000))
# Huge values (up to ~100 KB, past the 64 KB cap) one time in eight; one_of() would drop repeated branches.
TEXT = st.integers(0, 7).flatmap(lambda i: HUGE if i == 0 else SHORT)
HEADER = TEXT.map(lambda s: s.replace("\r", "").replace("\n", "")[:2000])  # HTTP cannot carry CR or LF
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def _fields(valid: dict[str, st.SearchStrategy[Any]], value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A valid submission with some fields replaced by arbitrary values, some left out and some added."""
    names = sorted(valid)

    def build(parts: tuple[dict[str, Any], dict[str, Any], set[str], dict[str, Any]]) -> dict[str, Any]:
        good, replaced, dropped, extra = parts
        return {k: v for k, v in {**extra, **good, **replaced}.items() if k not in dropped}

    return st.tuples(
        st.fixed_dictionaries(valid),
        st.dictionaries(st.sampled_from(names), value, max_size=len(names)),
        st.sets(st.sampled_from(names), max_size=len(names)),
        st.dictionaries(TEXT, value, max_size=3),
    ).map(build)


TARGETS = st.sampled_from(["window:county-hall:1", "post:jiuye-dengji", "service:JY-001", "other", ""])
PHONES = st.sampled_from(["13812345678", "１３８ １２３４ ５６７８", "0575-86123400", "12345"])
COMPLAINT = {"target": TARGETS, "target_text": st.just("大厅门口保安"), "matter": st.just("排队两小时无人办理"),
             "demand": st.just("希望改进"), "name": st.just("张三"), "phone": PHONES,
             "id_number": st.sampled_from(["11010519491231002X", "11010519491231002x", "110105194912310021"]),
             "consent": st.just("y")}  # fmt: skip
SUGGESTION = {"target": TARGETS, "content": st.just("建议增加自助机"), "name": st.just("李四"), "phone": PHONES,
              "consent": st.just("y")}  # fmt: skip
EVALUATION = {"target": TARGETS, "level": st.sampled_from(["1", "2", "3", "5", "0", "6"]),
              "reason": st.just("等了很久")}  # fmt: skip
LOGIN = {"username": st.sampled_from(["boss", "BOSS ", "ｂｏｓｓ", "nobody"]), "password": st.just(PASSWORD)}
API_COMPLAINT = {"target": TARGETS, "target_text": st.just("保安"), "matter": st.just("排队两小时"),
                 "demand": st.just("改进"), "name": st.just("赵六"), "phone": PHONES,
                 "id_number": st.just("11010519491231002X"), "consent": st.just(True)}  # fmt: skip
API_EVALUATION = {"target": TARGETS, "level": st.sampled_from([1, 2, 3, 5]), "reason": st.just("推诿")}
# A retry key: none, one from a handful (so keys repeat across examples), arbitrary, or just over the limit.
RETRY_KEY = st.one_of(st.none(), st.sampled_from(["k1", "k2", "k3"]), HEADER, st.just("k" * 41))
CSRF = st.sampled_from(["valid"] * 8 + ["missing", "forged"])
CONTENT_TYPES = st.sampled_from(["application/json"] * 8 + ["text/plain", "application/json; charset=latin-1"])


# ------------------------------------------------------------------ the app, once per database
@dataclass
class Hall:
    """The app under test, the numbers of its seeded cases, and the figures collected per form."""

    app: Flask
    database: str
    cases: list[tuple[str, str]]  # (receipt number, query code) of cases a citizen may act on
    figures: dict[str, Counter[str]] = field(default_factory=dict)

    def rows(self) -> dict[str, int]:
        """Rows per table, to compare before and after a request."""
        with self.app.extensions["sessions"]() as session:
            return {
                t.name: session.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables
            }


@pytest.fixture(scope="module", params=DATABASES)
def hall(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    """One app per database for the whole module: Hypothesis runs hundreds of examples against it."""
    from argon2 import PasswordHasher

    from forms_api import create_app, passwords

    tmp = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    url = f"sqlite:///{tmp / 'portal.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    app = create_app({
        "DATABASE_URL": url, "PORTAL_INSTANCE": str(tmp / "instance"), "PORTAL_CONTENT": str(ROOT / "content"),
        "PORTAL_SITE_CONFIG": str(ROOT / "site_config.yml"), "PORTAL_SITE_DIR": str(tmp / "site"),
        "RATELIMIT_STORAGE_URI": "memory://", "PORTAL_API_KEYS": f"fuzz:{API_KEY}",
        "PORTAL_RATELIMIT_PUBLIC": "1000000 per minute", "PORTAL_RATELIMIT_LOGIN": "1000000 per minute",
        "PORTAL_RATELIMIT_LOGIN_ACCOUNT": "1000000 per minute", "PORTAL_RATELIMIT_API": "1000000 per minute",
    })  # fmt: skip
    app.config["TESTING"] = True
    sessions, vault = app.extensions["sessions"], app.extensions["vault"]
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    hasher, passwords.hasher = passwords.hasher, cheap  # the stored hash keeps its cost for every login example
    add_user(sessions, "boss", "supervisor")
    passwords.hasher = hasher
    cases = [make_case(sessions, vault, state) for state in ("received", "received", "replied", "replied")]
    found = Hall(app, request.param, [(r.case.receipt_no, r.query_code) for r in cases])
    yield found
    _report(request, found)
    app.extensions["engine"].dispose()
    if request.param == "postgresql":
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        Base.metadata.drop_all(engine)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()


def _report(request: pytest.FixtureRequest, hall: Hall) -> None:
    """Examples run, answers and failures per form, on the terminal (what `make fuzz` reports)."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():  # shown without -s: the figures are the point of `make fuzz`
        reporter.write_line("")
        reporter.write_line(f"fuzz figures ({hall.database}):")
        for form, seen in sorted(hall.figures.items()):
            runs, failures = seen.pop("examples", 0), seen.pop("failures", 0)
            answers = ", ".join(f"{status}×{n}" for status, n in sorted(seen.items()))
            reporter.write_line(f"  {form:<16} examples={runs:<6} failures={failures:<3} answers: {answers}")


# ------------------------------------------------------------------ sending, and the properties
def _encode(pairs: dict[str, Any]) -> bytes:
    """A urlencoded body as a browser would send it (lone surrogates become the bytes a lenient encoder writes)."""
    items = [(k, v) for k, v in pairs.items() if v is not None]
    return urlencode(items, encoding="utf-8", errors="surrogatepass").encode("ascii")


def _query(pairs: dict[str, str]) -> str:
    return "?" + _encode(pairs).decode("ascii") if pairs else ""


def _csrf(client: FlaskClient, page: str, mode: str) -> dict[str, str]:
    """The hidden fields of a freshly fetched form, the CSRF token missing or forged as drawn."""
    hidden = form_fields(client.get(page).get_data(as_text=True))
    if mode == "missing":
        hidden.pop("csrf_token", None)
    elif mode == "forged":
        hidden["csrf_token"] = "forged." + hidden.get("csrf_token", "")[-20:]
    return hidden


def _check(
    hall: Hall, form: str, send: Callable[[], TestResponse], accepted: Callable[[int, dict[str, int]], None]
) -> None:
    """Send once; never a 5xx or a traceback; a refusal stores nothing; `accepted` judges what a success stored."""
    figures = hall.figures.setdefault(form, Counter())
    figures["examples"] += 1
    try:
        before = hall.rows()
        response = send()
        stored = {table: n - before[table] for table, n in hall.rows().items()}
        status = response.status_code
        figures[str(status)] += 1
        text = response.get_data(as_text=True)
        assert status < 500, f"{status}: {text[:300]}"
        assert "Traceback" not in text and 'File "' not in text
        if status >= 400:
            assert not any(stored.values()), f"{status} but stored {stored}"
        else:
            accepted(status, stored)
    except BaseException:
        figures["failures"] += 1
        raise


def _exactly_one(table: str) -> Callable[[int, dict[str, int]], None]:
    """A 2xx or 3xx stored exactly one row of `table` (and audit rows beside it)."""

    def judge(status: int, stored: dict[str, int]) -> None:
        assert stored[table] == 1, f"{status} stored {stored}"

    return judge


def _nothing(status: int, stored: dict[str, int]) -> None:
    assert not any(stored.values()), f"{status} stored {stored}"


# ------------------------------------------------------------------ the citizens' forms
PUBLIC_FORMS = {
    "complaint": ("/forms/complaint/", COMPLAINT, "cases"),
    "suggestion": ("/forms/suggestion/", SUGGESTION, "cases"),
    "evaluation": ("/forms/evaluation/", EVALUATION, "evaluations"),
}


@pytest.mark.parametrize("form", PUBLIC_FORMS)
def test_public_forms(hall: Hall, form: str) -> None:
    """我要投诉, 意见建议, 我要评价: arbitrary fields and values, a fresh submission token or an arbitrary one."""
    url, valid, table = PUBLIC_FORMS[form]
    client = hall.app.test_client()

    @PROFILE
    @given(data=_fields(valid, TEXT), query=st.dictionaries(TEXT, TEXT, max_size=2), csrf=CSRF,
           token=st.one_of(st.just("fresh"), TEXT))  # fmt: skip
    def run(data: dict[str, str], query: dict[str, str], csrf: str, token: str) -> None:
        hidden = _csrf(client, url, csrf)
        hidden["token"] = uuid.uuid4().hex if token == "fresh" else token
        body = _encode({**hidden, **data})
        _check(hall, form, lambda: client.post(url + _query(query), data=body,
                                               content_type="application/x-www-form-urlencoded"),
               _exactly_one(table))  # fmt: skip

    run()


@pytest.mark.parametrize("form", ["track", "track/act"])
def test_tracking(hall: Hall, form: str) -> None:
    """进度查询 and the citizen's own moves: real numbers or arbitrary ones; at most one audit row per move."""
    client = hall.app.test_client()
    url = f"/forms/{form}" if form == "track/act" else "/forms/track/"
    numbers = {"receipt_no": st.sampled_from([no for no, _ in hall.cases]),
               "query_code": st.sampled_from([code for _, code in hall.cases]),  # one time in four the pair matches
               "action": st.sampled_from(["withdraw", "satisfied", "unsatisfied", "close", "file"]),
               "note": st.just("已解决")}  # fmt: skip

    def moved(status: int, stored: dict[str, int]) -> None:
        assert stored["cases"] == 0 and stored["case_events"] <= 1, f"{status} stored {stored}"

    @PROFILE
    @given(data=_fields(numbers, TEXT), csrf=CSRF)
    def run(data: dict[str, str], csrf: str) -> None:
        body = _encode({**_csrf(client, "/forms/track/", csrf), **data})
        send = lambda: client.post(url, data=body, content_type="application/x-www-form-urlencoded")  # noqa: E731
        _check(hall, form, send, moved if form == "track/act" else _nothing)

    run()


def test_staff_login(hall: Hall) -> None:
    """工作人员登录: arbitrary names, passwords and `next`; success only ever redirects inside /staff/."""

    def signed_in(status: int, stored: dict[str, int]) -> None:
        _nothing(status, stored)

    @PROFILE
    @given(data=_fields(LOGIN, TEXT), next_=st.one_of(st.none(), TEXT, st.sampled_from(["/staff/posts", "//evil"])),
           csrf=CSRF)  # fmt: skip
    def run(data: dict[str, str], next_: str | None, csrf: str) -> None:
        client = hall.app.test_client()  # a success changes the session: each example starts logged out
        body = _encode({**_csrf(client, "/staff/login", csrf), **data})
        url = "/staff/login" + _query({"next": next_} if next_ is not None else {})
        response: list[TestResponse] = []

        def send() -> TestResponse:
            response.append(client.post(url, data=body, content_type="application/x-www-form-urlencoded"))
            return response[0]

        _check(hall, "staff login", send, signed_in)
        if response[0].status_code == 302:
            location = response[0].headers["Location"]
            assert location.startswith("/staff/") and "//" not in location, location

    run()


# ------------------------------------------------------------------ the JSON API
def _api_body(valid: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[bytes]:
    """A JSON object of any field set, any JSON value, or bytes that are not JSON at all."""
    return st.one_of(
        _fields(valid, JSON).map(lambda d: json.dumps(d).encode()),
        _fields(valid, JSON).map(lambda d: json.dumps(d).encode()),  # twice: objects are the interesting half
        JSON.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200),
        st.sampled_from([b"", b"{", b"\xff\xfe{}", b"\x00"]),
        st.integers(1, 30_000).map(lambda n: b"[" * n + b"]" * n),  # past the parser's recursion limit
        DIGITS.map(lambda d: b'{"level": ' + d.encode() + b"}"),
    )


API_FORMS = {"complaints": (API_COMPLAINT, "cases"), "evaluations": (API_EVALUATION, "evaluations")}


@pytest.mark.parametrize("endpoint", API_FORMS)
def test_api_submissions(hall: Hall, endpoint: str) -> None:
    """POST /api/v1/complaints and /evaluations: a 2xx stores one record, except a retry of a key that did."""
    valid, table = API_FORMS[endpoint]
    client = hall.app.test_client()
    created: set[str] = set()  # retry keys that made a record: a 2xx with one of them is a retry, storing nothing

    @PROFILE
    @given(body=_api_body(valid), key=RETRY_KEY, api_key=st.sampled_from([API_KEY] * 9 + ["wrong"]),
           content_type=CONTENT_TYPES)  # fmt: skip
    def run(body: bytes, key: str | None, api_key: str, content_type: str) -> None:
        headers = {"X-API-Key": api_key, "Content-Type": content_type}
        if key is not None:
            headers["Idempotency-Key"] = key
        retry = key is not None and key.strip() in created

        def judge(status: int, stored: dict[str, int]) -> None:
            assert stored[table] == (0 if retry else 1), f"{status} (retry={retry}) stored {stored}"
            if key is not None and key.strip():
                created.add(key.strip())

        _check(hall, f"api {endpoint}", lambda: client.post(f"/api/v1/{endpoint}", data=body, headers=headers), judge)

    run()


def test_api_case_status(hall: Hall) -> None:
    """GET /api/v1/cases/<no>: arbitrary numbers and query codes; reading never stores anything."""
    client = hall.app.test_client()

    @PROFILE
    @given(case=st.sampled_from(hall.cases), number=st.one_of(st.none(), TEXT), code=st.one_of(st.none(), HEADER))
    def run(case: tuple[str, str], number: str | None, code: str | None) -> None:
        path = quote((case[0] if number is None else number).encode("utf-8", "surrogatepass"), safe="")
        headers = {"X-API-Key": API_KEY, "X-Query-Code": case[1] if code is None else code}
        _check(hall, "api cases", lambda: client.get(f"/api/v1/cases/{path}", headers=headers), _nothing)

    run()


def test_fuzz_profile_is_ci_sized_unless_asked(request: pytest.FixtureRequest) -> None:
    """CI must stay fast and repeatable; only an explicit PORTAL_FUZZ_EXAMPLES asks for more."""
    profile = settings.get_profile("portal-fuzz-ci")
    assert profile.derandomize and profile.database is None and profile.max_examples <= 100
    assert PROFILE.max_examples == (EXAMPLES or profile.max_examples)
    assert (
        Path(request.config.rootpath, "Makefile").read_text(encoding="utf-8").count("PORTAL_FUZZ_EXAMPLES=10000") == 1
    )
