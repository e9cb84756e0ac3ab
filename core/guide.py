"""The service guide (办事指南): one file under content/services/, as provincial 政务服务网 guides publish it."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from core.fields import Code, Keywords, Link, Model, Slug, Text, link
from core.timelimits import TimeLimit

# 事项类型 as the 政务服务事项 catalogues list them (国务院 权责清单: ten kinds of power, then 公共服务).
ServiceType = Literal[
    "行政许可", "行政处罚", "行政强制", "行政征收", "行政给付", "行政检查",
    "行政确认", "行政奖励", "行政裁决", "其他行政权力", "公共服务",
]  # fmt: skip
# Who carries the service out, in law: the bureau itself, a body a law or regulation empowers, or one it entrusts.
Nature = Literal["法定机关", "法律法规授权的组织", "受委托组织"]
Delivery = Literal["窗口领取", "邮寄送达", "电子证照", "短信告知", "网上查询", "直接发放"]
FILE_TYPES = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".et", ".ofd", ".jpg", ".png")
DOWNLOADS = "downloads"  # content/downloads/ → the site's downloads/
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # lands in URLs and on disk as it is: nothing to escape
PERIOD = re.compile(r"^[1-9]\d{0,3}(日|个工作日|个月|年)$")


def _attachment(value: str) -> str:
    """A file under content/downloads/ (copied into the site), or a document on another site."""
    if value.startswith(("http://", "https://")):
        return link(value)
    parts = value.split("/")
    if parts[0] != DOWNLOADS or len(parts) != 2 or not FILE_NAME.match(parts[1]):
        where = (
            f"应写成 {DOWNLOADS}/文件名（文件名只用字母、数字、连字符、下划线和点），文件放在 content/{DOWNLOADS}/ 下；"
            "其他网站的文件写完整网址"
        )
        raise ValueError(f"文件「{value}」{where}")
    if not parts[1].lower().endswith(FILE_TYPES):
        raise ValueError(f"文件「{value}」的类型不能下载；可用的类型：{'、'.join(FILE_TYPES)}")
    return value


def _period(value: str) -> str:
    """A limit as the law words it: 60日, 15个工作日, 6个月, 1年."""
    if not PERIOD.match(value):
        raise ValueError(f"期限「{value}」应写成“60日”“15个工作日”“6个月”或“1年”")
    return value


Attachment = Annotated[str, AfterValidator(_attachment)]
Period = Annotated[str, AfterValidator(_period)]


class Implementer(Model):
    """实施主体: who carries the service out, and on what authority."""

    name: Text = Field(title="实施主体名称")
    nature: Nature = Field(title="实施主体性质")


class Result(Model):
    """办理结果: what the applicant receives, a sample of it, and how it reaches them."""

    name: Text = Field(title="结果名称")
    sample: Attachment | None = Field(None, title="结果样本")
    delivery: list[Delivery] = Field(min_length=1, title="送达方式")


class Remedy(Model):
    """救济途径: where to challenge the decision, and within what period."""

    kind: Literal["行政复议", "行政诉讼", "向人民法院起诉", "申请复核"] = Field(title="途径")
    case: Text | None = Field(None, title="适用情形")
    body: Text = Field(title="受理机关")
    limit: Period | None = Field(None, title="期限")  # None: the law sets none (仲裁不予受理后起诉)
    counted_from: Text = Field("知道或者应当知道该行为之日", title="期限起算")
    basis: Text | None = Field(None, title="依据")


class Material(Model):
    """One item of the materials list (申请材料)."""

    name: Text = Field(title="材料名称")
    required: bool = Field(True, title="是否必需")
    condition: Text | None = Field(None, title="需要提供的情形")
    form: Literal["原件", "复印件", "原件和复印件", "电子材料"] = Field(title="材料形式")
    copies: int = Field(1, ge=0, le=99, title="份数")
    source: Text = Field(title="来源渠道")
    notes: Text | None = Field(None, title="备注")
    blank_form: Attachment | None = Field(None, title="空白表格")
    sample: Attachment | None = Field(None, title="填写样例")

    @model_validator(mode="after")
    def _condition_matches_required(self) -> Material:
        if not self.required and not self.condition:
            raise ValueError(f"材料「{self.name}」不是必需的，请用 condition 写明在什么情形下需要提供")
        if self.required and self.condition:
            raise ValueError(f"材料「{self.name}」写了 condition，请同时写 required: false")
        return self


class Step(Model):
    """One step of the procedure (办理流程)."""

    name: Text = Field(title="环节")
    description: Text = Field(title="办理说明")


class Fee(Model):
    """Fee standard and its basis; a free service says 不收费."""

    standard: Text = Field(title="收费标准")
    basis: Text = Field(title="收费依据")


class Basis(Model):
    """A policy basis: a law or document and its article."""

    document: Text = Field(title="法规或文件名称")
    article: Text | None = Field(None, title="条款")
    valid_until: date | None = Field(None, title="有效期止")


class Handling(Model):
    """Where the service is handled: an office and some of its windows."""

    office: Slug = Field(title="办理场所")
    windows: list[Code] = Field(min_length=1, title="办理窗口")


class Faq(Model):
    """A frequently asked question."""

    q: Text = Field(title="问题")
    a: Text = Field(title="解答")


class Service(Model):
    """One service guide (办事指南), one file under services/."""

    code: Code = Field(title="事项编码")
    name: Text = Field(title="事项名称")
    keywords: Keywords = Field(default_factory=list, title="别名（搜索关键词）")
    category: Slug = Field(title="事项类别")
    type: ServiceType = Field(title="事项类型")
    kind: Literal["即办件", "承诺件"] = Field(title="办件类型")
    implementer: Implementer = Field(title="实施主体")
    audience: Text = Field(title="服务对象")
    summary: Text | None = Field(None, title="事项简介")
    conditions: list[Text] = Field(min_length=1, title="受理条件")
    materials: list[Material] = Field(min_length=1, title="申请材料")
    steps: list[Step] = Field(min_length=1, title="办理流程")
    time_limit: TimeLimit = Field(title="办理时限")
    visits: int = Field(ge=0, le=10, title="到现场次数")
    fee: Fee = Field(title="收费")
    basis: list[Basis] = Field(min_length=1, title="政策依据")
    result: Result = Field(title="办理结果")
    remedies: list[Remedy] = Field(default_factory=list, title="救济途径")
    handling: list[Handling] = Field(min_length=1, title="办理地点和窗口")
    posts: list[Slug] = Field(default_factory=list, title="承办岗位")
    online: Link | None = Field(None, title="网上办理")
    phone: Text = Field(title="咨询电话")
    complaint_phone: Text | None = Field(None, title="投诉电话")
    faq: list[Faq] = Field(default_factory=list, title="常见问题")
    updated: date = Field(title="更新日期")
    change_note: Text = Field(title="变更说明")
    valid_from: date | None = Field(None, title="有效期起")
    valid_until: date | None = Field(None, title="有效期止")

    @model_validator(mode="after")
    def _kind_matches_limit(self) -> Service:
        if self.kind == "即办件" and not self.time_limit.instant:
            raise ValueError("即办件每个阶段的承诺时限都应为「即办」；需要时间办理的请写 kind: 承诺件")
        if self.kind == "承诺件" and self.time_limit.instant:
            raise ValueError("承诺件至少要有一个阶段的承诺时限不是「即办」；当场办结的请写 kind: 即办件")
        return self

    @model_validator(mode="after")
    def _remedies_for_acts(self) -> Service:
        # An administrative act must tell the citizen how to challenge it (行政复议法、行政诉讼法).
        if self.type != "公共服务" and not self.remedies:
            raise ValueError(f"事项类型为{self.type}，请用 remedies 写明救济途径（行政复议、行政诉讼的机关和期限）")
        return self

    @model_validator(mode="after")
    def _validity(self) -> Service:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError(f"有效期止（{self.valid_until}）早于有效期起（{self.valid_from}）")
        return self
