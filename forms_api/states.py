"""The case as a state machine, as data: every transition's roles, sources, inputs, effect and texts.

`workflow.apply()` reads this table and nothing else; a new transition is one entry here plus its form
fields (see docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from core.vocab import CaseCategory
from forms_api.errors import TransitionRefused

STATES: dict[str, str] = {
    "received": "已受理",
    "refused": "不予受理",
    "withdrawn": "已撤销",
    "filed": "已立案",
    "opinion": "意见反映待答复",
    "supervising": "督办中",
    "handled": "窗口已处理",
    "replied": "已答复",
    "reopened": "再次督办",
    "closed": "已办结",
}
FINAL = frozenset({"refused", "withdrawn", "closed"})
# A case waiting for the complainant's verdict has met its deadline: it is not overdue.
NOT_OVERDUE = FINAL | {"replied"}
# Handling has started once a 督办单 is issued; before that the complainant may withdraw.
WITHDRAWABLE = frozenset({"received", "filed", "opinion"})
INITIAL = "received"


@dataclass(frozen=True)
class Input:
    """A value a transition needs from the person making it; `message` is shown when it is missing."""

    name: str
    message: str


@dataclass(frozen=True)
class Deadline:
    """A deadline in working days from today: the number comes from an input or from a site setting."""

    source: Literal["input", "setting"]
    name: str


@dataclass(frozen=True)
class Effect:
    """What a transition does to the case besides its state."""

    category: CaseCategory | None = None  # the case is classified
    deadline: Deadline | None = None  # a new reply deadline
    locate: str | None = None  # input ("office:window") naming the window responsible from now on
    assign: bool = False  # AB角: the window's post's A, or its B while the A is away, handles it
    new_round: bool = False  # a new round of supervision, with its 督办单
    order: Literal["issue", "handle", "reply"] | None = None  # what is written on the round's 督办单
    resolution: str | None = None  # input kept as the case's result (reply, refusal reason)
    referral: str | None = None  # input naming where the citizen is sent instead
    limit: str | None = None  # site setting capping how often this transition may reopen the case
    limit_target: str = "closed"  # where the case goes once that limit is reached
    limit_note: str = ""  # what the audit row says then ("{limit}" is the setting's value)


@dataclass(frozen=True)
class Transition:
    """One allowed move, with everything the engine, the forms, the tracking page and the audit need."""

    name: str
    label: str  # what staff read on the button and in the history
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    inputs: tuple[Input, ...] = ()  # required
    optional: tuple[str, ...] = ()  # accepted but not required
    effect: Effect = field(default_factory=Effect)
    audit: str = ""  # the audit row's note, formatted with the inputs ("{reply}")
    citizen: str = ""  # what the complainant's tracking page says about this step
    done: str = ""  # the message shown to whoever made the move

    def missing(self, inputs: Mapping[str, Any]) -> dict[str, str]:
        """Required inputs that are absent, with the message for each."""
        return {i.name: i.message for i in self.inputs if inputs.get(i.name) in (None, "")}


def _t(
    name: str, label: str, sources: set[str] | frozenset[str], target: str, roles: set[str], **kw: Any
) -> Transition:
    return Transition(name, label, frozenset(sources), target, frozenset(roles), **kw)


REPLY = Input("reply", "请填写答复内容")
TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("refuse", "不予受理并告知去向", {"received"}, "refused", {"intake"},
           inputs=(Input("reason", "请填写不予受理的理由"), Input("referral", "请告知投诉人应向哪里反映")),
           effect=Effect(resolution="reason", referral="referral"), citizen="不予受理，已告知去向"),
        _t("settle", "现场协调办结", {"received"}, "replied", {"intake"},
           inputs=(Input("reply", "请记录现场协调处理的情况"),),
           effect=Effect(category="现场协调类", resolution="reply"), audit="{reply}", citizen="现场协调处理，已答复"),
        _t("file", "立案处理", {"received"}, "filed", {"intake"},
           effect=Effect(category="立案处理类"), citizen="已立案，等待督办"),
        _t("opinion", "作为意见反映", {"received"}, "opinion", {"intake"},
           effect=Effect(category="意见反映类"), citizen="作为意见反映处理"),
        _t("issue_order", "签发督办单", {"filed", "reopened"}, "supervising", {"supervisor"},
           inputs=(Input("opinion", "请填写督办意见"), Input("days", "请填写答复期限"),
                   Input("window", "请选择责任窗口")),
           effect=Effect(deadline=Deadline("input", "days"), locate="window", assign=True, new_round=True,
                         order="issue"),
           citizen="已签发督办单，责任窗口办理中"),
        _t("record_handling", "登记处理结果", {"supervising"}, "handled", {"window-lead"},
           inputs=(Input("handling", "请填写处理结果"),), optional=("rectification",),
           effect=Effect(order="handle"), citizen="责任窗口已处理，等待答复"),
        _t("reply", "答复投诉人", {"handled", "opinion"}, "replied", {"supervisor"}, inputs=(REPLY,),
           effect=Effect(resolution="reply", order="reply"), audit="{reply}", citizen="已答复"),
        _t("close", "结案", {"replied"}, "closed", {"supervisor"}, citizen="已办结"),
        _t("open_rectification", "差评自动立案整改", {"received"}, "filed", {"system"},
           effect=Effect(category="立案处理类", deadline=Deadline("setting", "rectification_days")),
           audit="差评自动立案整改", citizen="差评已立案整改"),
        _t("withdraw", "自愿撤销", WITHDRAWABLE, "withdrawn", {"citizen"},
           citizen="投诉人自愿撤销", done="已撤销投诉"),
        _t("satisfied", "满意", {"replied"}, "closed", {"citizen"},
           citizen="投诉人表示满意，已办结", done="感谢您的评价，本案已办结"),
        _t("unsatisfied", "不满意，申请再次督办", {"replied"}, "reopened", {"citizen"},
           effect=Effect(limit="resupervision_limit", limit_note="已达再次督办上限 {limit} 次，结案"),
           citizen="投诉人不满意，申请再次督办", done="已收到您的意见"),
    )
}  # fmt: skip

# What staff read in a case's history: every transition's label, plus the two events that are not moves.
ACTIONS: dict[str, str] = {
    "submit": "登记",
    **{t.name: t.label for t in TRANSITIONS.values()},
    "purge": "按保存期限删除个人信息",
}


def check(name: str, state: str, role: str) -> Transition:
    """The transition `name` if `role` may make it from `state`; otherwise a clear refusal."""
    transition = TRANSITIONS.get(name)
    if transition is None:
        raise TransitionRefused("没有这个操作")
    if role not in transition.roles:
        raise TransitionRefused(f"您的角色不能执行「{transition.label}」")
    if state not in transition.sources:
        raise TransitionRefused(f"案件当前状态为「{STATES[state]}」，不能执行「{transition.label}」")
    return transition


def available(state: str, role: str) -> list[Transition]:
    """Transitions `role` may make from `state`, in table order (for buttons on the case page)."""
    return [t for t in TRANSITIONS.values() if state in t.sources and role in t.roles]
