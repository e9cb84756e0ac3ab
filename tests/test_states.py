"""The transition table itself: every state reachable, every entry consistent, refusals that say why."""

from __future__ import annotations

import pytest

from core.procedure import Procedure
from core.vocab import CATEGORIES, STAFF_ROLES
from forms_api import states
from forms_api.errors import TransitionRefused

ROLES = {*STAFF_ROLES, "citizen", "system"}
GUARDS = {"before_deadline", "extensions_left", "other_supervisor", "other_window", "within_appeal", "appeal_over"}


def _reachable() -> set[str]:
    """States reachable from a new case by following the table."""
    seen, todo = {states.INITIAL}, [states.INITIAL]
    while todo:
        state = todo.pop()
        for t in states.TRANSITIONS.values():
            for target in t.targets() - seen if state in t.sources else set():
                seen.add(target)
                todo.append(target)
    return seen


def test_every_state_is_reachable_from_a_new_case() -> None:
    assert _reachable() == set(states.STATES)


def test_every_final_state_has_no_way_out_and_every_other_state_has_one() -> None:
    for state in states.STATES:
        leaving = [t.name for t in states.TRANSITIONS.values() if state in t.sources]
        assert (not leaving) == (state in states.FINAL), (state, leaving)


@pytest.mark.parametrize("transition", states.TRANSITIONS.values(), ids=list(states.TRANSITIONS))
def test_every_entry_is_complete(transition: states.Transition) -> None:
    assert transition.sources <= set(states.STATES) and transition.target in states.STATES
    assert transition.roles and transition.roles <= ROLES
    assert transition.label and transition.citizen, "staff and citizens both read what happened"
    assert transition.effect.category in (None, *CATEGORIES)
    assert all(i.message.startswith("请") for i in transition.inputs)
    needed = set(transition.fields())
    effect = transition.effect
    uses = {effect.resolution, effect.referral, effect.locate} - {None}
    if transition.branch:
        uses.add(transition.branch[0])
    assert uses <= needed, f"the effect reads inputs the entry does not ask for: {uses - needed}"
    limits = {name for name, value in Procedure.model_fields.items()}
    assert {effect.deadline, effect.limit} - {None} <= limits, "numbers come from procedure.yml"
    assert set(transition.guards) <= GUARDS
    if "citizen" in transition.roles:
        assert transition.done, "a citizen's own action answers with a message"


REFUSED = [
    ("file", "received", "window-lead", "您的角色不能执行「立案处理」"),
    ("issue_order", "received", "supervisor", "案件当前状态为「待受理」，不能执行「签发督办单」"),
    ("ask_extension", "supervising", "supervisor", "您的角色不能执行「申请延期」"),
    ("approve_extension", "extension_asked", "window-lead", "您的角色不能执行「批准延期」"),
    ("return_order", "handled", "window-lead", "案件当前状态为「窗口已处理」，不能执行「退单」"),
    ("follow_up", "handled", "intake", "案件当前状态为「窗口已处理」，不能执行「登记回访」"),
    ("expire", "replied", "supervisor", "您的角色不能执行「复督申请期满结案」"),
    ("withdraw", "replied", "citizen", "案件当前状态为「已答复」，不能执行「自愿撤销」"),
    ("record_handling", "supervising", "auditor", "您的角色不能执行「登记处理结果」"),
    ("reply", "closed", "supervisor", "案件当前状态为「已办结」，不能执行「答复投诉人」"),
    ("satisfied", "handled", "citizen", "案件当前状态为「窗口已处理」，不能执行「满意」"),
    ("open_rectification", "received", "intake", "您的角色不能执行「差评自动立案」"),
    ("delete", "received", "supervisor", "没有这个操作"),
]


@pytest.mark.parametrize(("name", "state", "role", "message"), REFUSED)
def test_refused_transitions_say_why(name: str, state: str, role: str, message: str) -> None:
    with pytest.raises(TransitionRefused, match=message):
        states.check(name, state, role)


@pytest.mark.parametrize(
    ("name", "given", "missing"),
    [
        ("refuse", {"reason": "不属于本局职责"}, {"referral": "请告知投诉人应向哪里反映"}),
        ("issue_order", {"opinion": "请核实", "window": None}, {"window": "请选择责任窗口"}),
        ("follow_up", {"method": "电话", "result": "很好"}, {"result": "请选择回访结果"}),
        ("answer_opinion", {"reply": "已转", "disposition": "转有关职能部门"}, {"referral": "请写明转交的职能部门"}),
        ("answer_opinion", {"reply": "已采纳", "disposition": "作为整改参考"}, {}),
        ("unsatisfied", {"reason": "  "}, {"reason": "请写明不满意的理由"}),
        ("record_handling", {"handling": ""}, {"handling": "请填写处理结果"}),
        ("record_handling", {"handling": "已处理"}, {}),
        ("withdraw", {}, {}),
    ],
)
def test_missing_inputs_are_named_with_their_messages(name: str, given: dict, missing: dict) -> None:
    assert states.TRANSITIONS[name].missing(given) == missing


def test_available_lists_a_roles_buttons_in_table_order() -> None:
    assert [t.name for t in states.available("received", "intake")] == ["refuse", "coordinate", "settle", "file",
                                                                         "opinion"]  # fmt: skip
    assert [t.name for t in states.available("replied", "citizen")] == ["satisfied", "unsatisfied"]
    assert [t.name for t in states.available("received", "citizen")] == ["withdraw"]
    assert states.available("closed", "supervisor") == []
