"""JSON API for integrations (a hotline system, a mini-program): submit, and read a case's status."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from forms_api import catalogue, dao, states, workflow
from forms_api.complaints import ComplaintForm, complaint_choices
from forms_api.errors import ReusedToken, Unprocessable
from forms_api.evaluations import EvaluationForm
from forms_api.openapi import IDEMPOTENCY_KEY_MAX, spec
from forms_api.security import api_limit, api_read_limit, csrf, limiter
from forms_api.submissions import complaint_submission, save_evaluation, target_choices
from forms_api.views import db_session, engine_context, vault, write

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
COMPLAINT_FIELDS: dict[str, type] = {"target": str, "target_text": str, "matter": str, "demand": str, "name": str,
                                     "phone": str, "id_number": str, "consent": bool}  # fmt: skip
EVALUATION_FIELDS: dict[str, type] = {"target": str, "level": int, "reason": str, "business_no": str}
TYPE_NAMES = {str: "文字", int: "整数", bool: "true 或 false"}


def _client() -> str | None:
    """The integration named by a valid X-API-Key (PORTAL_API_KEYS, parsed at start-up into name → key)."""
    given = request.headers.get("X-API-Key", "").encode()
    if not given:
        return None
    keys: Mapping[str, str] = current_app.extensions["settings"].api_keys
    for name, key in keys.items():
        if hmac.compare_digest(key.encode(), given):  # constant time: the answer does not leak how much matched
            return name
    return None


@bp.before_request
def _authenticate() -> ResponseReturnValue | None:
    """Every endpoint but the description needs a key."""
    if request.endpoint == "api.openapi":
        return None
    g.api_client = _client()
    if g.api_client is None:
        return jsonify(error="缺少或错误的 API 密钥（X-API-Key）"), 401
    return None


def _body(schema: dict[str, type]) -> tuple[MultiDict[str, Any] | None, ResponseReturnValue | None]:
    """The JSON object as form data. Unknown fields and wrong types are refused, never coerced."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        data = None
    if not isinstance(data, dict):
        return None, (jsonify(error="请求体须为 JSON 对象"), 400)
    unknown = sorted(set(data) - set(schema))
    if unknown:
        return None, (jsonify(error=f"不支持的字段：{'、'.join(unknown)}"), 422)
    # null is a wrong type too: a field that is not given is left out (as documented), never sent as null.
    # JSON has one number type: 5.0 is the integer 5 (JSON Schema agrees), so it is read as 5, never as "5.0".
    whole = {k for k, v in data.items() if schema[k] is int and isinstance(v, float) and v.is_integer()}
    wrong = [k for k, v in data.items() if not _is(v, schema[k]) and k not in whole]
    if wrong:
        fields = {k: [f"应为{TYPE_NAMES[schema[k]]}"] for k in wrong}
        return None, (jsonify(error="字段类型有误", fields=fields), 422)
    values = {
        k: ("y" if v is True else "" if v is False else str(int(v) if k in whole else v)) for k, v in data.items()
    }
    return MultiDict(values), None


def _is(value: Any, expected: type) -> bool:
    """JSON type check; true/false are not integers here."""
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def _token() -> str | None:
    """Idempotency-Key, scoped to the calling integration, makes a retry return the first result.

    A key longer than documented is refused rather than cut: two long keys sharing a prefix must not collide."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return None
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise Unprocessable(f"Idempotency-Key 最长 {IDEMPOTENCY_KEY_MAX} 个字符")
    return "api:" + hashlib.sha256(f"{g.api_client}\n{key}".encode()).hexdigest()[:56]


@contextmanager
def _idempotent() -> Iterator[None]:
    """A key reused with another body: 422 naming the key, never the first receipt."""
    try:
        yield
    except ReusedToken:
        raise Unprocessable("Idempotency-Key 已用于内容不同的另一次提交；新的提交请使用新的键") from None


@bp.post("/complaints")
@limiter.limit(api_limit, key_func=lambda: f"api:{_client()}")
def complaint() -> ResponseReturnValue:
    """Submit a complaint: the same fields and checks as the web form."""
    data, error = _body(COMPLAINT_FIELDS)
    if error:
        return error
    form = ComplaintForm(formdata=data, meta={"csrf": False})
    form.target.choices = complaint_choices()
    if not form.validate():
        return jsonify(error="内容有误", fields=form.errors), 422
    item = complaint_submission(form, "api", token=_token())
    draft = workflow.prepare(vault(), item, engine_context(db_session()))  # before the write lock
    with _idempotent(), write() as s:
        receipt = workflow.register(s, vault(), draft, workflow.Actor(f"接口:{g.api_client}", "citizen"))
    body = {"receipt_no": receipt.case.receipt_no, "query_code": receipt.query_code, "status": receipt.case.state}
    return jsonify(body), 201 if receipt.created else 200


@bp.post("/evaluations")
@limiter.limit(api_limit, key_func=lambda: f"api:{_client()}")
def evaluation() -> ResponseReturnValue:
    """Submit a rating; a bad one answers with the 差评整改 case's numbers."""
    data, error = _body(EVALUATION_FIELDS)
    if error:
        return error
    form = EvaluationForm(formdata=data, meta={"csrf": False})
    form.target.choices = target_choices()
    if not form.validate():
        return jsonify(error="内容有误", fields=form.errors), 422
    token = _token()
    with _idempotent(), write() as s:
        receipt = save_evaluation(s, form.target.data, int(form.level.data), form.reason.data, token,
                                  business_no=form.business_no.data)  # fmt: skip
    return jsonify(recorded=True, rectification=receipt), 201


@bp.get("/cases/<receipt_no>")
@limiter.limit(api_read_limit, key_func=lambda: f"api:{_client()}")
def case_status(receipt_no: str) -> ResponseReturnValue:
    """Status, deadline and replies of one case, given its query code (X-Query-Code)."""
    case = dao.find_case(db_session(), vault(), receipt_no, request.headers.get("X-Query-Code", ""))
    if case is None:
        return jsonify(error="受理编号或查询码不正确"), 404
    return jsonify(
        receipt_no=case.receipt_no, status=case.state, status_label=states.STATES[case.state],
        category=case.category, deadline=case.deadline.isoformat() if case.deadline else None,
        replies=workflow.replies(case),
    )  # fmt: skip


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 description of this API, with this hall's targets as the values `target` accepts."""
    return jsonify(spec(t.key for t in catalogue.all_targets()))
