"""The case as a state machine: states and allowed transitions are data, in this module only."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Transition:
    """One allowed move: from which states, to which state, and who may make it."""

    name: str
    label: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]


def _t(name: str, label: str, sources: set[str], target: str, roles: set[str]) -> Transition:
    return Transition(name, label, frozenset(sources), target, frozenset(roles))


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("refuse", "不予受理并告知去向", {"received"}, "refused", {"intake"}),
        _t("settle", "现场协调办结", {"received"}, "replied", {"intake"}),
        _t("file", "立案处理", {"received"}, "filed", {"intake"}),
        _t("opinion", "作为意见反映", {"received"}, "opinion", {"intake"}),
        _t("issue_order", "签发督办单", {"filed", "reopened"}, "supervising", {"supervisor"}),
        _t("record_handling", "登记处理结果", {"supervising"}, "handled", {"window-lead"}),
        _t("reply", "答复投诉人", {"handled", "opinion"}, "replied", {"supervisor"}),
        _t("close", "结案", {"replied"}, "closed", {"supervisor"}),
        _t("withdraw", "自愿撤销", set(WITHDRAWABLE), "withdrawn", {"citizen"}),
        _t("satisfied", "满意", {"replied"}, "closed", {"citizen"}),
        _t("unsatisfied", "不满意，申请再次督办", {"replied"}, "reopened", {"citizen"}),
    )
}


# What staff read in a case's history: every transition's label, plus the two events that are not moves.
ACTIONS: dict[str, str] = {
    "submit": "登记",
    **{t.name: t.label for t in TRANSITIONS.values()},
    "purge": "按保存期限删除个人信息",
}
CHANNELS = {"online": "网上", "onsite": "现场", "phone": "电话", "letter": "信函", "evaluation": "差评", "api": "接口"}


class TransitionRefused(Exception):
    """A transition the current state or the actor's role does not allow; the message is for people."""


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
