"""procedure.yml: the complaint procedure's numbers, and their placeholders in the rules' text.

{reply} in rules.yml becomes 「5个工作日」; the complaint rule and the channels page may not spell a time limit
themselves, so the text citizens read and the deadlines the case engine enforces cannot disagree."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from core.errors import Problem
from core.fields import Model
from core.load import Document, Loc


class Limit(Model):
    """A time limit of one step: a number of working days (工作日) or calendar days (日); 0 means 当日."""

    days: int = Field(ge=0, le=60, title="天数")
    unit: Literal["工作日", "日"] = Field("工作日", title="计算方式")

    def text(self) -> str:
        """The limit as the rules read it: 5个工作日, 10日, 当日."""
        return "当日" if self.days == 0 else f"{self.days}个{self.unit}" if self.unit == "工作日" else f"{self.days}日"


class Procedure(Model):
    """procedure.yml: the complaint procedure's numbers; the rules pages print them, the case engine enforces them."""

    intake: Limit = Field(title="受理或告知去向")
    onsite: Limit = Field(title="现场协调办结")
    reply: Limit = Field(title="立案处理答复")
    extension: Limit = Field(title="延期最长")
    extensions: int = Field(1, ge=0, le=3, title="最多延期次数")
    opinion: Limit = Field(title="意见反映说明采纳情况")
    verify: Limit = Field(title="差评回访核实")
    rectify: Limit = Field(title="差评整改")
    followup: Limit = Field(title="答复后回访")
    appeal: Limit = Field(title="申请复督")
    resupervision: Limit = Field(title="复督答复")
    resupervision_rounds: int = Field(1, ge=1, le=5, title="复督次数")

    def limits(self) -> dict[str, Limit]:
        """Every step's limit by name, in the file's order."""
        return {name: value for name, value in self if isinstance(value, Limit)}

    def words(self) -> dict[str, str]:
        """What a placeholder such as {reply} in the rules becomes: 5个工作日, 当日, 1."""
        numbers = {"extensions": str(self.extensions), "resupervision_rounds": str(self.resupervision_rounds)}
        return {**{name: limit.text() for name, limit in self.limits().items()}, **numbers}


PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")  # other braces are text
# A limit written out ("5个工作日", "10 日内") where a placeholder belongs.
SPELLED = re.compile(r"(?:\d+|[一二两三四五六七八九十]+)\s*个?\s*(?:工作日|自然日|日内|天)")


def _strings(data: Any, loc: Loc = ()) -> list[tuple[Loc, str]]:
    """Every string in a YAML tree with its location."""
    if isinstance(data, str):
        return [(loc, data)]
    if isinstance(data, dict):
        return [found for key, value in data.items() for found in _strings(value, (*loc, key))]
    if isinstance(data, list):
        return [found for i, value in enumerate(data) for found in _strings(value, (*loc, i))]
    return []


def _set(data: Any, loc: Loc, value: str) -> None:
    """Replace the string at `loc`."""
    for part in loc[:-1]:
        data = data[part]
    data[loc[-1]] = value


def fill(doc: Document, words: dict[str, str], strict: tuple[Loc, ...] = ()) -> list[Problem]:
    """Put the procedure's numbers in place of {name}; under the locations in `strict` (the parts about the
    complaint procedure) a time limit spelled out in digits is an error too."""
    problems: list[Problem] = []
    known = "、".join(f"{{{name}}}" for name in words)
    for loc, text in _strings(doc.data):
        for name in PLACEHOLDER.findall(text):
            if name not in words:
                message = f"占位符「{{{name}}}」不存在；可以写的有：{known}（见 procedure.yml）"
                problems.append(Problem(doc.path, doc.line_of(loc), message))
        if any(loc[: len(part)] == part for part in strict) and (found := SPELLED.search(text)):
            message = f"投诉处理时限「{found.group(0)}」请写成占位符（如 {{reply}}），由 procedure.yml 统一规定"
            problems.append(Problem(doc.path, doc.line_of(loc), message))
        if PLACEHOLDER.search(text):
            _set(doc.data, loc, PLACEHOLDER.sub(lambda m: words.get(m.group(1), m.group(0)), text))
    return problems


def complaint_rule(doc: Document) -> tuple[Loc, ...]:
    """Where rules.yml keeps the 投诉处理制度 (the rule with id complaints), if it does."""
    rules = doc.data.get("rules") if isinstance(doc.data, dict) else None
    items = rules if isinstance(rules, list) else []
    return tuple(
        ("rules", i) for i, rule in enumerate(items) if isinstance(rule, dict) and rule.get("id") == "complaints"
    )


def fill_all(singles: dict[str, Document], procedure: Procedure) -> list[Problem]:
    """Fill the placeholders of the rules, the channels page and the promises; strict where they describe the
    complaint procedure."""
    words, problems = procedure.words(), []
    if rules := singles.get("rules"):
        problems += fill(rules, words, strict=complaint_rule(rules))
    if channels := singles.get("complaint_channels"):
        problems += fill(channels, words, strict=(("categories",), ("scope_note",)))
    if promises := singles.get("promises"):
        problems += fill(promises, words)
    return problems
