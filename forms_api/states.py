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
    "received": "待受理",
    "refused": "不予受理",
    "withdrawn": "已撤销",
    "coordinating": "现场协调中",
    "filed": "已立案",
    "opinion": "意见反映待答复",
    "verifying": "差评待回访核实",
    "supervising": "督办中",
    "extension_asked": "延期待审批",
    "returned": "督办单被退回",
    "handled": "窗口已处理",
    "replied": "已答复",
    "reopened": "复督中",
    "closed": "已办结",
}
FINAL = frozenset({"refused", "withdrawn", "closed"})
# What someone owes by the case's deadline in each open state (the queue and the case page say it).
OWED: dict[str, str] = {
    "received": "受理或告知去向",
    "coordinating": "现场协调办结",
    "filed": "签发督办单",
    "opinion": "说明采纳情况",
    "verifying": "回访核实差评",
    "supervising": "责任窗口办理",
    "extension_asked": "审批延期",
    "returned": "重新指定窗口签发督办单",
    "handled": "答复投诉人",
    "replied": "回访投诉人",
    "reopened": "复督签发督办单",
}
# The procedure.yml step whose limit each open state is due by (cases from before every step had a deadline get
# theirs from `portal cases sweep`, counted from their last move).
STEP: dict[str, str] = {
    "received": "intake", "coordinating": "onsite", "filed": "reply", "opinion": "opinion", "verifying": "verify",
    "supervising": "reply", "extension_asked": "reply", "returned": "reply", "handled": "reply",
    "replied": "followup", "reopened": "resupervision",
}  # fmt: skip
# A replied case owes staff a 回访 by its deadline; the complainant's silence is not anyone's delay.
NOT_OVERDUE = FINAL
# 投诉人在处理结束前可以撤回投诉: any open state, except while asked for a verdict on the reply.
WITHDRAWABLE = frozenset(STATES) - FINAL - {"replied"}
INITIAL = "received"
DISPOSITIONS = ("作为整改参考", "转有关职能部门", "呈上级")
FOLLOW_UP_METHODS = ("电话", "短信", "信函", "电子邮件", "当面")
FOLLOW_UP_RESULTS = ("满意", "基本满意", "不满意")


@dataclass(frozen=True)
class Input:
    """A value a transition needs from the person making it; `message` is shown when it is missing."""

    name: str
    message: str
    choices: tuple[str, ...] = ()  # when given, the value must be one of these


@dataclass(frozen=True)
class Needs:
    """An input required only when another input has a value (a referral names the body it goes to)."""

    when: str
    equals: str
    name: str
    message: str


@dataclass(frozen=True)
class Effect:
    """What a transition does to the case besides its state."""

    category: CaseCategory | None = None  # the case is classified
    deadline: str | None = None  # procedure.yml step whose limit, from today, is the case's new deadline
    extend: bool = False  # 延期: the deadline moves by procedure.yml's extension limit
    appeal: bool = False  # a reply: the complainant may ask for 复督 within procedure.yml's appeal limit
    locate: str | None = None  # input ("office:window") naming the window responsible from now on
    assign: bool = False  # who handles: AB角, conflict of interest, window lead, 单位负责人 (views.assignee)
    new_round: bool = False  # a new 督办单
    order: Literal["issue", "handle", "reply", "return"] | None = None  # what is written on the current 督办单
    resolution: str | None = None  # input kept as the case's result (reply, refusal reason)
    referral: str | None = None  # input naming where the citizen is sent instead
    limit: str | None = None  # procedure.yml number capping how often the case may be reopened
    limit_target: str = "closed"  # where the case goes once that limit is reached
    limit_note: str = ""  # what the audit row says then ("{limit}" is the number)


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
    needs: tuple[Needs, ...] = ()  # required depending on another input
    branch: tuple[str, Mapping[str, str]] | None = None  # (input, {value: target}): the value picks the target
    anonymous: str | None = None  # target instead when the complainant left no name or phone: no reply is owed
    guards: tuple[str, ...] = ()  # conditions on the case checked by workflow.GUARDS, each with its refusal
    effect: Effect = field(default_factory=Effect)
    audit: str = ""  # the audit row's note, formatted with the inputs ("{reply}")
    citizen: str = ""  # what the complainant's tracking page says about this step
    done: str = ""  # the message shown to whoever made the move
    public: bool = False  # the audit note is the complainant's to read (a reply, an extension's reason)

    def fields(self) -> tuple[str, ...]:
        """Every input name this transition reads."""
        return (*(i.name for i in self.inputs), *self.optional, *(n.name for n in self.needs))

    def missing(self, inputs: Mapping[str, Any]) -> dict[str, str]:
        """Required inputs that are absent or not among their choices, with the message for each."""
        found = {i.name: i.message for i in self.inputs if _blank(inputs.get(i.name))}
        found |= {i.name: i.message for i in self.inputs if i.choices and inputs.get(i.name) not in i.choices}
        for need in self.needs:
            if inputs.get(need.when) == need.equals and _blank(inputs.get(need.name)):
                found[need.name] = need.message
        return found

    def targets(self) -> set[str]:
        """Every state this transition can lead to."""
        found = {self.target, *(self.branch[1].values() if self.branch else ())}
        if self.effect.limit:
            found.add(self.effect.limit_target)
        if self.anonymous:
            found.add(self.anonymous)
        return found


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _t(
    name: str, label: str, sources: set[str] | frozenset[str], target: str, roles: set[str], **kw: Any
) -> Transition:
    return Transition(name, label, frozenset(sources), target, frozenset(roles), **kw)


REPLY = Input("reply", "请填写答复内容")
ORDER_OPINION, ORDER_WINDOW = Input("opinion", "请填写督办意见"), Input("window", "请选择责任窗口")
REOPEN = Effect(deadline="resupervision", limit="resupervision_rounds",
                limit_note="复督以 {limit} 次为限，复督结论为最终处理意见，结案")  # fmt: skip
INTAKE = {"intake", "supervisor"}
TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("refuse", "不予受理并告知去向", {"received"}, "refused", INTAKE,
           inputs=(Input("reason", "请填写不予受理的理由"), Input("referral", "请告知投诉人应向哪里反映")),
           effect=Effect(resolution="reason", referral="referral"), audit="{reason}；告知去向：{referral}",
           citizen="不予受理，已告知去向", public=True),
        _t("coordinate", "现场协调", {"received"}, "coordinating", INTAKE,
           effect=Effect(category="现场协调类", deadline="onsite"), citizen="现场协调处理中"),
        _t("settle", "现场协调办结", {"received", "coordinating"}, "replied", INTAKE,
           inputs=(Input("reply", "请记录现场协调处理的情况"),), anonymous="closed",
           effect=Effect(category="现场协调类", resolution="reply", deadline="followup", appeal=True),
           audit="{reply}", citizen="现场协调处理，已答复", public=True),
        _t("escalate", "当场不能解决，转立案处理", {"coordinating"}, "filed", INTAKE,
           inputs=(Input("reason", "请填写当场不能解决的原因"),),
           effect=Effect(category="立案处理类", deadline="reply"), audit="{reason}", citizen="转为立案处理"),
        _t("file", "立案处理", {"received"}, "filed", INTAKE,
           effect=Effect(category="立案处理类", deadline="reply"), citizen="已立案，等待督办"),
        _t("opinion", "作为意见反映", {"received"}, "opinion", INTAKE,
           effect=Effect(category="意见反映类", deadline="opinion"), citizen="作为意见反映处理"),
        _t("open_rectification", "差评自动立案", {"received"}, "verifying", {"system"},
           effect=Effect(category="立案处理类", deadline="verify"), audit="差评自动立案，待回访核实",
           citizen="差评已立案，待回访核实"),
        _t("verify", "回访核实差评", {"verifying"}, "filed", INTAKE,
           inputs=(Input("verification", "请填写回访核实的情况"),), effect=Effect(deadline="rectify"),
           audit="{verification}", citizen="已回访核实，督促整改"),
        _t("issue_order", "签发督办单", {"filed", "reopened"}, "supervising", {"supervisor"},
           inputs=(ORDER_OPINION, ORDER_WINDOW), guards=("other_supervisor",),
           effect=Effect(locate="window", assign=True, new_round=True, order="issue"),
           citizen="已签发督办单，责任窗口办理中"),
        # After a 退单 the newly chosen window gets the whole reply limit: it only now learns of the matter.
        _t("reissue_order", "重新签发督办单", {"returned"}, "supervising", {"supervisor"},
           inputs=(ORDER_OPINION, ORDER_WINDOW), guards=("other_supervisor", "other_window"),
           effect=Effect(deadline="reply", locate="window", assign=True, new_round=True, order="issue"),
           citizen="已重新指定责任窗口并签发督办单"),
        _t("ask_extension", "申请延期", {"supervising"}, "extension_asked", {"window-lead"},
           inputs=(Input("reason", "请填写申请延期的理由"),), guards=("before_deadline", "extensions_left"),
           audit="{reason}", citizen="责任窗口申请延期"),
        _t("approve_extension", "批准延期", {"extension_asked"}, "supervising", {"supervisor"},
           guards=("extensions_left",), effect=Effect(extend=True), citizen="已批准延期", public=True),
        _t("refuse_extension", "不批准延期", {"extension_asked"}, "supervising", {"supervisor"},
           inputs=(Input("reason", "请填写不批准的理由"),), audit="{reason}", citizen="延期申请未获批准，按原期限办理"),
        _t("return_order", "退单", {"supervising"}, "returned", {"window-lead"},
           inputs=(Input("reason", "请填写退单理由（为什么不属于本窗口）"),), effect=Effect(order="return"),
           audit="{reason}", citizen="承办窗口退回督办单，重新指定承办窗口"),
        _t("record_handling", "登记处理结果", {"supervising"}, "handled", {"window-lead"},
           inputs=(Input("handling", "请填写处理结果"),), optional=("rectification",),
           effect=Effect(order="handle"), citizen="责任窗口已处理，等待答复"),
        _t("reply", "答复投诉人", {"handled"}, "replied", {"supervisor"}, inputs=(REPLY,), anonymous="closed",
           effect=Effect(resolution="reply", order="reply", deadline="followup", appeal=True), audit="{reply}",
           citizen="已答复", public=True),
        _t("answer_opinion", "答复意见反映", {"opinion"}, "replied", {"supervisor"},
           inputs=(REPLY, Input("disposition", "请选择处理方式", DISPOSITIONS)),
           needs=(Needs("disposition", "转有关职能部门", "referral", "请写明转交的职能部门"),),
           anonymous="closed", effect=Effect(resolution="reply", referral="referral", deadline="followup", appeal=True),
           audit="{disposition}：{reply}", citizen="已说明采纳情况", public=True),
        _t("follow_up", "登记回访", {"replied"}, "closed", INTAKE,
           inputs=(Input("method", "请选择回访方式", FOLLOW_UP_METHODS),
                   Input("result", "请选择回访结果", FOLLOW_UP_RESULTS)),
           branch=("result", {"不满意": "reopened"}), effect=REOPEN, audit="{method}回访：{result}",
           citizen="已回访"),
        _t("withdraw", "自愿撤销", WITHDRAWABLE, "withdrawn", {"citizen"},
           citizen="投诉人自愿撤销", done="已撤销投诉"),
        _t("satisfied", "满意", {"replied"}, "closed", {"citizen"},
           citizen="投诉人表示满意，已办结", done="感谢您的评价，本案已办结"),
        _t("unsatisfied", "不满意，申请复督", {"replied"}, "reopened", {"citizen"},
           inputs=(Input("reason", "请写明不满意的理由"),), guards=("within_appeal",), effect=REOPEN,
           audit="{reason}", citizen="投诉人不满意，申请复督", done="已收到您的复督申请", public=True),
        _t("expire", "复督申请期满结案", {"replied"}, "closed", {"system"}, guards=("appeal_over",),
           audit="收到答复后未在期限内申请复督，结案", citizen="未在期限内申请复督，已结案"),
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
