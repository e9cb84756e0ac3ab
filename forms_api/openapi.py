"""The OpenAPI document of the JSON API (kept beside the code; a test checks every route is described)."""

from __future__ import annotations

from typing import Any

_ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "fields": {"type": "object"}}}
_KEY: list[dict[str, list[str]]] = [{"apiKey": []}]


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "请求体不是 JSON 对象", 401: "缺少或错误的 API 密钥", 404: "受理编号或查询码不正确",
             422: "字段有误或不支持", 429: "请求过于频繁"}  # fmt: skip
    return {str(c): {"description": words[c], **_json(_ERROR)} for c in codes}


TARGET = {
    "type": "string",
    "description": "投诉或评价对象：window:办公场所:窗口号、post:岗位标识、staff:工号、service:事项编码，或 other",
}
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 40},
               "description": "同一键重复提交只受理一次，返回第一次的结果"}  # fmt: skip

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "人社服务大厅 投诉与评价接口",
        "version": "1.0.0",
        "description": "供热线系统、小程序等对接：提交投诉和评价，按受理编号和查询码查询办理状态。",
    },
    "servers": [{"url": "/api/v1"}],
    "components": {"securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}},
    "paths": {
        "/complaints": {
            "post": {
                "summary": "提交投诉",
                "security": _KEY,
                "parameters": [IDEMPOTENCY],
                "requestBody": {
                    "required": True,
                    **_json(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["target", "matter", "name", "phone", "consent"],
                            "properties": {
                                "target": TARGET,
                                "target_text": {"type": "string", "maxLength": 100},
                                "matter": {"type": "string", "maxLength": 2000},
                                "demand": {"type": "string", "maxLength": 1000},
                                "name": {"type": "string", "maxLength": 40},
                                "phone": {"type": "string"},
                                "id_number": {"type": "string"},
                                "consent": {"type": "boolean", "const": True},
                            },
                        }
                    ),
                },
                "responses": {
                    "201": {
                        "description": "已受理",
                        **_json(
                            {
                                "type": "object",
                                "properties": {
                                    "receipt_no": {"type": "string"},
                                    "query_code": {"type": "string"},
                                    "status": {"type": "string"},
                                },
                            }
                        ),
                    },
                    "200": {"description": "同一 Idempotency-Key 的重复提交，返回第一次的受理编号"},
                    **_errors(400, 401, 422, 429),
                },
            }
        },
        "/evaluations": {
            "post": {
                "summary": "提交评价（不满意、非常不满意须写原因，并自动立案整改）",
                "security": _KEY,
                "parameters": [IDEMPOTENCY],
                "requestBody": {
                    "required": True,
                    **_json(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["target", "level"],
                            "properties": {
                                "target": TARGET,
                                "level": {
                                    "type": "integer",
                                    "minimum": 1,
                                    "maximum": 5,
                                    "description": "5 非常满意 … 1 非常不满意",
                                },
                                "reason": {"type": "string", "maxLength": 1000},
                            },
                        }
                    ),
                },
                "responses": {"201": {"description": "已记录"}, **_errors(400, 401, 422, 429)},
            }
        },
        "/cases/{receipt_no}": {
            "get": {
                "summary": "查询办理状态",
                "security": _KEY,
                "parameters": [
                    {"name": "receipt_no", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "X-Query-Code", "in": "header", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "状态、期限和答复"}, **_errors(401, 404, 429)},
            }
        },
        "/openapi.json": {"get": {"summary": "本接口说明", "responses": {"200": {"description": "OpenAPI 文档"}}}},
    },
}
