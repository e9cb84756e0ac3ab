"""The input gate: one check of every request's path, query, headers, form and JSON before any view reads them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, Map

from forms_api.errors import InvalidInput

# NUL: PostgreSQL refuses it in text. A lone surrogate (json.loads accepts "\ud800"): it cannot be encoded as
# UTF-8, so it could be neither encrypted, hashed nor stored, and would fail half-way through a request.
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
# In addresses every control character is refused too: no page of this site has one in its URL, and a CR or LF
# copied into a redirect (the login's `next`) would make an invalid Location header.
BAD_URL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
# NAME_MAX: a longer segment names no route and no file of the site (the file system would answer
# "File name too long" instead of "not found"); PATH_MAX bounds the whole address the same way.
SEGMENT_MAX = 255
PATH_MAX = 4096
INT_MAX = 2**31 - 1  # PostgreSQL's INTEGER, the type of every id in the database

URL_MESSAGE = "网址中含有无法处理的字符（如控制字符或无效编码），请检查网址。"
BODY_MESSAGE = "提交的内容含有无法处理的字符（如空字符或无效编码），请删除这些字符后重新提交。"
HEADER_MESSAGE = "请求头中含有无法处理的字符（如空字符），请检查后重试。"


class BoundedInt(IntegerConverter):
    """`<int:…>` in a route: ASCII digits, 0 to 2**31-1; anything else names nothing, so 404, never a query."""

    regex = r"[0-9]+"  # `\d` would also match full-width and other scripts' digits

    def __init__(self, url_map: Map, fixed_digits: int = 0, min: int | None = 0, max: int | None = INT_MAX) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max)


def _strings(value: Any) -> Iterator[str]:
    """Every key and string in a JSON value, without recursion (a deeply nested body must not overflow the stack)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _any(pattern: re.Pattern[str], values: Iterable[str]) -> bool:
    return any(pattern.search(value) for value in values)


def _pairs(multi: Any) -> Iterator[str]:
    """Keys and values of a MultiDict (query string, form) as one stream of text."""
    for key, value in multi.items(multi=True):
        yield key
        yield value


def _json() -> Any:
    """The parsed JSON body (cached for the view), or None when there is none or it is not JSON."""
    if not request.is_json:
        return None
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None  # too deep to parse: the API refuses it as "not a JSON object"


def check_request() -> None:
    """Refuse, with a clear 400, text no view could store; 404 for addresses too long to name anything."""
    path = request.path
    if len(path.encode("utf-8", "surrogatepass")) > PATH_MAX or any(
        len(part.encode("utf-8", "surrogatepass")) > SEGMENT_MAX for part in path.split("/")
    ):
        raise NotFound()
    if BAD_URL.search(path) or _any(BAD_URL, _pairs(request.args)):
        raise InvalidInput(URL_MESSAGE)
    if _any(BAD_TEXT, request.headers.values()):
        raise InvalidInput(HEADER_MESSAGE)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return  # no view reads a body on these
    if _any(BAD_TEXT, _pairs(request.form)) or _any(BAD_TEXT, _strings(_json())):
        raise InvalidInput(BODY_MESSAGE)


def init_app(app: Flask) -> None:
    """Bounded integers in routes, and the gate before every other request hook (CSRF and rate-limit keys read
    the form too)."""
    app.url_map.converters["int"] = BoundedInt
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
