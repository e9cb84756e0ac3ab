"""The content model: one schema per kind of YAML file, shared by the generator and forms_api."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from core.fields import DEFAULT_HOURS, DEFAULT_TIMEZONE, Code, Link, Model, Slug, Text, absolute, zone
from core.guide import Basis, Faq, Fee, Handling, Implementer, Material, Remedy, Result, Service, Step
from core.vocab import CATEGORIES, CaseCategory

# The service guide's models live in core.guide; both sides name them through this module.
__all__ = ["Basis", "Faq", "Fee", "Handling", "Implementer", "Material", "Remedy", "Result", "Service", "Step"]


# ---------------------------------------------------------------- agency.yml
class Agency(Model):
    """The bureau itself (agency.yml)."""

    name: Text = Field(title="单位名称")
    short_name: Text | None = Field(None, title="单位简称")
    address: Text = Field(title="单位地址")
    responsibilities: list[Text] = Field(min_length=1, title="单位职责权限")
    supervisory_body: Text = Field(title="监督机关")
    supervisory_phone: Text = Field(title="监督电话")
    consultation_phone: Text = Field(title="咨询电话")
    complaint_phone: Text = Field(title="投诉电话")
    website: Link | None = Field(None, title="门户网站")


# --------------------------------------------------------------- offices.yml
class Window(Model):
    """One numbered counter in an office."""

    number: Code = Field(title="窗口号")
    name: Text = Field(title="窗口名称")
    scope: Text | None = Field(None, title="业务范围说明")


class Office(Model):
    """A county hall or a township/street 人社所."""

    id: Slug = Field(title="办公场所标识")
    name: Text = Field(title="名称")
    kind: Literal["县级服务大厅", "乡镇人社所", "街道人社所"] = Field(title="类型")
    address: Text = Field(title="地址")
    directions: Text = Field(title="交通指引")
    hours: Text = Field(DEFAULT_HOURS, title="办公时间")
    open_on_holidays: bool = Field(False, title="法定节假日是否办公")
    holiday_note: Text | None = Field(None, title="节假日说明")
    phone: Text = Field(title="咨询电话")
    windows: list[Window] = Field(min_length=1, title="窗口")
    updated: date = Field(title="更新日期")

    @model_validator(mode="after")
    def _unique_windows(self) -> Office:
        seen: set[str] = set()
        for window in self.windows:
            if window.number in seen:
                raise ValueError(f"窗口号「{window.number}」在「{self.name}」中重复")
            seen.add(window.number)
        return self


class Offices(Model):
    """offices.yml: every place where services are handled."""

    offices: list[Office] = Field(min_length=1, title="办公场所")


# ----------------------------------------------------------------- posts.yml
class Staff(Model):
    """A staff member as shown on the public site: name and staff number only."""

    number: Code = Field(title="工号")
    name: Text = Field(max_length=20, title="姓名")


class Post(Model):
    """A post (岗位) with its duties and its A and B staff (AB角)."""

    id: Slug = Field(title="岗位标识")
    name: Text = Field(title="岗位名称")
    office: Slug = Field(title="所在办公场所")
    windows: list[Code] = Field(min_length=1, title="所在窗口")
    duties: list[Text] = Field(min_length=1, title="岗位职责")
    a: Code = Field(title="A角（工号）")
    b: Code = Field(title="B角（工号）")
    updated: date = Field(title="更新日期")  # a new A or B, duties or windows: public within the 公开时限

    @field_validator("b")
    @classmethod
    def _a_is_not_b(cls, b: str, info: ValidationInfo) -> str:
        if b == info.data.get("a"):
            raise ValueError(f"A 角和 B 角不能是同一人（{b}）")
        return b


class Posts(Model):
    """posts.yml: staff directory and posts."""

    staff: list[Staff] = Field(min_length=1, title="工作人员")
    head: Code = Field(title="单位负责人（工号）")  # AB角: arranges a post's cases while its A and B are both away
    posts: list[Post] = Field(min_length=1, title="岗位")


# ------------------------------------------------- promises, rules, channels
class Promise(Model):
    """A service promise (服务承诺) and how it is supervised."""

    title: Text = Field(title="承诺事项")
    content: Text = Field(title="承诺内容")
    supervision: Text = Field(title="监督方式")
    updated: date = Field(title="更新日期")


class Promises(Model):
    """promises.yml."""

    promises: list[Promise] = Field(min_length=1, title="服务承诺")


RULE_IDS = (
    "first-inquiry",
    "one-time-notice",
    "time-limit",
    "ab-role",
    "service-promise",
    "badge",
    "courtesy",
    "complaints",
    "disclosure",
)


class Rule(Model):
    """A working rule (制度) as structured text."""

    id: Literal[RULE_IDS] = Field(title="制度标识")  # type: ignore[valid-type]
    name: Text = Field(title="制度名称")
    summary: Text = Field(title="概述")
    articles: list[Text] = Field(min_length=1, title="条文")
    updated: date = Field(title="更新日期")


class Rules(Model):
    """rules.yml: every rule in RULE_IDS must be present exactly once."""

    rules: list[Rule] = Field(min_length=1, title="工作制度")

    @model_validator(mode="after")
    def _all_rules_present(self) -> Rules:
        ids = [rule.id for rule in self.rules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"制度重复：{'、'.join(dupes)}")
        missing = [i for i in RULE_IDS if i not in ids]
        if missing:
            raise ValueError(f"缺少必须公开的制度：{'、'.join(missing)}")
        return self


class Channel(Model):
    """A complaint channel: on site, suggestion box, phone, 12345 hotline, online form or letter."""

    kind: Literal["现场", "意见箱", "电话", "12345转办", "网上", "信函"] = Field(title="渠道类型")
    name: Text = Field(title="渠道名称")
    detail: Text = Field(title="地址、电话或网址")
    hours: Text | None = Field(None, title="受理时间")
    link: Link | None = Field(None, title="链接")
    notes: Text | None = Field(None, title="说明")


class ComplaintCategory(Model):
    """How one kind of complaint is handled."""

    name: CaseCategory = Field(title="投诉类别")
    definition: Text = Field(title="适用情形")
    handling: Text = Field(title="处理方式")
    time_limit: Text = Field(title="处理时限")


class Complaints(Model):
    """complaint_channels.yml."""

    channels: list[Channel] = Field(min_length=1, title="投诉渠道")
    categories: list[ComplaintCategory] = Field(min_length=3, max_length=3, title="投诉分类处理")
    scope_note: Text | None = Field(None, title="受理范围说明")

    @field_validator("categories")
    @classmethod
    def _one_of_each(cls, categories: list[ComplaintCategory]) -> list[ComplaintCategory]:
        names = [c.name for c in categories]
        missing = "、".join(n for n in CATEGORIES if n not in names)
        if missing:
            raise ValueError(f"投诉分类处理须各写一次现场协调类、立案处理类、意见反映类，缺少：{missing}")
        return categories


# ------------------------------------------------------------- notices/*.yml
class Notice(Model):
    """A notice (通知公告), shown while in force, archived after."""

    id: Slug = Field(title="公告标识")
    title: Text = Field(title="标题")
    published: date = Field(title="发布日期")
    valid_from: date = Field(title="有效期起")
    valid_until: date | None = Field(None, title="有效期止")
    body: Text = Field(title="正文")

    @field_validator("valid_until")
    @classmethod
    def _range(cls, valid_until: date | None, info: ValidationInfo) -> date | None:
        valid_from = info.data.get("valid_from")
        if valid_until and valid_from and valid_until < valid_from:
            raise ValueError(f"有效期止（{valid_until}）早于有效期起（{valid_from}）")
        return valid_until


# -------------------------------------------------------------- holidays.yml
class HolidayRange(Model):
    """A public holiday as a date range."""

    name: Text = Field(title="节日名称")
    start: date = Field(title="放假起")
    end: date = Field(title="放假止")

    @field_validator("end")
    @classmethod
    def _range(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("start")
        if start and end < start:
            raise ValueError(f"放假止（{end}）早于放假起（{start}）")
        return end


class HolidayYear(Model):
    """One year's State Council arrangement."""

    year: int = Field(ge=2000, le=2100, title="年份")
    source: Text = Field(title="依据文件")
    holidays: list[HolidayRange] = Field(min_length=1, title="放假安排")
    workdays: list[date] = Field(default_factory=list, title="调休上班日")

    @model_validator(mode="after")
    def _dates_fit_the_year(self) -> HolidayYear:
        y, w, hs = self.year, self.workdays, self.holidays
        wrong = [f"「{h.name}」（{h.start} 至 {h.end}）不在 {y} 年内" for h in hs if {h.start.year, h.end.year} != {y}]
        wrong += [f"调休上班日 {d} 不在 {y} 年内" for d in w if d.year != y]
        wrong += [f"调休上班日 {d} 是星期{'一二三四五'[d.weekday()]}，应为周六或周日" for d in w if d.weekday() < 5]
        if wrong:
            raise ValueError("；".join(wrong))
        return self


class Holidays(Model):
    """holidays.yml: years the calendar library does not cover yet."""

    years: list[HolidayYear] = Field(default_factory=list, title="年度安排")

    @field_validator("years")
    @classmethod
    def _one_entry_a_year(cls, years: list[HolidayYear]) -> list[HolidayYear]:
        if repeated := sorted({y.year for y in years if [z.year for z in years].count(y.year) > 1}):
            raise ValueError(f"年份 {'、'.join(map(str, repeated))} 写了不止一个年度条目，每年只写一个")
        return years


# ------------------------------------------------------------ site_config.yml
class Category(Model):
    """A service category, in display order."""

    id: Slug = Field(title="类别标识")
    name: Text = Field(title="类别名称")
    description: Text | None = Field(None, title="类别说明")


class FormLinks(Model):
    """Addresses of the backend's citizen pages."""

    complaint: Link = Field("/forms/complaint/", title="我要投诉")
    evaluation: Link = Field("/forms/evaluation/", title="我要评价")
    suggestion: Link = Field("/forms/suggestion/", title="意见建议")
    tracking: Link = Field("/forms/track/", title="进度查询")


class SiteConfig(Model):
    """site_config.yml: site-wide settings."""

    site_name: Text = Field(title="网站名称")
    site_url: Annotated[Link, AfterValidator(absolute)] = Field(title="网站地址")
    description: Text | None = Field(None, title="网站简介")
    disclosure_days: int = Field(5, ge=1, le=60, title="公开时限（工作日）")
    categories: list[Category] = Field(min_length=1, title="事项类别")
    popular: list[Code] = Field(default_factory=list, title="常用事项")
    forms: FormLinks = Field(default_factory=FormLinks, title="在线表单地址")
    timezone: Annotated[Text, AfterValidator(zone)] = Field(DEFAULT_TIMEZONE, title="时区")
    retention_days: int = Field(1095, ge=30, le=3650, title="办结案件个人信息保存天数")
    copyright: Text | None = Field(None, title="版权信息")
    # What a Chinese government site's footer carries (国办发〔2017〕47号); shown on every page, the backend's too.
    organizer: Text | None = Field(None, title="主办单位")
    undertaker: Text | None = Field(None, title="承办单位")
    site_code: Text | None = Field(None, title="网站标识码")
    icp: Text | None = Field(None, title="ICP备案号")
    police_record: Text | None = Field(None, title="公安机关备案号")
    gov_badge: Annotated[Text, Field(pattern=r"^\w[\w./-]*$")] | None = Field(None, title="党政机关网站标识")
    gov_badge_link: Link | None = Field(None, title="党政机关网站标识核验地址")
