"""JSON Schemas of the content kinds, from the content model, for editors' IDEs (`portal schema`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core import model as m
from core.fields import CODE_PATTERN, SLUG_PATTERN
from core.procedure import Limit, Procedure
from core.timelimits import Span, Stage, TimeLimit

DIALECT = "http://json-schema.org/draft-07/schema#"  # what editors' YAML extensions support most widely
PLACEHOLDERS = "文字中可以写 {reply} 这样的占位符，生成时换成 procedure.yml 规定的时限。"


@dataclass(frozen=True)
class Kind:
    """One kind of content file: its model, the files it applies to (from the project root), its Chinese name."""

    name: str
    model: type[BaseModel]
    glob: str
    title: str

    @property
    def filename(self) -> str:
        return f"{self.name}.schema.json"


KINDS = (
    Kind("agency", m.Agency, "content/agency.yml", "单位信息"),
    Kind("offices", m.Offices, "content/offices.yml", "办公场所和窗口"),
    Kind("posts", m.Posts, "content/posts.yml", "工作人员和岗位（AB角）"),
    Kind("promises", m.Promises, "content/promises.yml", "服务承诺"),
    Kind("rules", m.Rules, "content/rules.yml", "工作制度"),
    Kind("complaint_channels", m.Complaints, "content/complaint_channels.yml", "投诉渠道和投诉分类处理"),
    Kind("holidays", m.Holidays, "content/holidays.yml", "法定节假日安排（补充）"),
    Kind("procedure", Procedure, "content/procedure.yml", "投诉处理时限"),
    Kind("service", m.Service, "content/services/*.yml", "办事指南"),
    Kind("notice", m.Notice, "content/notices/*.yml", "通知公告"),
    Kind("site_config", m.SiteConfig, "site_config.yml", "站点设置"),
)

# Each model's Chinese name and what it is: the docstrings are for developers, in English.
MODELS: dict[type[BaseModel], tuple[str, str]] = {
    m.Agency: ("单位信息", "本单位的名称、地址、职责和监督、咨询、投诉电话。"),
    m.Window: ("窗口", "办公场所里的一个窗口；窗口号加引号写成字符串。"),
    m.Office: ("办公场所", "县级服务大厅或乡镇、街道人社所。"),
    m.Offices: ("办公场所和窗口", "办理事项的全部场所。"),
    m.Staff: ("工作人员", "只公开工号和姓名，不写电话、身份证号等个人信息。"),
    m.Post: ("岗位", "岗位职责和 A 角、B 角（写工号）。"),
    m.Posts: ("工作人员和岗位", "工作人员名单、单位负责人和岗位（AB角）。"),
    m.Material: ("申请材料", "一项申请材料；非必需的材料写 required: false 并用 condition 写明情形。"),
    m.Step: ("办理环节", "办理流程中的一个环节。"),
    TimeLimit: ("办理时限", "按阶段写法定时限和承诺时限，以及不计入时限的情形。"),
    Stage: ("办理阶段", "一个阶段（受理、决定、送达等）的法定时限和承诺时限；承诺时限不能长于法定时限。"),
    Span: ("时限", "写成「60日」（自然日）、「30个工作日」或「即办」。"),
    m.Fee: ("收费", "收费标准和依据；不收费时写“不收费”。"),
    m.Basis: ("政策依据", "法规或文件名称及条款。"),
    m.Handling: ("办理地点和窗口", "办理场所（offices.yml 中的标识）和其中的窗口号。"),
    m.Implementer: ("实施主体", "实施事项的机关或组织，以及它的性质（法定机关、法律法规授权的组织、受委托组织）。"),
    m.Result: ("办理结果", "申请人得到什么（证照、决定书、登记记录、待遇发放等），结果样本和送达方式。"),
    m.Remedy: ("救济途径", "对办理结果不服时的途径、受理机关和期限（如“60日”“6个月”）。"),
    m.Faq: ("常见问题", "一问一答。"),
    m.Service: ("办事指南", "一个事项的办事指南，每个事项一个文件。"),
    m.Promise: ("服务承诺", "一项承诺及其监督方式。"),
    m.Promises: ("服务承诺", PLACEHOLDERS),
    m.Rule: ("工作制度", "一项制度：标识、名称、概述和条文。"),
    m.Rules: ("工作制度", "九项制度各写一次。" + PLACEHOLDERS),
    m.Channel: ("投诉渠道", "现场、意见箱、电话、12345转办、网上或信函。"),
    m.ComplaintCategory: ("投诉分类处理", "一类投诉的适用情形、处理方式和时限。"),
    m.Complaints: ("投诉渠道和投诉分类处理", "三类投诉各写一次。" + PLACEHOLDERS),
    m.Notice: ("通知公告", "一条公告，每条一个文件；有效期内显示，过期后移入历史公告。"),
    m.HolidayRange: ("放假安排", "一个节日的放假起止日期。"),
    m.HolidayYear: ("年度安排", "一年的国务院办公厅放假安排。"),
    m.Holidays: ("法定节假日安排", "日历库尚未收录的年份。"),
    m.Category: ("事项类别", "按网站上的显示顺序排列。"),
    m.FormLinks: ("在线表单地址", "后台提供的群众办事页面的地址。"),
    m.SiteConfig: ("站点设置", "网站的全局设置。"),
    Limit: ("时限", "天数和计算方式（工作日或日）；0 表示当日。"),
    Procedure: ("投诉处理时限", "投诉处理各环节的时限：制度页面印出这些数字，后台督办按它们计算期限。"),
}
# What a field's type alone does not say.
FIELDS: dict[str, str] = {
    "site_url": "网站对外的完整地址，以 http:// 或 https:// 开头；二维码用它，不要写 127.0.0.1 或 example 地址。",
    "updated": "本指南最近一次修改的日期，写成 2026-01-31；据此核对公开时限。",
    "timezone": "时区名，如 Asia/Shanghai。",
}
PATTERNS = {
    CODE_PATTERN: "编码：字母、数字、连字符或下划线，如 JY-001；纯数字要加引号。",
    SLUG_PATTERN: "标识：小写字母、数字和连字符，如 county-hall。",
}


def _describe(node: Any) -> None:
    """Add Chinese hints beside pydantic's output, everywhere in the tree."""
    if isinstance(node, list):
        for item in node:
            _describe(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("format") == "date":
        node.setdefault("description", "日期，写成 2026-01-31。")
    elif node.get("pattern") in PATTERNS:
        node.setdefault("description", PATTERNS[node["pattern"]])
    elif node.get("type") == "string" and "minLength" in node and "enum" not in node:
        node["type"] = ["string", "number"]  # text (Text) may be written as a number: coerce_numbers_to_str
    for name, value in node.get("properties", {}).items():
        if name in FIELDS:
            value["description"] = FIELDS[name]
    for key, value in node.items():
        if key not in ("enum", "default", "required"):
            _describe(value)


def schema(kind: Kind) -> dict[str, Any]:
    """The JSON Schema of one kind, titled and described in Chinese."""
    found = kind.model.model_json_schema()
    models = {cls.__name__: cls for cls in MODELS}
    for name, definition in found.get("$defs", {}).items():
        definition["title"], definition["description"] = MODELS[models[name]]
    _, found["description"] = MODELS[kind.model]
    _describe(found)
    return {"$schema": DIALECT, **found, "title": f"{kind.title}（{kind.glob}）"}


def write_schemas(out: Path) -> list[Path]:
    """Write `<kind>.schema.json` for every kind into `out`; the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS:
        path = out / kind.filename
        path.write_text(json.dumps(schema(kind), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
