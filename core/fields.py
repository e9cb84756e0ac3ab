"""Field types every content kind shares: plain text, links, codes, and the strict base model."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

HTML_TAG = re.compile(r"<\s*/?\s*[A-Za-z!][^>]*>")
# YAML folds lines with a space, which is wrong between Chinese characters.
CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
CJK_GAP = re.compile(rf"(?<=[{CJK}])[ \t]*\n?[ \t]+(?=[{CJK}])")
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_HOURS = "周一至周五 9:00–12:00、13:30–17:00"


def _plain_text(value: str) -> str:
    """Refuse raw HTML (editors must not smuggle markup in); drop folding spaces inside Chinese."""
    found = HTML_TAG.search(value)
    if found:
        raise ValueError(f"不能包含 HTML 标签（发现 {found.group(0)}），请只写纯文本")
    return CJK_GAP.sub("", value)


def link(value: str) -> str:
    """Accept only http(s) addresses or site-relative paths."""
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.netloc:
        return value
    # A site path starts with one "/": "x" or "#x" breaks the strict mkdocs build, and browsers read "/\x" as "//x".
    if not parts.scheme and not parts.netloc and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    raise ValueError(f"链接「{value}」无效：只能是 http:// 或 https:// 开头的网址，或以 / 开头的站内路径")


def absolute(value: str) -> str:
    """The public address must be absolute: QR codes and canonical links carry it."""
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"网站地址「{value}」须以 http:// 或 https:// 开头，并以 / 结尾")
    return value if value.endswith("/") else value + "/"


def zone(value: str) -> str:
    """An IANA time zone name such as Asia/Shanghai."""
    try:
        ZoneInfo(value)
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError(f"时区「{value}」不存在，请写 Asia/Shanghai 这样的时区名") from None
    return value


def _keywords(words: list[str]) -> list[str]:
    """别名 are short (the search index holds every suffix of each: service.md.j2) and distinct."""
    wrong = {i: f"别名「{w}」有 {len(w)} 个字，最多 20 个字" for i, w in enumerate(words) if len(w) > 20}
    wrong |= {i: f"别名「{w}」重复，请删去一个" for i, w in enumerate(words) if w in words[:i]}
    if wrong:  # raised from a validator, a ValidationError keeps its locations: each problem on its item's line
        found = [
            InitErrorDetails(type=PydanticCustomError("value_error", "{m}", {"m": m}), loc=(i,), input=words[i])
            for i, m in sorted(wrong.items())
        ]
        raise ValidationError.from_exception_data("keywords", found)
    return words


Text = Annotated[str, Field(min_length=1), AfterValidator(_plain_text)]
Link = Annotated[str, AfterValidator(link)]
Code = Annotated[str, Field(pattern=CODE_PATTERN, max_length=64)]
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, max_length=64)]
Keywords = Annotated[list[Text], AfterValidator(_keywords)]


class Model(BaseModel):
    """Base for every content kind: unknown keys are errors, text is stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True, frozen=True)
