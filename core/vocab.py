"""Vocabularies both sides use: rating levels, case kinds, categories and outcomes, channels, staff roles."""

from __future__ import annotations

import typing
from typing import Literal

# 好差评: five levels, best first.
LEVELS: dict[int, str] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
SATISFIED_FROM = 3  # 基本满意 and better count towards the satisfaction rate
BAD_UP_TO = 2  # 不满意 and below must say why, and open a 差评整改 case

CASE_KINDS: dict[str, str] = {"complaint": "投诉", "suggestion": "意见建议", "rectification": "差评整改"}
CaseCategory = Literal["现场协调类", "立案处理类", "意见反映类"]
CATEGORIES: tuple[str, ...] = typing.get_args(CaseCategory)
# How a month's cases ended; "open" is everything not finished yet.
OUTCOMES: dict[str, str] = {"closed": "已办结", "withdrawn": "已撤销", "refused": "不予受理", "open": "办理中"}
CHANNELS: dict[str, str] = {
    "online": "网上",
    "onsite": "现场",
    "phone": "电话",
    "letter": "信函",
    "hotline": "12345转办",
    "box": "意见箱",
    "evaluation": "差评",
    "api": "接口",
}
STAFF_ROLES: dict[str, str] = {
    "intake": "受理员",
    "supervisor": "督办员",
    "window-lead": "窗口负责人",
    "auditor": "审计员",
}
