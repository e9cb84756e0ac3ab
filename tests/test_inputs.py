"""The input gate: malformed requests to every route get a clear 400 or 404, never a 500, and store nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound
from werkzeug.test import TestResponse

from forms_api.inputs import BODY_MESSAGE, HEADER_MESSAGE, INT_MAX, URL_MESSAGE, BoundedInt
from forms_api.models import Base
from tests.conftest import form_fields, login
from tests.factories import api_complaint, complaint_data

KEY = {"X-API-Key": "gate-key"}
NUL, SURROGATE = "\x00", "\ud800"
NOT_FOUND = "页面不存在"


@pytest.fixture
def app_overrides(tmp_path: Path) -> dict[str, str]:
    """An API key, limits that never interfere, and a published site, so its catch-all route is live too."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<p>首页</p>", encoding="utf-8")
    return {
        "PORTAL_API_KEYS": f"gate:{KEY['X-API-Key']}",
        "PORTAL_RATELIMIT_PUBLIC": "100000 per minute",
        "PORTAL_RATELIMIT_LOGIN": "100000 per minute",
        "PORTAL_RATELIMIT_API": "100000 per minute",
    }


@dataclass(frozen=True)
class Probe:
    """One malformed request: its route (endpoint), method, address and what it carries."""

    endpoint: str
    method: str
    url: str
    status: int  # 400: the gate refused it; 404: the address names nothing
    form: dict[str, str] | None = None  # sent with the page's CSRF token, so only the bad value can be wrong
    body: str | None = None  # raw JSON text (json.dumps cannot write lone surrogates into a test client body)
    headers: dict[str, str] = field(default_factory=dict)
    staff: bool = False  # sent by a logged-in supervisor

    @property
    def message(self) -> str:
        """What the answer must say."""
        if self.status == 404:
            return NOT_FOUND
        if "%0" in self.url:  # %00, %01, %0d: a control character in the address
            return URL_MESSAGE
        return HEADER_MESSAGE if self.headers else BODY_MESSAGE


def _raw_json(**values: Any) -> str:
    """A JSON body whose strings may hold lone surrogates (json.dumps escapes them as \\udxxx, as a client would)."""
    return json.dumps(values)


COMPLAINT = api_complaint()
EVALUATION = {"target": "window:county-hall:2", "level": 1, "reason": "推诿"}
TRACK = {"receipt_no": "TS20261123000001", "query_code": "ABCD2345"}
REGISTER = {"channel": "phone", "target": "window:county-hall:1", "matter": "电话投诉", "name": "李四",
            "phone": "13900001111", "first_receiver": "clerk"}  # fmt: skip
BIG = "99999999999999999999"  # past 64 bits: SQLite's OverflowError
PAST_INT4 = str(INT_MAX + 1)  # past PostgreSQL's INTEGER: "out of range"
LONG = "a" * 300  # past NAME_MAX: the file system answers "File name too long", not "no such file"

PROBES: dict[str, Probe] = {
    # The JSON API, with a valid key: lone surrogates and NUL anywhere in the JSON, in keys, in headers.
    "api-complaint-surrogate": Probe("api.complaint", "POST", "/api/v1/complaints", 400,
                                     body=_raw_json(**{**COMPLAINT, "matter": "排队" + SURROGATE})),
    "api-complaint-surrogate-key": Probe("api.complaint", "POST", "/api/v1/complaints", 400,
                                         body=_raw_json(**{**COMPLAINT, SURROGATE: 1})),
    "api-complaint-nul": Probe("api.complaint", "POST", "/api/v1/complaints", 400,
                               body=_raw_json(**{**COMPLAINT, "name": "赵" + NUL})),
    "api-complaint-nul-key": Probe("api.complaint", "POST", "/api/v1/complaints", 400,
                                   body=_raw_json(**{**COMPLAINT, NUL: "x"})),
    "api-complaint-surrogate-retry-key": Probe("api.complaint", "POST", "/api/v1/complaints", 400,
                                               body=_raw_json(**COMPLAINT), headers={"Idempotency-Key": "\udcff"}),
    "api-complaint-query": Probe("api.complaint", "POST", "/api/v1/complaints?x=%00", 400, body=_raw_json(**COMPLAINT)),
    "api-evaluation-surrogate": Probe("api.evaluation", "POST", "/api/v1/evaluations", 400,
                                      body=_raw_json(**{**EVALUATION, "reason": SURROGATE})),
    "api-evaluation-nul-nested": Probe("api.evaluation", "POST", "/api/v1/evaluations", 400,
                                       body=_raw_json(**{**EVALUATION, "reason": [{"a": NUL}]})),
    "api-case-nul": Probe("api.case_status", "GET", "/api/v1/cases/TS%00", 400),
    "api-case-query-code-nul": Probe("api.case_status", "GET", "/api/v1/cases/TS1", 400,
                                     headers={"X-Query-Code": "AB" + NUL}),
    "api-case-long": Probe("api.case_status", "GET", f"/api/v1/cases/{LONG}", 404),
    "api-openapi-query": Probe("api.openapi", "GET", "/api/v1/openapi.json?q=%00", 400),
    # Citizens' forms: NUL in a field, in the query string, in the address.
    "complaint-form-nul": Probe("complaints.complaint", "POST", "/forms/complaint/", 400,
                                form=complaint_data(matter="排队" + NUL + "两小时")),
    "complaint-prefill-nul": Probe("complaints.complaint", "GET", "/forms/complaint/?service=JY-001%00", 400),
    "complaint-done-query": Probe("complaints.done", "GET", "/forms/complaint/done?x=%01", 400),
    "suggestion-form-nul": Probe("complaints.suggestion", "POST", "/forms/suggestion/", 400,
                                 form={"content": "建议" + NUL}),
    "evaluation-form-nul": Probe("evaluations.evaluation", "POST", "/forms/evaluation/", 400,
                                 form={"target": "window:county-hall:2", "level": "2", "reason": NUL}),
    "evaluation-prefill-nul": Probe("evaluations.evaluation", "GET", "/forms/evaluation/?window=%00", 400),
    "qr-cards-query": Probe("evaluations.qr_cards", "GET", "/forms/evaluation/qr/?x=%00", 400, staff=True),
    "track-form-nul": Probe("tracking.track", "POST", "/forms/track/", 400, form={**TRACK, "receipt_no": "TS" + NUL}),
    "track-act-nul": Probe("tracking.act", "POST", "/forms/track/act", 400,
                           form={**TRACK, "action": "withdraw", "note": NUL}),
    # Staff console, logged in: filters, ids past the database's integers, names in the address.
    "login-form-nul": Probe("staff.login", "POST", "/staff/login", 400,
                            form={"username": "boss" + NUL, "password": "x"}),
    "login-next-crlf": Probe("staff.login", "POST", "/staff/login?next=/staff/%0d%0aSet-Cookie:%20x", 400,
                             form={"username": "boss", "password": "correct-horse-1"}),
    "logout-query": Probe("staff.logout", "POST", "/staff/logout?x=%00", 400, form={}, staff=True),
    "queue-window-nul": Probe("staff.queue", "GET", "/staff/?window=county-hall:%00", 400, staff=True),
    "queue-state-nul": Probe("staff.queue", "GET", "/staff/?state=%00&kind=%00", 400, staff=True),
    "case-past-int4": Probe("staff.case_page", "GET", f"/staff/case/{PAST_INT4}", 404, staff=True),
    "case-past-int64": Probe("staff.case_page", "GET", f"/staff/case/{BIG}", 404, staff=True),
    "act-past-int4": Probe("staff.act", "POST", f"/staff/case/{PAST_INT4}/accept", 404, form={"version": "1"},
                           staff=True),
    "act-name-nul": Probe("staff.act", "POST", "/staff/case/1/acc%00ept", 400, form={"version": "1"}, staff=True),
    "register-form-nul": Probe("intake.register", "POST", "/staff/register", 400,
                               form={**REGISTER, "matter": "电话" + NUL}, staff=True),
    "posts-query": Probe("staff.posts", "GET", "/staff/posts?x=%00", 400, staff=True),
    "mark-post-nul": Probe("staff.mark", "POST", "/staff/posts/jiuye-dengji%00/absent", 400, form={}, staff=True),
    "print-register-past-int4": Probe("staff.print_register", "GET", f"/staff/case/{PAST_INT4}/print/register", 404,
                                      staff=True),
    "print-order-past-int4": Probe("staff.print_order", "GET", f"/staff/case/{PAST_INT4}/print/order/{BIG}", 404,
                                   staff=True),
    # The published site and the backend's own assets.
    "site-long-name": Probe("site.page", "GET", f"/{LONG}", 404),
    "site-nul": Probe("site.page", "GET", "/guide%00.html", 400),
    "site-query": Probe("site.page", "GET", "/?q=%E4%BA%BA%00", 400),
    "static-nul": Probe("static", "GET", "/static/forms.css%00", 400),
    "elder-next-nul": Probe("look.elder_set", "GET", "/forms/elder?on=1&next=/forms/track/%00", 400),
}  # fmt: skip


def _rows(app: Flask) -> int:
    """Every row of every table: a refused request must leave all of them as they were."""
    with app.extensions["sessions"]() as session:
        return sum(session.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables)


def _send(client: FlaskClient, probe: Probe) -> TestResponse:
    """The request, with a valid CSRF token for forms and a valid key for the API."""
    headers = {**(KEY if probe.url.startswith("/api/") else {}), **probe.headers}
    if probe.form is not None:
        token = form_fields(client.get("/forms/track/").get_data(as_text=True))["csrf_token"]
        return client.open(probe.url, method=probe.method, data={"csrf_token": token, **probe.form}, headers=headers)
    if probe.body is not None:
        headers["Content-Type"] = "application/json"
        return client.open(probe.url, method=probe.method, data=probe.body.encode("utf-8"), headers=headers)
    return client.open(probe.url, method=probe.method, headers=headers)


@pytest.mark.parametrize("name", PROBES)
def test_malformed_requests_are_refused_and_store_nothing(
    app: Flask, client: FlaskClient, make_user: Callable[..., str], name: str
) -> None:
    probe = PROBES[name]
    make_user("boss", "supervisor")
    if probe.staff:
        assert login(client, "boss").status_code == 302
    before = _rows(app)
    response = _send(client, probe)
    text = response.get_data(as_text=True)
    assert response.status_code == probe.status, text[:300]
    assert probe.message in text and "Traceback" not in text
    if probe.url.startswith("/api/"):
        assert response.is_json and set(response.get_json()) == {"error"}
    else:
        assert response.mimetype == "text/html"
    assert _rows(app) == before


def test_the_table_covers_every_route(app: Flask) -> None:
    assert {rule.endpoint for rule in app.url_map.iter_rules()} <= {probe.endpoint for probe in PROBES.values()}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), ("2147483647", INT_MAX), ("2147483648", None), (BIG, None), ("１２", None), ("-1", None)],
)
def test_route_integers_are_ascii_and_fit_the_database(app: Flask, value: str, expected: int | None) -> None:
    assert isinstance(app.url_map.converters["int"](app.url_map), BoundedInt)
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, args = adapter.match(f"/staff/case/{value}")
    except NotFound:
        endpoint, args = "", {}
    assert (args.get("case_id") if endpoint == "staff.case_page" else None) == expected


def test_a_405_names_the_allowed_methods(client: FlaskClient) -> None:
    response = client.delete("/api/v1/complaints", headers=KEY)
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert response.get_json() == {"error": "不支持这种访问方式。"}
    page = client.put("/forms/track/act")
    assert page.status_code == 405 and "POST" in page.headers["Allow"] and page.mimetype == "text/html"


@pytest.mark.parametrize(
    "text", ["第一行\r\n第二行\t制表", "Ｆｕｌｌ－ｗｉｄｔｈ １２３", "<script>alert(1)</script>", "😀"]
)
def test_ordinary_text_passes_the_gate(app: Flask, client: FlaskClient, text: str) -> None:
    """Line breaks, tabs, full-width characters, markup and emoji are what people write: stored, not refused."""
    response = _send(client, Probe("complaints.complaint", "POST", "/forms/complaint/", 303,
                                   form=complaint_data(matter=text)))  # fmt: skip
    assert response.status_code == 303
    api = _send(client, Probe("api.complaint", "POST", "/api/v1/complaints", 201,
                              body=_raw_json(**{**COMPLAINT, "matter": text})))  # fmt: skip
    assert api.status_code == 201


@pytest.mark.parametrize("level", ["²", "١", "５", "9" * 4400])
def test_a_rating_level_that_is_not_one_of_the_five_is_refused(app: Flask, client: FlaskClient, level: str) -> None:
    """str.isdigit() is true for "²" and for 4,400 nines, and int() fails on both: a 500 before the choice check."""
    before = _rows(app)
    response = _send(client, Probe("evaluations.evaluation", "POST", "/forms/evaluation/", 400,
                                   form={"target": "window:county-hall:2", "level": level}))  # fmt: skip
    assert response.status_code == 400 and _rows(app) == before
