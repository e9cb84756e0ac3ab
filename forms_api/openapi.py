"""The OpenAPI document of the JSON API (kept beside the code; tests check every route, field and answer)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from core.vocab import BAD_UP_TO, LEVELS
from forms_api import privacy
from forms_api.states import STATES

# Text the forms store: no NUL (the input gate refuses it with 400) and, where a value is required, at least one
# character that is not white space (the forms strip it, so "   " is empty). The space characters are spelled out:
# `\s` means different sets in Python (what the app strips) and in ECMA regexes (what validators use).
_SPACE = r"\t\n\u000b\f\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
TEXT = r"^[^\u0000]*$"
NON_BLANK = rf"^[^\u0000]*[^\u0000{_SPACE}][^\u0000]*$"


def _bare(pattern: re.Pattern[str]) -> str:
    """A validation regex of privacy.py without its anchors, to combine here."""
    return pattern.pattern.removeprefix("^").removesuffix("$")


# privacy.is_phone once normalised: a mobile number, or a landline with its area code; ASCII digits.
PHONE = f"^({_bare(privacy.MOBILE)}|{_bare(privacy.LANDLINE)})$"
ID_NUMBER = f"^({_bare(privacy.ID_NUMBER)})?$"  # empty: not given
ID_FORMAT = "gb11643"  # 18 characters whose last is the GB 11643 check character (custom format, described below)
RECEIPT_NO = r"^(TS|JY|ZG)[0-9]{14}$"
QUERY_CODE = r"^[A-HJ-NP-Z2-9]{8}$"
IDEMPOTENCY_KEY_MAX = 40
# EvaluationForm.business_no once stripped: empty (not given), or up to 40 ASCII letters, digits and hyphens.
BUSINESS_NO = rf"^[{_SPACE}]*([A-Za-z0-9-]{{1,40}}[{_SPACE}]*)?$"
OTHER = "other"

_KEY: list[dict[str, list[str]]] = [{"apiKey": []}]
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "给人看的中文说明"},
        "fields": {
            "type": "object",
            "description": "字段名 → 该字段的问题",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}
_WORDS = {
    400: "请求体不是 JSON 对象，或网址、请求头、内容中含有空字符、控制字符或无效编码",
    401: "缺少或错误的 API 密钥（X-API-Key）",
    404: "受理编号或查询码不正确",
    413: "请求体超过 64 KB",
    422: "字段缺少、类型不对、内容有误或不支持；Idempotency-Key 超过 40 个字符，或已用于内容不同的另一次提交",
    429: "请求过于频繁；Retry-After 给出需等待的秒数",
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": _WORDS[c], **_json(_ERROR)} for c in codes}


def _text(max_length: int, description: str, *, required: bool = False) -> dict[str, Any]:
    """A text field as the forms check it: its limit counted after surrounding space is removed."""
    pattern = {"pattern": NON_BLANK, "minLength": 1} if required else {"pattern": TEXT}
    return {"type": "string", "maxLength": max_length, **pattern, "description": description}


def _target(keys: list[str], what: str) -> dict[str, Any]:
    return {
        "type": "string",
        "enum": keys,
        "description": f"{what}：window:办公场所:窗口号、post:岗位标识、staff:工号 或 service:事项编码"
        "（本大厅的全部取值见 enum）",
    }


IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX, "pattern": TEXT},
    "description": (
        f"重试键（最长 {IDEMPOTENCY_KEY_MAX} 个字符，按对接系统分别计）：同一键、同样内容的重复提交只受理一次，"
        "返回第一次的结果；超过长度，或同一键用于内容不同的提交，返回 422"
    ),
}


def _complaint(targets: list[str]) -> dict[str, Any]:
    """The body of POST /complaints: ComplaintForm's fields and checks."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["target", "matter", "name", "phone", "consent"],
        "properties": {
            "target": _target([*targets, OTHER], "投诉对象，或 other（须在 target_text 写明）"),
            "target_text": _text(100, "target 为 other 时必填：写明投诉的窗口、人员或事项"),
            "matter": _text(2000, "投诉事项", required=True),
            "demand": _text(1000, "诉求（选填）"),
            "name": _text(40, "姓名", required=True),
            "phone": {
                "type": "string",
                "pattern": PHONE,
                "description": "11 位手机号码，或带区号的固定电话（如 0575-86123400）；全角数字按半角处理",
            },
            "id_number": {
                "type": "string",
                "pattern": ID_NUMBER,
                "format": ID_FORMAT,
                "description": "身份证号码（选填）：18 位，最后一位是按 GB 11643 计算的校验码（0–9 或 X）",
            },
            "consent": {"type": "boolean", "const": True, "description": "已阅读并同意个人信息收集说明"},
        },
        "if": {"required": ["target"], "properties": {"target": {"const": OTHER}}},
        "then": {"required": ["target_text"], "properties": {"target_text": {"pattern": NON_BLANK}}},
    }


def _evaluation(targets: list[str]) -> dict[str, Any]:
    """The body of POST /evaluations: EvaluationForm's fields and checks."""
    levels = "，".join(f"{k} {v}" for k, v in LEVELS.items())
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["target", "level"],
        "properties": {
            "target": _target(targets, "评价对象"),
            "level": {"type": "integer", "minimum": min(LEVELS), "maximum": max(LEVELS), "description": levels},
            "reason": _text(1000, f"原因或建议；评价为 {BAD_UP_TO} 及以下（不满意）时必填"),
            "business_no": {
                "type": "string",
                "pattern": BUSINESS_NO,
                "description": "办件编号（选填，一事一评）：办事回执上的编号，最多 40 个字母、数字或连字符",
            },
        },
        "if": {"required": ["level"], "properties": {"level": {"maximum": BAD_UP_TO}}},
        "then": {"required": ["reason"], "properties": {"reason": {"pattern": NON_BLANK}}},
    }


_RECEIPT = {
    "type": "object",
    "required": ["receipt_no", "query_code", "status"],
    "properties": {
        "receipt_no": {"type": "string", "pattern": RECEIPT_NO, "description": "受理编号"},
        "query_code": {"type": "string", "pattern": QUERY_CODE, "description": "查询码，与受理编号一起查询办理情况"},
        "status": {"type": "string", "enum": list(STATES)},
    },
}
_RECORDED = {
    "type": "object",
    "required": ["recorded", "rectification"],
    "properties": {
        "recorded": {"const": True},
        "rectification": {
            "description": "不满意的评价自动立案：受理编号、查询码、整改期限（天数）和回访整改承诺；满意时为 null",
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["no", "code", "days", "promise"],
                    "properties": {
                        "no": {"type": "string", "pattern": RECEIPT_NO},
                        "code": {"type": "string"},
                        "days": {"type": "string", "pattern": "^[0-9]+$"},
                        "promise": {"type": "string"},
                    },
                },
            ],
        },
    },
}
_STATUS = {
    "type": "object",
    "required": ["receipt_no", "status", "status_label", "category", "deadline", "replies"],
    "properties": {
        "receipt_no": {"type": "string", "pattern": RECEIPT_NO},
        "status": {"type": "string", "enum": list(STATES)},
        "status_label": {"type": "string", "enum": list(STATES.values())},
        "category": {"type": ["string", "null"], "description": "投诉分类（分类前为 null）"},
        "deadline": {"type": ["string", "null"], "format": "date", "description": "答复期限（无期限时为 null）"},
        "replies": {"type": "array", "items": {"type": "string"}, "description": "给投诉人的答复，按时间先后"},
    },
}


def spec(targets: Iterable[str]) -> dict[str, Any]:
    """The OpenAPI 3.1 document, with this hall's targets (catalogue keys) as the values `target` accepts."""
    keys = sorted(targets)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "人社服务大厅 投诉与评价接口",
            "version": "1.1.0",
            "description": (
                "供热线系统、小程序等对接：提交投诉和评价，按受理编号和查询码查询办理状态。"
                '所有回答都是 JSON；出错时为 {"error": "说明"}，字段有误时另有 fields。'
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": {"Error": _ERROR},
        },
        "paths": {
            "/complaints": {
                "post": {
                    "summary": "提交投诉",
                    "security": _KEY,
                    "parameters": [IDEMPOTENCY],
                    "requestBody": {"required": True, **_json(_complaint(keys))},
                    "responses": {
                        "201": {"description": "已受理", **_json(_RECEIPT)},
                        "200": {
                            "description": "同一 Idempotency-Key、同样内容的重复提交：第一次的受理编号",
                            **_json(_RECEIPT),
                        },
                        **_errors(400, 401, 413, 422, 429),
                    },
                }
            },
            "/evaluations": {
                "post": {
                    "summary": "提交评价（不满意、非常不满意须写原因，并自动立案整改）",
                    "security": _KEY,
                    "parameters": [IDEMPOTENCY],
                    "requestBody": {"required": True, **_json(_evaluation(keys))},
                    "responses": {
                        "201": {
                            "description": "已记录（同一 Idempotency-Key 的重复提交返回第一次的结果）",
                            **_json(_RECORDED),
                        },
                        **_errors(400, 401, 413, 422, 429),
                    },
                }
            },
            "/cases/{receipt_no}": {
                "get": {
                    "summary": "查询办理状态",
                    "security": _KEY,
                    "parameters": [
                        {
                            "name": "receipt_no",
                            "in": "path",
                            "required": True,
                            "description": "受理编号",
                            "schema": {"type": "string", "pattern": RECEIPT_NO},
                        },
                        {
                            "name": "X-Query-Code",
                            "in": "header",
                            "required": True,
                            "description": "回执上的查询码",
                            "schema": {"type": "string", "pattern": QUERY_CODE},
                        },
                    ],
                    "responses": {
                        "200": {"description": "状态、期限和答复", **_json(_STATUS)},
                        **_errors(400, 401, 404, 429),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "本接口说明（无须密钥）",
                    "responses": {"200": {"description": "OpenAPI 文档", **_json({"type": "object"})}, **_errors(400)},
                }
            },
        },
    }
