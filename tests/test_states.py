"""The transition table itself: every state reachable, every entry consistent, refusals that say why."""

from __future__ import annotations

import pytest

from core.vocab import CATEGORIES, STAFF_ROLES
from forms_api import states
from forms_api.errors import TransitionRefused

ROLES = {*STAFF_ROLES, "citizen", "system"}


def _reachable() -> set[str]:
    """States reachable from a new case by following the table."""
    seen, todo = {states.INITIAL}, [states.INITIAL]
    while todo:
        state = todo.pop()
        for t in states.TRANSITIONS.values():
            targets = {t.target, t.effect.limit_target} if t.effect.limit else {t.target}
            for target in targets - seen if state in t.sources else set():
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
    needed = {i.name for i in transition.inputs} | set(transition.optional)
    effect = transition.effect
    uses = {effect.resolution, effect.referral, effect.locate} - {None}
    if effect.deadline and effect.deadline.source == "input":
        uses.add(effect.deadline.name)
    assert uses <= needed, f"the effect reads inputs the entry does not ask for: {uses - needed}"
    if "citizen" in transition.roles:
        assert transition.done, "a citizen's own action answers with a message"


REFUSED = [
    ("file", "received", "supervisor", "您的角色不能执行「立案处理」"),
    ("issue_order", "received", "supervisor", "案件当前状态为「已受理」，不能执行「签发督办单」"),
    ("withdraw", "supervising", "citizen", "案件当前状态为「督办中」，不能执行「自愿撤销」"),
    ("record_handling", "supervising", "auditor", "您的角色不能执行「登记处理结果」"),
    ("reply", "closed", "supervisor", "案件当前状态为「已办结」，不能执行「答复投诉人」"),
    ("satisfied", "handled", "citizen", "案件当前状态为「窗口已处理」，不能执行「满意」"),
    ("open_rectification", "received", "intake", "您的角色不能执行「差评自动立案整改」"),
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
        ("issue_order", {"opinion": "请核实", "days": None}, {"days": "请填写答复期限", "window": "请选择责任窗口"}),
        ("record_handling", {"handling": ""}, {"handling": "请填写处理结果"}),
        ("record_handling", {"handling": "已处理"}, {}),
        ("withdraw", {}, {}),
    ],
)
def test_missing_inputs_are_named_with_their_messages(name: str, given: dict, missing: dict) -> None:
    assert states.TRANSITIONS[name].missing(given) == missing


def test_available_lists_a_roles_buttons_in_table_order() -> None:
    assert [t.name for t in states.available("received", "intake")] == ["refuse", "settle", "file", "opinion"]
    assert [t.name for t in states.available("received", "citizen")] == ["withdraw"]
    assert states.available("closed", "supervisor") == []
