"""The JSON API: keys, validation with the web form's messages, idempotency, status, OpenAPI."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forms_api.api import COMPLAINT_FIELDS, EVALUATION_FIELDS
from forms_api.models import Case, Evaluation
from tests.conftest import submit_form
from tests.factories import api_complaint, complaint_data

KEY = {"X-API-Key": "secret-hotline-key"}
BODY = api_complaint()


@pytest.fixture
def app_overrides() -> dict[str, str]:
    """Two integrations' keys, given the way an operator gives them: as a setting read at start-up."""
    return {"PORTAL_API_KEYS": "hotline:secret-hotline-key,miniapp:another-key"}


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    """A client of the app started with the keys above."""
    return app.test_client()


def _count(app: Flask) -> int:
    with app.extensions["sessions"]() as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0


def test_key_is_required(api: FlaskClient) -> None:
    assert api.post("/api/v1/complaints", json=BODY).status_code == 401
    assert api.post("/api/v1/complaints", json=BODY, headers={"X-API-Key": "wrong"}).status_code == 401


def test_submit_then_read_status(api: FlaskClient, app: Flask) -> None:
    created = api.post("/api/v1/complaints", json=BODY, headers={**KEY, "Idempotency-Key": "call-1"})
    assert created.status_code == 201
    data = created.get_json()
    assert data["receipt_no"].startswith("TS") and data["status"] == "received"
    again = api.post("/api/v1/complaints", json=BODY, headers={**KEY, "Idempotency-Key": "call-1"})
    assert again.status_code == 200 and again.get_json()["receipt_no"] == data["receipt_no"]
    assert _count(app) == 1
    status = api.get(f"/api/v1/cases/{data['receipt_no']}", headers={**KEY, "X-Query-Code": data["query_code"]})
    assert status.get_json()["status_label"] == "待受理" and status.get_json()["deadline"]
    wrong = api.get(f"/api/v1/cases/{data['receipt_no']}", headers={**KEY, "X-Query-Code": "NOPE1234"})
    assert wrong.status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"phone": "12"}, 422, "请输入11位手机号码"),
        ({"matter": ""}, 422, "请填写投诉事项"),
        ({"consent": False}, 422, "请阅读并同意个人信息收集说明"),
        ({"state": "closed"}, 422, "不支持的字段：state"),
        ({"assignee": "QX0101"}, 422, "不支持的字段：assignee"),
    ],
)
def test_bad_input(api: FlaskClient, app: Flask, change: dict, status: int, message: str) -> None:
    response = api.post("/api/v1/complaints", json={**BODY, **change}, headers=KEY)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert _count(app) == 0


def test_not_json_is_400(api: FlaskClient) -> None:
    response = api.post("/api/v1/complaints", data="x", headers={**KEY, "Content-Type": "text/plain"})
    assert response.status_code == 400 and "JSON" in response.get_json()["error"]


def test_bad_evaluation_opens_a_case(api: FlaskClient, app: Flask) -> None:
    response = api.post("/api/v1/evaluations", json={"target": "window:county-hall:2", "level": 1, "reason": "推诿"},
                        headers=KEY)  # fmt: skip
    assert response.status_code == 201 and response.get_json()["rectification"]["no"].startswith("ZG")
    missing = api.post("/api/v1/evaluations", json={"target": "window:county-hall:2", "level": 2}, headers=KEY)
    assert missing.status_code == 422 and "请写明原因" in missing.get_data(as_text=True)


def test_an_evaluation_may_name_its_business_number(api: FlaskClient, app: Flask) -> None:
    body = {"target": "window:county-hall:2", "level": 1, "reason": "推诿", "business_no": "QX-2026-000123"}
    assert api.post("/api/v1/evaluations", json=body, headers=KEY).status_code == 201
    with app.extensions["sessions"]() as session:
        assert session.scalars(select(Evaluation.business_no)).one() == "QX-2026-000123"
        assert session.scalars(select(Case.business_no)).one() == "QX-2026-000123"
    wrong = api.post("/api/v1/evaluations", json={**body, "business_no": "办件 123"}, headers=KEY)
    assert wrong.status_code == 422
    assert wrong.get_json()["fields"]["business_no"] == ["办件编号只能包含字母、数字和连字符"]


def test_openapi_describes_every_route(api: FlaskClient, app: Flask) -> None:
    spec = api.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    routes = {r.rule.removeprefix("/api/v1").replace("<receipt_no>", "{receipt_no}")
              for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")}  # fmt: skip
    assert routes == set(spec["paths"])


JSON_TYPES = {str: "string", int: "integer", bool: "boolean"}


@pytest.mark.parametrize(("path", "fields"), [("/complaints", COMPLAINT_FIELDS), ("/evaluations", EVALUATION_FIELDS)])
def test_openapi_request_bodies_are_the_fields_the_api_accepts(api: FlaskClient, path: str, fields: dict) -> None:
    spec = api.get("/api/v1/openapi.json").get_json()
    schema = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["additionalProperties"] is False
    assert {name: prop["type"] for name, prop in schema["properties"].items()} == {
        name: JSON_TYPES[kind] for name, kind in fields.items()
    }
    full = api_complaint() if path == "/complaints" else {"target": "window:county-hall:2", "level": 5}
    assert api.post(f"/api/v1{path}", json=full, headers=KEY).status_code == 201
    for name in schema["required"]:  # a body without a required field is refused
        body = {k: v for k, v in full.items() if k != name}
        assert api.post(f"/api/v1{path}", json=body, headers=KEY).status_code == 422, name


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**BODY, "consent": "no"}, "consent"),
        ({**BODY, "matter": {"a": 1}}, "matter"),
        ({**BODY, "name": ["张三"]}, "name"),
    ],
)
def test_wrong_json_types_are_refused(api: FlaskClient, app: Flask, body: dict, message: str) -> None:
    response = api.post("/api/v1/complaints", json=body, headers=KEY)
    assert response.status_code == 422 and message in response.get_json()["fields"]
    assert _count(app) == 0


@pytest.mark.parametrize("level", [True, [1], "x", 9])
def test_bad_levels_never_500(api: FlaskClient, level: object) -> None:
    response = api.post("/api/v1/evaluations", json={"target": "window:county-hall:2", "level": level}, headers=KEY)
    assert response.status_code == 422


def test_deeply_nested_json_is_400(api: FlaskClient) -> None:
    body = "[" * 30000 + "]" * 30000  # under the 64 KB cap, far over the parser's recursion limit
    response = api.post("/api/v1/complaints", data=body, headers={**KEY, "Content-Type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.get_json()["error"]


def test_web_form_cannot_claim_an_api_retry_key(api: FlaskClient, app: Flask) -> None:
    first = api.post("/api/v1/complaints", json=BODY, headers={**KEY, "Idempotency-Key": "call-42"}).get_json()
    stolen = "api:" + hashlib.sha256(b"hotline\ncall-42").hexdigest()[:56]
    response = submit_form(api, "/forms/complaint/", complaint_data(token=stolen))
    page = api.get("/forms/complaint/done").get_data(as_text=True)
    assert response.status_code == 303 and first["query_code"] not in page
    assert _count(app) == 2


# A retry key reused for something else: each endpoint, first body, the other body.
REUSED_KEY = [
    ("/api/v1/complaints", BODY, {**BODY, "matter": "另一件事：窗口提前下班", "name": "钱七"}),
    ("/api/v1/evaluations", {"target": "window:county-hall:1", "level": 1, "reason": "态度冷淡"},
     {"target": "window:county-hall:1", "level": 2, "reason": "等了很久"}),
]  # fmt: skip


def _values(answer: dict) -> list[str]:
    """The receipt numbers and query codes in an answer, nested ones included."""
    found = []
    for value in answer.values():
        found += _values(value) if isinstance(value, dict) else [value] if isinstance(value, str) else []
    return found


@pytest.mark.parametrize(("url", "first", "other"), REUSED_KEY)
def test_a_reused_key_with_another_body_is_refused_without_the_first_receipt(
    api: FlaskClient, app: Flask, url: str, first: dict, other: dict
) -> None:
    headers = {**KEY, "Idempotency-Key": "call-7"}
    shown = api.post(url, json=first, headers=headers).get_json()
    assert api.post(url, json=first, headers=headers).get_json() == shown  # a true retry: the same answer
    cases = _count(app)
    refused = api.post(url, json=other, headers=headers)
    assert refused.status_code == 422 and "Idempotency-Key" in refused.get_json()["error"]
    assert set(refused.get_json()) == {"error"} and _count(app) == cases
    assert not any(str(v) in refused.get_data(as_text=True) for v in _values(shown))
    other_integration = api.post(url, json=other, headers={"X-API-Key": "another-key", "Idempotency-Key": "call-7"})
    assert other_integration.status_code == 201  # keys are scoped to the integration that sent them


@pytest.mark.parametrize(("length", "status"), [(40, 201), (41, 422), (400, 422)])
def test_idempotency_key_longer_than_documented_is_refused(api: FlaskClient, length: int, status: int) -> None:
    response = api.post("/api/v1/complaints", json=BODY, headers={**KEY, "Idempotency-Key": "k" * length})
    assert response.status_code == status
    if status == 422:
        assert "Idempotency-Key 最长 40 个字符" in response.get_json()["error"]
